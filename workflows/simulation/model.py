"""The discrete-event model of the post (SimPy): consignments walk the real `InspectionFlow` graph, node by node.

- A human task waits for a person of the step's role (`inspection.roles.STEP_ROLES`) during opening hours, then
  takes the step's service time; identity and physical checks wait for the goods to arrive (documentary checks
  may start at pre-notification).
- A gateway asks `CONDITIONS[its method's name]` of the consignment's draws (checks selected at the catalogue's
  rates, shares of unsatisfactory checks, samples, results); a ForEach makes one token per item
  (`ITEMS[its data source's name]`), the Join lets the last one go on; a lab wait takes the lab turnaround.
- Functions and jobs take no time; boundary timers (deadlines, escalations) are not modelled.

A gateway, data source or node kind that the model does not know stops it before it runs
(`SimulationError`): when the flow changes, the simulation follows or says what it must be taught."""

import dataclasses
import datetime
import math

import numpy as np
import simpy

from inspection.roles import STEP_ROLES, Step
from inspection.working_days import non_working_days

from ..engine.graph import GraphNode
from .scenario import Duration, Scenario

LOGNORMAL_SIGMA = 0.5  # spread of a lognormal duration around its mean (coefficient of variation about 0.53)


class SimulationError(RuntimeError):
    """The flow has a part the simulator cannot decide."""


@dataclasses.dataclass
class Goods:
    """One simulated consignment: its arrival, what was drawn for it, and what has happened to it."""

    number: int
    arrival: float  # hours from the start
    identity_selected: bool
    physical_selected: bool
    documentary_ok: bool
    identity_ok: bool
    physical_ok: bool
    detained: int  # samples the consignment waits for
    released: int  # samples taken, the goods released pending their result
    lab_ok: bool
    channelled: bool
    done: set = dataclasses.field(default_factory=set)
    started: dict = dataclasses.field(default_factory=dict)  # node name: when a person started it (the last time)
    decided_at: float | None = None

    @property
    def checks_ok(self) -> bool:
        return (
            self.documentary_ok
            and (self.identity_ok or Step.IDENTITY_CHECK not in self.done)
            and (self.physical_ok or Step.PHYSICAL_CHECK not in self.done)
        )

    @property
    def refused(self) -> bool:
        return not self.checks_ok or (self.detained > 0 and not self.lab_ok)


# The flow's gateway methods (workflows/flows.py), as the simulator decides them for a consignment.
CONDITIONS = {
    "needs_identity_check": lambda g: g.checks_ok and g.identity_selected and Step.IDENTITY_CHECK not in g.done,
    "needs_physical_check": lambda g: g.checks_ok and g.physical_selected and Step.PHYSICAL_CHECK not in g.done,
    "has_detained_samples": lambda g: g.detained > 0,
    "is_refusal": lambda g: g.refused,
    "is_countersigned": lambda g: True,  # a refusal the supervisor sends back is not modelled
    "is_follow_up_needed": lambda g: g.refused or g.channelled,
    "is_arrival_expected": lambda g: g.channelled and not g.refused,  # asked first: their Part III is the arrival
    "is_recall": lambda g: False,  # an unfavourable result after release is not modelled
    # reached only from a late result's escalation (a boundary timer): not modelled
    "is_result_still_awaited": lambda g: False,
}
# The flow's ForEach data sources: how many tokens each makes.
ITEMS = {"released_samples": lambda g: g.released, "detained_samples": lambda g: g.detained}
# Steps that handle the goods themselves: not before they arrive (docs/regulation.md, "Order and time").
ON_THE_GOODS = {Step.IDENTITY_CHECK, Step.PHYSICAL_CHECK}


@dataclasses.dataclass
class _Split:
    remaining: int
    parent: "_Split | None"


