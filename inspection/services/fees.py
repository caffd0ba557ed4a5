"""Fees for the official controls of a consignment (Regulation (EU) 2017/625, art. 79): the statement the post
draws from the schedule in force (`FeeRate`) when the officer decides, inside the decision's transaction.

- CHED-A and CHED-P: the rates of Annex IV, Chapter II, by category (points I to VI, from the lines' CN
  codes) and weight band; a consignment accepted for transit pays point VII instead.
- CHED-D, CHED-PP and the national plant-health entry: charged at cost (art. 79(2)(a), art. 82), per check
  done, at the rates the competent authority sets in the schedule (none seeded: docs/regulation.md, section 10).
A consignment whose lines fall in several categories pays the highest of their amounts (one fee a
consignment, Annex IV). A part of a consignment split at the post pays its share, by weight, of the fees of the
consignment presented (its checks are that consignment's: docs/regulation.md, section 10, F5). Amounts are in
euros, rounded to the cent."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from inspection.models import (
    CommodityLine,
    Consignment,
    DocumentaryCheck,
    FeeCategory,
    FeeCheck,
    FeeRate,
    IdentityCheck,
    PhysicalCheck,
    Succession,
)

C = FeeCategory
CENT = Decimal("0.01")
TONNE_KG = Decimal(1000)

# Annex IV, Chapter II, point I(a): bovine animals, equidae, pigs, sheep, goats, poultry, rabbits (CN 0101 to
# 0105, 0106 14); every other live animal is point I(b).
LISTED_LIVE_ANIMALS = ("0101", "0102", "0103", "0104", "0105", "010614")
# Points II to VI by the CN code of the line (the first prefix that matches); anything else of animal origin
# is point V, "other products of animal origin for human consumption".
PRODUCT_CATEGORIES = (
    (("0207", "0208", "0210", "1601", "1602", "1603"), C.MEAT_PRODUCTS),
    (("02",), C.MEAT),
    (("03", "1604", "1605"), C.FISHERY_PRODUCTS),
    (("05", "23", "41", "43", "51"), C.ANIMAL_BY_PRODUCTS),
)
AT_COST_TYPES = ("CHED-D", "CHED-PP", "NAT-PP")
TRANSIT_DECISIONS = ("acceptable_for_transit",)


def _line_category(ched_type: str, cn_code: str) -> str:
    if ched_type == "CHED-A":
        return C.LIVE_ANIMALS_LISTED if cn_code.startswith(LISTED_LIVE_ANIMALS) else C.LIVE_ANIMALS_OTHER
    for prefixes, category in PRODUCT_CATEGORIES:
        if cn_code.startswith(prefixes):
            return category
    return C.OTHER_ANIMAL_PRODUCTS


def consignment_weight_tonnes(consignment: Consignment, lines: list | None = None) -> Decimal:
    """The weight the rates apply to: the declared total gross weight (box I.34), or the lines' net weights
    when it is not declared (docs/regulation.md, section 10, F2)."""
    kilograms = consignment.total_gross_weight_kg
    if kilograms is None:
        lines = consignment.lines.all() if lines is None else lines
        kilograms = sum((line.net_weight_kg or Decimal(0) for line in lines), Decimal(0))
    return (Decimal(kilograms) / TONNE_KG).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _amount(rate: FeeRate, tonnes: Decimal, count: int = 1) -> Decimal:
    return ((rate.fixed_eur + rate.per_tonne_eur * tonnes) * count).quantize(CENT, rounding=ROUND_HALF_UP)


def _line(rate: FeeRate, tonnes: Decimal, count: int = 1) -> dict:
    return {
        "category": rate.category,
        "charges": rate.charges,
        "label_fr": rate.name_fr,
        "label_en": rate.name_en,
        "fixed": str(rate.fixed_eur),
        "per_tonne": str(rate.per_tonne_eur),
        "tonnes": str(tonnes),
        "count": count,
        "amount": str(_amount(rate, tonnes, count)),
        "source": rate.source,
    }


def _banded(rates: list[FeeRate], tonnes: Decimal) -> FeeRate | None:
    """The rate of the first band that holds `tonnes` (the bands in increasing order, the open one last)."""
    ordered = sorted(rates, key=lambda r: (r.up_to_tonnes is None, r.up_to_tonnes or 0))
    return next((r for r in ordered if r.up_to_tonnes is None or tonnes <= r.up_to_tonnes), None)


def _checks_done(consignment: Consignment) -> dict[str, int]:
    """How many of each check were done, in one query."""
    done = (
        Consignment.objects.filter(pk=consignment.pk)
        .annotate(
            documentary=Exists(DocumentaryCheck.objects.filter(consignment=OuterRef("pk"))),
            identity=Exists(IdentityCheck.objects.filter(consignment=OuterRef("pk"))),
            physical=Exists(PhysicalCheck.objects.filter(consignment=OuterRef("pk"))),
            sample_count=Count("samples", distinct=True),
        )
        .values("documentary", "identity", "physical", "sample_count")
        .get()
    )
    return {
        FeeCheck.DOCUMENTARY: int(done["documentary"]),
        FeeCheck.IDENTITY: int(done["identity"]),
        FeeCheck.PHYSICAL: int(done["physical"]),
        FeeCheck.LABORATORY: done["sample_count"],
    }


def fee_lines(*, consignment: Consignment, decision_code: str, on) -> tuple[str, Decimal, list[dict]]:
    """The category, the weight and the lines of the consignment's fees under the schedule in force on `on`.
    Reads only (the schedule, the lines, and the checks done when a rate charges them): the caller stores them.
    A part of a split consignment: `_part_share`."""
    if consignment.succession == Succession.SPLIT_PART and consignment.previous_id is not None:
        return _part_share(consignment, decision_code=decision_code, on=on)
    # the lines and the CHED type's code in one read (a submitted CHED has at least one line)
    commodity_lines = list(
        CommodityLine.objects.filter(consignment_id=consignment.pk).select_related("consignment__ched_type")
    )
    ched_type = commodity_lines[0].consignment.ched_type.code if commodity_lines else consignment.ched_type.code
    rates = list(FeeRate.objects.in_force(on).filter(ched_type_id=consignment.ched_type_id))
    tonnes = consignment_weight_tonnes(consignment, commodity_lines)
    if ched_type in AT_COST_TYPES:
        at_cost = [r for r in rates if r.category == C.AT_COST]
        lines = []
        whole = _banded([r for r in at_cost if r.charges == FeeCheck.CONSIGNMENT], tonnes)
        if whole is not None:
            lines.append(_line(whole, tonnes))
        if any(r.charges != FeeCheck.CONSIGNMENT for r in at_cost):
            for check, count in _checks_done(consignment).items():
                rate = _banded([r for r in at_cost if r.charges == check], tonnes)
                if rate is not None and count:
                    lines.append(_line(rate, tonnes, count))
        return C.AT_COST, tonnes, lines
    if decision_code in TRANSIT_DECISIONS:
        categories = [C.TRANSIT]
    else:
        categories = list(dict.fromkeys(_line_category(ched_type, line.cn_code) for line in commodity_lines))
    best: tuple[str, dict] | None = None
    for category in categories:
        rate = _banded([r for r in rates if r.category == category and r.charges == FeeCheck.CONSIGNMENT], tonnes)
        if rate is not None:
            line = _line(rate, tonnes)
            if best is None or Decimal(line["amount"]) > Decimal(best[1]["amount"]):
                best = (category, line)
    if best is None:
        return (categories[0] if categories else C.OTHER_ANIMAL_PRODUCTS), tonnes, []
    return best[0], tonnes, [best[1]]


def _part_share(part: Consignment, *, decision_code: str, on) -> tuple[str, Decimal, list[dict]]:
    """A part of a consignment split at the post: one fee a consignment presented (Annex IV), so the part pays the
    share of the presented consignment's fees (its category, its weight band, the checks done on it) that its
    weight is of that consignment's; each line says the share and the whole amount."""
    presented = Consignment.objects.get(pk=part.previous_id)
    category, whole_tonnes, lines = fee_lines(consignment=presented, decision_code=decision_code, on=on)
    tonnes = consignment_weight_tonnes(part)
    shared = []
    for line in lines:
        amount = Decimal(line["amount"]) * tonnes / whole_tonnes if whole_tonnes else Decimal(0)
        shared.append(
            {
                **line,
                "presented": presented.reference,
                "share": str((tonnes / whole_tonnes).quantize(Decimal("0.0001")) if whole_tonnes else Decimal(0)),
                "whole_amount": line["amount"],
                "amount": str(amount.quantize(CENT, rounding=ROUND_HALF_UP)),
            }
        )
    return category, tonnes, shared


def fee_statement(*, consignment: Consignment, decision_code: str) -> dict:
    """The fee statement of the decision about to be recorded, as the `Decision` fields that hold it
    (`fee_category`, `fee_weight_tonnes`, `fee_lines`, `fee_total_eur`): `decision_record` stores them with the
    decision, in the same row and transaction, and its audit event carries the total. Two reads (three when a
    rate charges per check done)."""
    category, tonnes, lines = fee_lines(consignment=consignment, decision_code=decision_code, on=timezone.localdate())
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0)).quantize(CENT)
    return {"fee_category": category, "fee_weight_tonnes": tonnes, "fee_lines": lines, "fee_total_eur": total}
