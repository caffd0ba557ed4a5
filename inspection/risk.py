"""Risk-based selection of identity and physical checks: Regulation (EU) 2017/625 arts 49 and 54, Implementing
Regulation (EU) 2019/2129 (frequency rates), Implementing Regulation (EU) 2019/2130 (conduct of the checks) and
Implementing Regulation (EU) 2019/1793 (increased controls on food and feed of non-animal origin), raised by the
intensified controls opened after an unfavourable result (Regulation (EU) 2017/625, art. 65; Implementing
Regulation (EU) 2019/1873).

Every consignment gets a documentary check; identity and physical checks are drawn at the frequency rate that
applies. The draw is a keyed hash of the CHED reference, so anyone holding the key can re-run a selection and
get the same answer, while an importer cannot predict it. Pure logic and reads: the plan is stored by
`inspection.services.checks.check_plan_record`.
"""

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from inspection.models import CheckPlan, Consignment, IntensifiedControl, ReinforcedCheckRule, Succession

# A line that matches no catalogue entry gets every check: unknown goods are no reason to check less.
UNKNOWN_COMMODITY_RATE = 100
DRAW_KINDS = ("identity", "physical")


@dataclass(frozen=True)
class CheckSelection:
    rule: str
    identity_rate: int
    physical_rate: int
    identity_draw: float
    physical_draw: float
    identity_selected: bool
    physical_selected: bool


@dataclass(frozen=True)
class _RateSource:
    label: str
    identity_rate: int
    physical_rate: int

    def __str__(self):
        return f"{self.label} (identity {self.identity_rate} %, physical {self.physical_rate} %)"


def _rule_label(rule: ReinforcedCheckRule) -> str:
    origin = rule.country or "any origin"
    goods = f"{rule.cn_prefix} TARIC {'/'.join(rule.taric.split())}" if rule.taric else f"{rule.cn_prefix}*"
    dispatch = f" dispatched from {rule.country_of_dispatch}" if rule.country_of_dispatch else ""
    return f"reinforced: {rule.legal_reference} – {rule.hazard}, {origin} {goods}{dispatch}"


def reinforced_rules(
    ched_type_id: int, origin: str, *, on: datetime.date, dispatch: str = ""
) -> list[ReinforcedCheckRule]:
    """The reinforced check rules in force on `on` for goods of this CHED type and origin (and every origin);
    a rule for goods dispatched from a given country (2019/1793, Annex II point 3) only when `dispatch` is it."""
    return list(
        ReinforcedCheckRule.objects.in_force(on).filter(
            ched_type_id=ched_type_id, country__in={"", origin}, country_of_dispatch__in={"", dispatch}
        )
    )


def _intensified_label(control: IntensifiedControl) -> str:
    consignor = f", {control.consignor_name}" if control.consignor_name else ""
    return (
        f"intensified: {control.legal_reference} – {control.hazard}, {control.country} {control.cn_prefix}*{consignor}"
    )


def intensified_controls(consignment: Consignment, *, on: datetime.date | None = None) -> list[IntensifiedControl]:
    """The intensified controls that cover goods of this consignment's CHED type, origin and consignor (or every
    consignor): opened by `on` and not ended by then, or open now when `on` is None. Their CN prefix is matched
    against the lines by the caller (`rules_for_line`). One query."""
    controls = IntensifiedControl.objects.filter(
        ched_type_id=consignment.ched_type_id, country=consignment.country_of_origin.code or ""
    )
    consignor = consignment.consignor_name.strip()
    controls = controls.filter(
        Q(consignor_name="") | Q(consignor_name__iexact=consignor) if consignor else Q(consignor_name="")
    )
    if on is None:
        return list(controls.filter(ended_at__isnull=True))
    return list(controls.filter(Q(ended_at__isnull=True) | Q(ended_at__date__gt=on), opened_at__date__lte=on))


def rules_for_line(rules: list[ReinforcedCheckRule], cn_code: str) -> list[ReinforcedCheckRule]:
    """The rules whose goods a line is: by CN prefix, and by TARIC subdivision for an "ex" code."""
    return [rule for rule in rules if rule.covers(cn_code)]