class Calendar:
    """When the post works: opening hours on working days (every day when arrivals come every day)."""

    def __init__(self, scenario: Scenario, *, days: int, hours=None):
        self.hours = hours or scenario.opening_hours
        closed = non_working_days(scenario.start, scenario.start + datetime.timedelta(days=days))
        self.working = [
            not scenario.working_days_only
            or ((day := scenario.start + datetime.timedelta(days=i)).weekday() < 5 and day not in closed)
            for i in range(days + 1)
        ]

    def is_working_day(self, day: int) -> bool:
        return day < len(self.working) and self.working[day]

    def next_open(self, t: float) -> float:
        """The first moment from `t` on when the post works."""
        day = int(t // 24)
        while day < len(self.working):
            if self.working[day]:
                start, end = day * 24 + self.hours.start, day * 24 + self.hours.end
                if t < end:
                    return max(t, start)
            day += 1
        return t  # past the calendar: the backlog is worked off around the clock

    def open_hours(self, days: int) -> float:
        return sum(self.hours.end - self.hours.start for day in range(days) if self.is_working_day(day))


class PostModel:
    """One run of a scenario: `run()` returns the records `report.summarise` reads."""

    def __init__(self, scenario: Scenario, graph: dict[str, GraphNode], catalogue: "Catalogue", progress=None):
        self.scenario = scenario
        self.progress = progress  # called with the share of the period simulated, once a simulated week
        self.graph = graph
        self.catalogue = catalogue
        self.start_node = _check(graph, scenario)
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(scenario.seed)
        self.calendar = Calendar(scenario, days=scenario.days + 366)
        # a role on its own hours (`staff_hours`) works on the post's days
        self.rosters = {
            role: Calendar(scenario, days=scenario.days + 366, hours=hours)
            for role, hours in scenario.staff_hours.items()
        }
        self.staff = {role: simpy.Resource(self.env, capacity=n) for role, n in scenario.staff.items()}
        self.waits: dict[str, list[float]] = {}
        self.busy: dict[str, float] = dict.fromkeys(scenario.staff, 0.0)
        self.queue_samples: dict[str, list[int]] = {role: [] for role in scenario.staff}
        self.goods: list[Goods] = []

    # ---- draws
    def _duration(self, duration: Duration, *, scale: float = 1.0) -> float:
        mean = duration.mean * scale
        if duration.distribution == "fixed":
            return mean
        if duration.distribution == "lognormal":
            return float(self.rng.lognormal(math.log(mean) - LOGNORMAL_SIGMA**2 / 2, LOGNORMAL_SIGMA))
        return float(self.rng.exponential(mean))

    def _draw(self, number: int, arrival: float) -> Goods:
        shares, rng = self.scenario.shares, self.rng
        identity_rate, physical_rate = self.catalogue.rates(rng)
        physical = rng.random() * 100 < physical_rate
        sampled = physical and rng.random() < shares["sampled"]
        detained = sampled and rng.random() < shares["detained"]
        return Goods(
            number=number,
            arrival=arrival,
            identity_selected=physical or rng.random() * 100 < identity_rate,
            physical_selected=physical,
            documentary_ok=rng.random() >= shares["documentary_unsatisfactory"],
            identity_ok=rng.random() >= shares["identity_unsatisfactory"],
            physical_ok=rng.random() >= shares["physical_unsatisfactory"],
            detained=int(detained),
            released=int(sampled and not detained),
            lab_ok=rng.random() >= shares["lab_unfavourable"],
            channelled=rng.random() < shares["channelled"],
        )

    def arrival_times(self) -> list[float]:
        scenario = self.scenario
        if scenario.arrival_times is not None:
            return [t for t in scenario.arrival_times if 0 <= t < scenario.days * 24]
        times = []
        span = scenario.arrival_hours
        for day in range(scenario.days):
            date = scenario.start + datetime.timedelta(days=day)
            season = scenario.seasonality.get(date.month, 1.0)
            if self.calendar.is_working_day(day):
                count = self.rng.poisson(scenario.per_day * season)
                times.extend(day * 24 + self.rng.uniform(span.start, span.end, size=count))
            for batch in scenario.batches:  # a ship or a flight, whatever the day: its consignments arrive together
                if date.weekday() in batch.weekdays:
                    times.extend([day * 24 + batch.hour] * self.rng.poisson(batch.per_call * season))
        return sorted(float(t) for t in times)

    # ---- processes
    def _arrivals(self):
        for number, arrival in enumerate(self.arrival_times()):
            submitted = max(0.0, arrival - self.scenario.prenotification_hours)
            if submitted > self.env.now:
                yield self.env.timeout(submitted - self.env.now)
            goods = self._draw(number, arrival)
            self.goods.append(goods)
            self.env.process(self._walk(goods, self.start_node, None))

    def _monitor(self):
        for hour in range(self.scenario.days * 24):
            for role, resource in self.staff.items():
                self.queue_samples[role].append(len(resource.queue))
            if self.progress and hour % (24 * 7) == 0:
                self.progress(hour / (self.scenario.days * 24))
            yield self.env.timeout(1)

    def _perform(self, goods: Goods, node: GraphNode):
        step = Step(node.step)
        if step in ON_THE_GOODS and self.env.now < goods.arrival:
            yield self.env.timeout(goods.arrival - self.env.now)
        ready = self.env.now
        role = STEP_ROLES[step]
        with self.staff[role].request() as turn:
            yield turn
            opens = self.rosters.get(role, self.calendar).next_open(self.env.now)
            if opens > self.env.now:
                yield self.env.timeout(opens - self.env.now)
            self.waits.setdefault(node.name, []).append(self.env.now - ready)
            goods.started[node.name] = self.env.now
            service = self._duration(self.scenario.service_minutes[step], scale=1 / 60)
            # the work done within the period (a backlog worked off after it is not the period's)
            horizon = self.scenario.days * 24
            self.busy[role] += max(0.0, min(self.env.now + service, horizon) - min(self.env.now, horizon))
            yield self.env.timeout(service)
        goods.done.add(step)
        if step == Step.DECISION:
            goods.decided_at = self.env.now

    def _walk(self, goods: Goods, name: str, split: _Split | None):
        while True:
            node = self.graph[name]
            if node.kind == "task":
                yield from self._perform(goods, node)
            elif node.kind == "handle":
                yield self.env.timeout(self._duration(self.scenario.lab_turnaround_hours))
            elif node.kind == "join":
                split.remaining -= 1
                if split.remaining:
                    return
                split = split.parent
            elif node.kind == "foreach":
                child = _Split(0, split)
                for branch in node.branches:
                    if branch.condition is not None:
                        count = ITEMS[branch.condition](goods)
                        child.remaining += count
                        for _ in range(count):
                            self.env.process(self._walk(goods, branch.target, child))
                always = [branch.target for branch in node.branches if branch.condition is None]
                if not always:
                    return
                name = always[0]
                continue
            elif node.kind == "end":
                return
            name = _next(goods, node)

    def run(self) -> "PostModel":
        self.env.process(self._arrivals())
        self.env.process(self._monitor())
        self.env.run()
        return self


def _next(goods: Goods, node: GraphNode) -> str:
    if node.kind == "if":
        then, otherwise = node.branches
        return then.target if CONDITIONS[then.condition](goods) else otherwise.target
    if node.kind == "switch":
        return next(b.target for b in node.branches if b.condition is None or CONDITIONS[b.condition](goods))
    return node.branches[0].target


ARRIVAL_START = "submit"


def _check(graph: dict[str, GraphNode], scenario: Scenario) -> str:
    """The start node, once every part of the graph is known to the model."""
    starts = [node.name for node in graph.values() if node.kind == "start"]
    # an arrival is a submitted Part I; the other starts (a part of a split consignment, which starts at its
    # decision) come from consignments already in the flow, which the simulator does not split
    if ARRIVAL_START in starts:
        starts = [ARRIVAL_START]
    if len(starts) != 1:
        raise SimulationError(f"the flow has {len(starts)} start nodes; the simulator follows one")
    for node in graph.values():
        for branch in node.branches:
            known = ITEMS if node.kind == "foreach" else CONDITIONS
            if branch.condition is not None and branch.condition not in known:
                raise SimulationError(
                    f"the flow's {node.kind} `{node.name}` asks `{branch.condition}`, which the simulator cannot "
                    "decide: add it to workflows/simulation/model.py"
                )
        if node.kind == "task":
            role = STEP_ROLES.get(node.step)
            if role is None or role not in scenario.staff:
                raise SimulationError(f"the flow's task `{node.name}` needs a {role or node.step}: give it staff")
    return starts[0]


class Catalogue:
    """The check rates a consignment of the scenario's mix is drawn with: a commodity of the catalogue in force
    (raised by the reinforced rules that hold for every origin), or the scenario's own rates."""

    def __init__(self, scenario: Scenario, rows: list[tuple[str, str, int, int]]):
        # rows: (CHED type code, CN code, identity rate, physical rate)
        self.fixed = scenario.check_rates
        self.choices: list[list[tuple[int, int]]] = []
        weights = []
        mix = scenario.mix or _even_mix(rows)
        for key, share in mix.items():
            matches = [(i, p) for ched, cn, i, p in rows if key == ched or (key.isdigit() and cn.startswith(key))]
            if not matches and self.fixed is None:
                raise SimulationError(f"arrivals.mix: {key!r} is no CHED type or CN code of the catalogue in force")
            self.choices.append(matches or [(0, 0)])
            weights.append(share)
        total = sum(weights)
        self.weights = [w / total for w in weights]

    def rates(self, rng) -> tuple[int, int]:
        if self.fixed is not None:
            return self.fixed["identity"], self.fixed["physical"]
        group = self.choices[rng.choice(len(self.choices), p=self.weights)]
        return group[rng.integers(len(group))]


def _even_mix(rows) -> dict[str, float]:
    types = sorted({ched for ched, *_ in rows})
    if not types:
        raise SimulationError("the commodity catalogue is empty: load the reference data (migrate) first")
    return dict.fromkeys(types, 1.0)
