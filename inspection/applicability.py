"""What applies to a consignment of a given CHED type: the decisions, measures, refusal reasons and analyses
an officer may choose, the fields each decision requires, the Part III outcomes each measure allows, and the
checks whose result forbids an acceptable decision (docs/regulation.md). The forms offer only these; the
services refuse anything else."""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from inspection.models import (
    Analysis,
    CheckResult,
    Consignment,
    DecisionCode,
    DocumentaryCheck,
    FollowUp,
    IdentityCheck,
    Measure,
    PhysicalCheck,
    RefusalReason,
    Sample,
    Succession,
)

# The `Decision` fields a decision code may require (`DecisionCode.requires`).
DECISION_DETAILS = (
    "exit_bcp",
    "destination_country",
    "destination",
    "warehouse",
    "control_point",
    "control_point_code",
    "next_bcp",
    "onward_facility",
    "arrival_point",
)

# The acceptable decisions whose goods travel on under control, and the Part III outcomes that close them: a
# channelled consignment's arrival at destination (Delegated Regulation (EU) 2019/2124, art. 5); for a transfer
# to a control point or an onward transportation (CHED-PP, CHED-D), whether the goods arrived, yes or no
# (Implementing Regulation (EU) 2019/1715, Annex II, Part III; 2019/2124 art. 7: arrival confirmed within
# 15 days, else the BCP investigates).
ARRIVAL_OUTCOMES = {
    "acceptable_if_channelled": (FollowUp.Outcome.ARRIVED,),
    "acceptable_for_transfer": (FollowUp.Outcome.ARRIVED, FollowUp.Outcome.NOT_ARRIVED),
    "acceptable_for_onward_transportation": (FollowUp.Outcome.ARRIVED, FollowUp.Outcome.NOT_ARRIVED),
    # the approved warehouse checks the goods' identity on arrival, recorded in Part III (2019/2124 art. 26(c))
    "acceptable_for_specific_warehouse": (FollowUp.Outcome.ARRIVED, FollowUp.Outcome.NOT_ARRIVED),
}


def for_ched_type(queryset: QuerySet, ched_type_id: int) -> QuerySet:
    """The rows of `queryset` (a model with `ched_types`) that apply to this CHED type: those naming it, and
    those naming none."""
    named = queryset.model.ched_types.through.objects.filter(
        **{f"{queryset.model._meta.model_name}_id": OuterRef("pk")}
    )
    return queryset.filter(Q(~Exists(named)) | Q(Exists(named.filter(chedtype_id=ched_type_id))))


def decision_codes_for(ched_type_id: int, on: datetime.date) -> QuerySet:
    return for_ched_type(DecisionCode.objects.in_force(on), ched_type_id)


def measures_for(ched_type_id: int, on: datetime.date) -> QuerySet:
    return for_ched_type(Measure.objects.in_force(on), ched_type_id)


def refusal_reasons_for(ched_type_id: int, on: datetime.date) -> QuerySet:
    return for_ched_type(RefusalReason.objects.in_force(on), ched_type_id)


def analyses_for(ched_type_id: int, cn_codes: list[str], on: datetime.date) -> list[Analysis]:
    """The analyses for this CHED type whose CN code prefixes (if any) match one of the consignment's lines
    (histamine for fishery products only)."""
    return [
        analysis
        for analysis in for_ched_type(Analysis.objects.in_force(on), ched_type_id)
        if not analysis.cn_prefixes.split()
        or any(code.startswith(prefix) for code in cn_codes for prefix in analysis.cn_prefixes.split())
    ]


def analyses_for_consignment(consignment: Consignment, on: datetime.date) -> list[Analysis]:
    """`analyses_for` the consignment's CHED type and the CN codes of its lines (one query for the lines)."""
    cn_codes = list(consignment.lines.values_list("cn_code", flat=True))
    return analyses_for(consignment.ched_type_id, cn_codes, on)


def outcomes_for(*, code: str, measure: Measure | None) -> list[str]:
    """The Part III outcomes that close a decision of this `code`: arrival (`ARRIVAL_OUTCOMES`) for goods that
    travel on under control, the measure's own outcomes for a refused one."""
    if code in ARRIVAL_OUTCOMES:
        return list(ARRIVAL_OUTCOMES[code])
    return list(measure.outcomes) if measure is not None else []


def checked_as(consignment: Consignment) -> list[int]:
    """The consignments whose checks and samples are this one's: itself and, for a part of a split consignment,
    the consignment it was split from (and up, while that is itself a part). A part has no checks of its own:
    it was checked as the consignment was (Implementing Regulation (EU) 2019/1715, Annex II, box II.1), so what
    forbids accepting that consignment forbids accepting each of its parts. One query per level above."""
    pks = [consignment.pk]
    succession, previous = consignment.succession, consignment.previous_id
    while succession == Succession.SPLIT_PART and previous is not None and previous not in pks:
        pks.append(previous)
        succession, previous = Consignment.objects.filter(pk=previous).values_list("succession", "previous_id").get()
    return pks


def acceptance_blockers(consignment: Consignment) -> tuple[list[str], str | None]:
    """What forbids accepting the consignment: the checks (`documentary`, `identity`, `physical`) whose result
    was not satisfactory, and the number of a sample whose result was not, of the consignment and of what it
    was split from (`checked_as`). One query, and one per split above."""
    failed = {
        "documentary": DocumentaryCheck,
        "identity": IdentityCheck,
        "physical": PhysicalCheck,
    }
    checked = checked_as(consignment)
    failed_sample = Sample.objects.filter(consignment__in=checked, result__isnull=False).exclude(
        result__conclusion="satisfactory"
    )
    row = (
        Consignment.objects.filter(pk=consignment.pk)
        .values(
            sample=Subquery(failed_sample.order_by("pk").values("number")[:1]),
            **{
                step: Exists(model.objects.filter(consignment__in=checked, result=CheckResult.NOT_SATISFACTORY))
                for step, model in failed.items()
            },
        )
        .get()
    )
    return [step for step in failed if row[step]], row["sample"]