def check_rates(consignment: Consignment, *, on: datetime.date) -> tuple[str, int, int]:
    """The rule and the identity and physical check rates (integer percent) that apply to `consignment` on `on`.

    Each rate is the highest of: the rate of every reinforced check rule in force on `on` for the consignment's
    CHED type whose origin is empty or the consignment's country of origin and whose CN prefix starts a line's
    CN code (e.g. Implementing Regulation (EU) 2019/1793, Annexes I and II: one frequency for the identity and
    physical checks together), the catalogue rate of every line no rule sets (Implementing Regulations (EU)
    2019/2129 and 2019/2130; a line without a catalogue entry counts as 100 %), and the rate of every
    intensified control in force on `on` that covers a line (Regulation (EU) 2017/625, art. 65; Implementing
    Regulation (EU) 2019/1873: identity and physical checks on every consignment), which raises a rate and never
    lowers one. The rule names the sources that set the rates, intensified controls first. Three queries.
    """
    lines = list(consignment.lines.select_related("commodity"))
    origin = consignment.country_of_origin.code or ""
    rules = sorted(
        reinforced_rules(consignment.ched_type_id, origin, on=on, dispatch=consignment.country_of_dispatch.code or ""),
        key=lambda r: (r.cn_prefix, r.country, r.pk),
    )

    sources: list[_RateSource] = [
        _RateSource(_intensified_label(control), control.identity_rate, control.physical_rate)
        for control in sorted(intensified_controls(consignment, on=on), key=lambda c: (c.cn_prefix, c.pk))
        if any(line.cn_code.startswith(control.cn_prefix) for line in lines)
    ]
    ruled = set()  # the lines a rule sets the frequency of
    for rule in rules:
        matched = {i for i, line in enumerate(lines) if rule.covers(line.cn_code)}
        if matched:
            sources.append(_RateSource(_rule_label(rule), rule.identity_rate, rule.physical_rate))
            ruled |= matched
    for i, line in enumerate(lines):
        if i in ruled:
            continue
        if line.commodity is None:
            source = _RateSource(
                f"no catalogue entry for {line.cn_code or 'a line without CN code'}",
                UNKNOWN_COMMODITY_RATE,
                UNKNOWN_COMMODITY_RATE,
            )
        else:
            source = _RateSource(
                f"catalogue {line.commodity.cn_code}", line.commodity.identity_rate, line.commodity.physical_rate
            )
        if source not in sources:
            sources.append(source)
    if not sources:
        # Nothing declared to rate: check everything rather than nothing.
        sources.append(_RateSource("no commodity line", UNKNOWN_COMMODITY_RATE, UNKNOWN_COMMODITY_RATE))

    identity_rate = max(s.identity_rate for s in sources)
    physical_rate = max(s.physical_rate for s in sources)
    deciding = [s for s in sources if s.identity_rate == identity_rate or s.physical_rate == physical_rate]
    return "; ".join(str(s) for s in deciding), identity_rate, physical_rate


# The series a CHED number is drawn under, whatever its own (`PIF_REFERENCE_SERIES`): the draw belongs to the CHED
# (its type, year and number), not to the label of the series, so renaming the series redraws nothing. "FR" is
# the series the numbers had before they had their own: the draws of those CHEDs stay what they were.
DRAW_SERIES = "FR"


def risk_draw(*, reference: str, kind: str) -> float:
    """A number in [0, 1) for the `kind` check of the CHED `reference`: HMAC-SHA256 keyed with the
    SECRET_KEY over "<reference>:<kind>" (its series read as `DRAW_SERIES`), its first 8 bytes read as an
    unsigned big-endian integer / 2**64. Reproducible from the reference, not guessable without the key."""
    parts = reference.split(".")
    if len(parts) == 4:  # CHEDPP.MQ.2026.0000123
        reference = ".".join([parts[0], DRAW_SERIES, *parts[2:]])
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{reference}:{kind}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_selected(draw: float, rate: int) -> bool:
    """A check is selected when the draw falls under its rate: never at 0 %, always at 100 %."""
    return draw * 100 < rate


def drawn_as(consignment: Consignment) -> tuple[str, list[int]]:
    """The reference the checks of `consignment` are drawn under, and the CHEDs before it (nearest first): a
    replacement (or a part of a split consignment) is drawn as the first CHED of its line, so that replacing a
    CHED never redraws its selection. One query per CHED before it."""
    reference, before = consignment.reference, []
    succession, previous = consignment.succession, consignment.previous_id
    while succession in (Succession.REPLACEMENT, Succession.SPLIT_PART) and previous and previous not in before:
        before.append(previous)
        reference, succession, previous = (
            Consignment.objects.filter(pk=previous).values_list("reference", "succession", "previous_id").get()
        )
    return reference, before


def check_selection(consignment: Consignment, *, on: datetime.date) -> CheckSelection:
    """Which of the identity and physical checks `consignment` gets, with the rule, rates and draws that decided
    it (Regulations (EU) 2019/2129, 2019/2130 and 2019/1793). A physical check brings the identity check with
    it, whatever the identity draw. A replacement is drawn as the CHED it replaces and keeps every check
    selected on it (`drawn_as`): a corrected Part I adds checks, never removes one. A national entry (not a
    CHED) names its legal basis first: its rates are the catalogue's, under the national regime
    (docs/regulation.md, Assumptions)."""
    rule, identity_rate, physical_rate = check_rates(consignment, on=on)
    if not consignment.ched_type.is_ched:
        rule = f"{consignment.ched_type.legal_basis}; {rule}"
    reference, before = drawn_as(consignment)
    if reference != consignment.reference:
        rule = f"{rule}; drawn as {reference}"
    identity_draw, physical_draw = (risk_draw(reference=reference, kind=kind) for kind in DRAW_KINDS)
    physical_selected = is_selected(physical_draw, physical_rate)
    identity_selected = is_selected(identity_draw, identity_rate)
    # a check selected on a CHED before this one stays selected, whatever the corrected Part I's rates
    for plan in CheckPlan.objects.filter(consignment__in=before).select_related("consignment") if before else ():
        if plan.physical_selected and not physical_selected:
            physical_selected, rule = True, f"{rule}; physical check selected on {plan.consignment.reference}"
        if plan.identity_selected and not identity_selected:
            identity_selected, rule = True, f"{rule}; identity check selected on {plan.consignment.reference}"
    if physical_selected and not identity_selected:
        # goods are examined once they are known to be the goods declared (docs/regulation.md, "Order and time")
        identity_selected = True
        rule = f"{rule}; identity check with the physical check"
    return CheckSelection(
        rule=rule,
        identity_rate=identity_rate,
        physical_rate=physical_rate,
        identity_draw=identity_draw,
        physical_draw=physical_draw,
        identity_selected=identity_selected,
        physical_selected=physical_selected,
    )
