"""The plant-health import regime of Martinique (docs/regulation.md, section 3): Martinique is outside the
Union plant-health territory (Regulation (EU) 2016/2031, art. 1(3)), so what a plant, plant product or other
object needs on entry is set by the French national texts for the overseas departments (arrêté du 3 septembre
1990 and the texts that derogate from it), read from the `PlantHealthRequirement` table: prohibited, a
phytosanitary certificate and a check at the post, or nothing. It governs CHED-PP (third countries) and the
national plant-health entry NAT-PP (mainland France and the other Member States)."""

import datetime

from inspection.models import PlantHealthRequirement

GOVERNED = frozenset({"CHED-PP", "NAT-PP"})
CERTIFICATE = "PHYTOSANITARY_CERTIFICATE"


def requirements(on: datetime.date) -> list[PlantHealthRequirement]:
    return list(PlantHealthRequirement.objects.in_force(on))


def requirement_for(
    rules: list[PlantHealthRequirement], *, origin: str, union: bool, cn_code: str, documents: set[str]
) -> PlantHealthRequirement | None:
    """The row that governs a commodity line: a prohibition that no document given lifts, else the most specific
    row (the longest CN prefix). None: no row covers the goods (the type's required documents apply)."""
    covering = sorted(
        (r for r in rules if r.covers(origin=origin, union=union, cn_code=cn_code)),
        key=lambda r: len(r.cn_prefix),
        reverse=True,
    )
    prohibited = PlantHealthRequirement.Requirement.PROHIBITED
    for rule in covering:
        if rule.requirement == prohibited and not (rule.lifted_by and rule.lifted_by in documents):
            return rule
    return next((rule for rule in covering if rule.requirement != prohibited), None)
