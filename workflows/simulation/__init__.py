"""The capacity simulator: a year (or any period) of arrivals replayed through the real inspection flow, to size
the post before it opens (`python manage.py simulate`; README, "Sizing the post").

- `scenario`: what arrives, who works when, how long steps take (JSON, every key optional);
- `model`: the discrete-event model walking `InspectionFlow`'s graph (`workflows.engine.graph`);
- `report`: the summary (`summary.json`), the plots and `report.html`."""

import dataclasses

from django.db.models import Count

from inspection.models import Commodity, Consignment, ReinforcedCheckRule

from ..engine.graph import flow_graph
from .model import Catalogue, PostModel, SimulationError
from .scenario import Scenario, ScenarioInvalid, scenario_from, scenario_read

__all__ = [
    "Scenario",
    "ScenarioInvalid",
    "SimulationError",
    "scenario_from",
    "scenario_read",
    "simulate",
    "simulate_staffing",
]


def catalogue_rows(scenario: Scenario) -> list[tuple[str, str, int, int]]:
    """(CHED type, CN code, identity rate, physical rate) of every commodity in force at the scenario's start: the
    catalogue's rates, or those of the reinforced rules for every origin that set them (as `risk.check_rates`
    does; rules for one origin and intensified controls are not drawn)."""
    rules = list(ReinforcedCheckRule.objects.in_force(scenario.start).filter(country="").select_related("ched_type"))
    rows = []
    commodities = Commodity.objects.in_force(scenario.start).select_related("ched_type")
    for commodity in commodities.prefetch_related("ched_type__catalogue_borrowers"):
        # a type that borrows this catalogue (NAT-PP takes CHED-PP's) draws its goods too, under its own rules
        for ched_type in (commodity.ched_type, *commodity.ched_type.catalogue_borrowers.all()):
            ruling = [r for r in rules if r.ched_type_id == ched_type.pk and r.covers(commodity.cn_code)]
            identity = max((r.identity_rate for r in ruling), default=commodity.identity_rate)
            physical = max((r.physical_rate for r in ruling), default=commodity.physical_rate)
            rows.append((ched_type.code, commodity.cn_code, identity, physical))
    return rows


def history_mix() -> dict[str, float]:
    """The post's own mix of CHED types, from the consignments submitted so far (empty before the first)."""
    counts = Consignment.objects.exclude(submitted_at=None).values("ched_type__code").annotate(n=Count("pk")).order_by()
    return {row["ched_type__code"]: float(row["n"]) for row in counts}


def simulate(scenario: Scenario, *, progress=None) -> PostModel:
    """Run `scenario` through `InspectionFlow` and return the finished model (`report.summarise` reads it)."""
    from workflows.flows import InspectionFlow

    if not scenario.mix:
        mix = history_mix()
        if mix:
            scenario = dataclasses.replace(scenario, mix=mix)
    catalogue = Catalogue(scenario, catalogue_rows(scenario))
    return PostModel(scenario, flow_graph(InspectionFlow), catalogue, progress=progress).run()


def simulate_staffing(base: Scenario, role: str | None, counts: list, *, progress=None) -> list[PostModel]:
    """One run per staff count of `role` (`counts`; `[None]` with no role: the scenario as it is), in order.
    `progress(done, index)` is told the share of each run simulated."""
    models = []
    for index, count in enumerate(counts):
        scenario = base if count is None else dataclasses.replace(base, staff={**base.staff, role: count})
        tell = None if progress is None else (lambda done, i=index: progress(done, i))
        models.append(simulate(scenario, progress=tell))
    return models
