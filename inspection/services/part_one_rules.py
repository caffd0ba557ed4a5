"""CHED Part I: the rules a pre-notification must meet (`PartOneCheck`), against the reference data in force.

Part I travels as the dict of the public contract (`docs/api.md`: `ched_type`, `bcp`, `consignor`, ...), with
typed values (aware datetimes, Decimals, ints) as the API serializer or the portal form produced them.
"""

import datetime
import re
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django_countries import countries

from inspection import part_one_schema, plant_health
from inspection.certificates.boxes import BOXES, NATIONAL_MODELS, PURPOSE_BOXES
from inspection.models import (
    MAX_NUMBER_OF_ANIMALS,
    Bcp,
    ChedType,
    Commodity,
    DocumentType,
    PackageType,
    PlantHealthRequirement,
    Purpose,
    TransportMode,
)
from inspection.risk import reinforced_rules, rules_for_line
from inspection.services.prenotification import prenotification_deadline

# What each kind of BCP can physically receive: a port takes ships, an airport takes aircraft.
MODES_BY_BCP_KIND = {Bcp.Kind.PORT: {TransportMode.SEA}, Bcp.Kind.AIRPORT: {TransportMode.AIR}}
# CHED types whose lines must name the species (animals) or the plant's botanical name.
SPECIES_REQUIRED = {"CHED-A", "CHED-PP"}
# CHED types whose lines count heads (Implementing Regulation (EU) 2019/1715, Annex II, boxes I.31 and I.33).
ANIMALS_COUNTED = {"CHED-A"}
# Fields whose value checks are written by hand below (their own messages).
HAND_CHECKED = {"commodities.number_of_animals", "arrival.transport_mode"}
CONTAINER_NUMBER = re.compile(r"^[A-Z]{3}[UJZR]\d{7}$")
# What accompanies goods of Annex II of Implementing Regulation (EU) 2019/1793 (arts. 10 and 11).
ANNEX_II_DOCUMENTS = frozenset({"HEALTH_CERTIFICATE", "LABORATORY_ANALYSIS_REPORT"})
# The Member States (TEU, art. 52) and, under their own ISO codes, the outermost regions that are part of the
# Union (TFEU, arts. 349 and 355(1)): Guadeloupe, French Guiana, Martinique, Réunion, Mayotte, Saint-Martin.
UNION_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE GP GF MQ RE YT MF".split()
)
# The territory a national entry brings goods into (arrêté du 3 septembre 1990, Annex III B-1: Martinique).
NATIONAL_ENTRY_INTO = "MQ"


def _letter_values() -> dict[str, int]:
    values, value = {}, 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:  # ISO 6346 skips multiples of 11
            value += 1
        values[letter] = value
        value += 1
    return values


LETTER_VALUES = _letter_values()


def container_check_digit(first_ten: str) -> int:
    """ISO 6346 check digit of an owner code, category and serial number (`MSCU123456`)."""
    total = sum((LETTER_VALUES[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(first_ten))
    return total % 11 % 10


def container_check_digit_ok(number: str) -> bool:
    return container_check_digit(number[:10]) == int(number[10])


class PartOneCheck:
    """Checks one Part I against the reference data in force. `errors` maps a field path to messages;
    after `run`, the resolved reference rows are on the instance for `part_one_write`."""

    def __init__(self, part: dict, *, now: datetime.datetime, arrival_rules: bool = True):
        self.part = part
        self.now = now
        # an amendment of a submitted CHED checks a new arrival itself (`services/amendments.py`): the
        # pre-notification deadline is the submit's rule, met (or not) when it was submitted
        self.arrival_rules = arrival_rules
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.ched_type: ChedType | None = None
        self.bcp: Bcp | None = None
        self.purpose: Purpose | None = None
        self.commodities: dict[str, Commodity] = {}
        self.package_types: dict[str, PackageType] = {}
        self.document_types: dict[str, DocumentType] = {}
        # documents a type requires that its goods do not need (plants all free of plant-health requirements)
        self.not_needed: set[str] = set()

    def add(self, path: str, message: str) -> None:
        self.errors[path].append(message)

    def run(self, *, complete: bool) -> dict[str, list[str]]:
        """`complete=False` checks a draft: only that what it names exists. `complete=True` checks a submit."""
        self._resolve_codes()
        if complete and not self.errors:
            self._check_complete()
        return dict(self.errors)

    # Codes must name reference data, even in a draft (a draft keeps foreign keys).
    def _resolve_codes(self) -> None:
        part, today = self.part, timezone.localdate(self.now)
        code = part.get("ched_type") or ""
        self.ched_type = ChedType.objects.filter(code=code).first() if code else None
        if not code:
            self.add("ched_type", _("This field is required."))
        elif self.ched_type is None:
            self.add("ched_type", _("Unknown CHED type “%(code)s”.") % {"code": code})
        if part.get("bcp"):
            self.bcp = Bcp.objects.in_force(today).filter(code=part["bcp"]).first()
            if self.bcp is None:
                self.add("bcp", _("Unknown BCP “%(code)s”.") % {"code": part["bcp"]})
        if part.get("purpose"):
            self.purpose = Purpose.objects.in_force(today).filter(code=part["purpose"]).first()
            if self.purpose is None:
                self.add("purpose", _("Unknown purpose “%(code)s”.") % {"code": part["purpose"]})
        self._resolve_fields()
        expected_at = (part.get("arrival") or {}).get("expected_at")
        if expected_at and expected_at > self.now + datetime.timedelta(days=366):  # drafts too: 9999 overflows
            self.add("arrival.expected_at", _("Pre-notify at most a year before arrival."))
        mode = (part.get("arrival") or {}).get("transport_mode")
        if mode and mode not in TransportMode.values:
            self.add("arrival.transport_mode", _("Choose sea, air or road."))
        self._resolve_lines(today)
        self._resolve_documents(today)
        self._resolve_mrn()

    def _resolve_mrn(self) -> None:
        """The customs declaration's MRN, when given, is well formed (a draft too: customs looks CHEDs up by it)."""
        from inspection.services.customs import mrn_errors

        mrn = (self.part.get("customs_mrn") or "").strip().upper()
        if mrn:
            self.part["customs_mrn"] = mrn
            for message in mrn_errors(mrn):
                self.add("customs_mrn", message)

    def _resolve_fields(self) -> None:
        """The fields of the schema (`inspection.part_one_schema`), in a draft too: country codes that exist,
        choices among theirs, weights within bounds, and no value in a box this CHED type's model does not have."""
        for field in part_one_schema.PART_ONE:
            if field.on_line or field.custom:
                continue
            self._resolve_value(field.path, field, part_one_schema.get(self.part, field))
        for i, line in enumerate(self.part.get("commodities") or []):
            for field in part_one_schema.fields(line=True):
                if not field.custom:
                    self._resolve_value(f"commodities.{i}.{field.key}", field, line.get(field.key))

    def _resolve_value(self, path: str, field, value) -> None:
        if part_one_schema.is_empty(value):
            return
        ched_type = self.ched_type.code if self.ched_type is not None else None
        if ched_type and not field.applies_to(ched_type) and field.path not in HAND_CHECKED:
            self.add(
                path,
                _("The %(type)s model has no box %(box)s (%(label)s): leave it empty.")
                % {"type": ched_type, "box": field.number, "label": field.label},
            )
        elif field.kind == "country" and value not in countries:
            self.add(path, _("Unknown country code “%(code)s”.") % {"code": value})
        elif field.kind == "choice" and field.path not in HAND_CHECKED:
            allowed = [code for code, _label in field.choices]
            if value not in allowed:
                self.add(path, _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)})
        elif field.kind == "decimal":
            self._resolve_weight(path, field, Decimal(value))
        elif (
            field.kind == "integer"
            and field.path not in HAND_CHECKED
            and not 0 <= value <= part_one_schema.POSITIVE_INT_MAX
        ):
            self.add(
                path,
                _("%(field)s must be between 0 and %(max)s.")
                % {"field": capfirst(field.label), "max": part_one_schema.POSITIVE_INT_MAX},
            )

    def _resolve_weight(self, path: str, field, weight: Decimal) -> None:
        """A weight its column holds, in a draft too: the database or the API could not read back a larger one (or
        a NaN). A line's weight must be above 0 when submitted (`_check_lines`), the others' in a draft too."""
        label = capfirst(field.label)
        if not weight.is_finite():
            self.add(path, _("%(field)s must be a number.") % {"field": label})
        elif abs(weight) > part_one_schema.MAX_WEIGHT_KG:
            self.add(path, _("%(field)s is too large.") % {"field": label})
        elif weight <= 0 and not field.on_line:
            self.add(path, _("%(field)s must be greater than 0 kg.") % {"field": label})

    def _resolve_lines(self, today: datetime.date) -> None:
        lines = self.part.get("commodities") or []
        wanted_packages = {line.get("package_type") for line in lines if line.get("package_type")}
        self.package_types = {p.code: p for p in PackageType.objects.in_force(today).filter(code__in=wanted_packages)}
        if self.ched_type is not None:
            wanted_cn = {line.get("cn_code") for line in lines if line.get("cn_code")}
            self.commodities = {
                c.cn_code: c
                for c in Commodity.objects.in_force(today).filter(
                    ched_type_id=self.ched_type.catalogue_type_id, cn_code__in=wanted_cn
                )
            }
        for i, line in enumerate(lines):
            if line.get("package_type") and line["package_type"] not in self.package_types:
                self.add(
                    f"commodities.{i}.package_type",
                    _("Unknown package type “%(code)s”.") % {"code": line["package_type"]},
                )
            self._resolve_number_of_animals(i, line)
            cn = line.get("cn_code")
            if cn and self.ched_type is not None and cn not in self.commodities:
                self.add(
                    f"commodities.{i}.cn_code",
                    _("CN code %(cn)s is not in the catalogue for %(type)s.") % {"cn": cn, "type": self.ched_type.code},
                )

    def _resolve_number_of_animals(self, i: int, line: dict) -> None:
        """Only CHED-A lines count animals, between 1 and `MAX_NUMBER_OF_ANIMALS` (a draft too: the column is
        bounded)."""
        count = line.get("number_of_animals")
        if count is None or self.ched_type is None:
            return
        path = f"commodities.{i}.number_of_animals"
        if self.ched_type.code not in ANIMALS_COUNTED:
            self.add(path, _("Only CHED-A lines give a number of animals: leave it empty."))
        elif count < 1:
            self.add(path, _("There must be at least one animal."))
        elif count > MAX_NUMBER_OF_ANIMALS:
            self.add(path, _("At most %(n)s animals per line.") % {"n": f"{MAX_NUMBER_OF_ANIMALS:,}".replace(",", " ")})

    def _resolve_documents(self, today: datetime.date) -> None:
        documents = self.part.get("accompanying_documents") or []
        self.document_types = {d.code: d for d in DocumentType.objects.in_force(today).prefetch_related("required_for")}
        for i, document in enumerate(documents):
            if document.get("type") and document["type"] not in self.document_types:
                self.add(
                    f"accompanying_documents.{i}.type",
                    _("Unknown document type “%(code)s”.") % {"code": document["type"]},
                )

    # A submit: every required field, and the rules between them.
    def _check_complete(self) -> None:
        part = self.part
        ched_type, purpose = self.ched_type.code, part.get("purpose")
        for field in part_one_schema.PART_ONE:
            if field.on_line or field.path == "ched_type" or not field.required_for(ched_type, purpose):
                continue
            if field.group == "after_bcp" and ched_type == "CHED-PP" and part.get("containers"):
                continue  # box I.27, CHED-PP: "if the container number is indicated in box I.17, ... not required"
            if part_one_schema.is_empty(part_one_schema.get(part, field)):
                self.add(field.path, _("This field is required."))
        arrival = part.get("arrival") or {}
        self._check_gross_weight()
        destination = (part.get("place_of_destination") or {}).get("country")
        if destination and destination in countries and destination not in UNION_COUNTRIES:
            # box I.7: "the place of final unloading ... in a Member State" (2019/1715, Annex II)
            self.add(
                "place_of_destination.country",
                _("The place of destination is where the goods are unloaded in the Union: %(country)s is not.")
                % {"country": destination},
            )
        self._check_origin()
        self._check_regime(arrival)
        self._check_bcp(arrival)
        self._check_containers(arrival)
        self._check_lines()
        self._check_plant_health()
        self._check_documents()
        if self.ched_type.code == "CHED-D":
            self._check_listed()

    def _check_origin(self) -> None:
        """A CHED covers goods from third countries (Regulation (EU) 2017/625, art. 47); goods of Union origin
        only as the re-entry of a consignment a third country rejected (Implementing Regulation (EU) 2019/1715,
        Annex II, box I.11 and I.25). Plants and plant products from mainland France and the other Member States
        enter Martinique under the national plant-health regime (arrêté du 3 septembre 1990, Annex III B-1), not
        with a CHED: with a national plant-health entry (NAT-PP, `ChedType.is_ched` False), whose origin is a
        Member State (or another part of the Union than Martinique) and which is for release into Martinique.
        docs/regulation.md, section 3."""
        origin, purpose = self.part.get("country_of_origin"), self.part.get("purpose")
        if not origin:
            return
        if self.ched_type is not None and not self.ched_type.is_ched:
            if origin not in UNION_COUNTRIES or origin == NATIONAL_ENTRY_INTO:
                self.add(
                    "country_of_origin",
                    _(
                        "A national plant-health entry is for plants from mainland France or another Member State "
                        "of the European Union; %(country)s is not one: goods from a third country need a CHED-PP."
                    )
                    % {"country": origin},
                )
            if purpose and purpose != "internal_market":
                self.add(
                    "purpose",
                    _("A national plant-health entry is for release into Martinique (purpose “internal_market”)."),
                )
            return
        if origin in UNION_COUNTRIES and purpose != "re_entry":
            self.add(
                "country_of_origin",
                _(
                    "%(country)s is in the European Union: a CHED covers goods from third countries, and goods of "
                    "Union origin only as the re-entry of a consignment rejected by a third country (purpose "
                    "“re_entry”). Plants from mainland France and the Union enter under the national "
                    "plant-health regime: use the national plant-health entry (NAT-PP), not a CHED."
                )
                % {"country": origin},
            )
        elif purpose == "re_entry" and origin not in UNION_COUNTRIES:
            self.add("purpose", _("A re-entry is of goods of Union origin: check the country of origin."))

    def _check_regime(self, arrival: dict) -> None:
        """The regime box the purpose selects (one of I.20-I.26) is one of the type's model, and the details of
        the other regime boxes stay empty; goods in transit go to a third country (I.22); conforming goods only
        are placed on the market (I.19, CHED-P); the animals leave the BCP after they arrive (I.29).
        Implementing Regulation (EU) 2019/1715, Annex II, notes to boxes I.19-I.29."""
        part, purpose = self.part, self.part.get("purpose") or ""
        model = NATIONAL_MODELS.get(self.ched_type.code, self.ched_type.code)
        box = PURPOSE_BOXES.get(purpose)
        if box and not BOXES[box].applies_to(model):
            self.add(
                "purpose",
                _("The %(type)s model has no box %(box)s (%(label)s): choose another purpose.")
                % {"type": self.ched_type.code, "box": BOXES[box].number, "label": BOXES[box].en},
            )
        transit = part.get("transit") or {}
        if purpose != "transit" and any(transit.get(key) for key in ("third_country", "exit_bcp")):
            path = "transit.third_country" if transit.get("third_country") else "transit.exit_bcp"
            self.add(path, _("Box I.22 is for goods in transit: leave it empty, or choose the purpose “transit”."))
        country = transit.get("third_country")
        if country and country in UNION_COUNTRIES:
            self.add(
                "transit.third_country",
                _("Goods in transit go to a third country: %(country)s is in the European Union.")
                % {"country": country},
            )
        if purpose != "onward_transportation" and part.get("onward_transportation_facility"):
            self.add(
                "onward_transportation_facility",
                _(
                    "Box I.21 is for goods under onward transportation: leave it empty, or choose the purpose "
                    "“onward_transportation”."
                ),
            )
        conformity = part.get("conformity")
        if conformity == "conforming" and purpose == "non_conforming":
            self.add(
                "conformity",
                _("Goods for a specific warehouse, free zone or vessel (box I.24) are non-conforming goods."),
            )
        elif conformity == "non_conforming" and purpose in ("internal_market", "re_entry"):
            self.add(
                "conformity",
                _(
                    "Non-conforming goods are not placed on the market: choose the purpose “non_conforming” (box "
                    "I.24) or “transit”."
                ),
            )
        departure = (part.get("after_bcp") or {}).get("departure_at")
        expected_at = arrival.get("expected_at")
        if departure and expected_at and departure <= expected_at:
            self.add(
                "after_bcp.departure_at",
                _("The departure from the BCP (box I.29) must come after the expected arrival (box I.10)."),
            )

    def _check_bcp(self, arrival: dict) -> None:
        if self.bcp is None or self.ched_type is None:
            return
        expected_at = arrival.get("expected_at")
        on = timezone.localdate(expected_at) if expected_at else timezone.localdate(self.now)
        approval = self.bcp.approvals.in_force(on).filter(ched_type=self.ched_type).first()
        if approval is None:
            self.add(
                "bcp",
                _("%(bcp)s is not approved for %(type)s consignments.")
                % {"bcp": self.bcp.name, "type": self.ched_type.code},
            )
        mode = arrival.get("transport_mode")
        if mode and mode not in MODES_BY_BCP_KIND.get(self.bcp.kind, set()):
            self.add(
                "arrival.transport_mode",
                _("%(bcp)s does not receive consignments by %(mode)s.")
                % {"bcp": self.bcp.name, "mode": TransportMode(mode).label.lower()},
            )
        if not expected_at or not self.arrival_rules:
            return
        if expected_at <= self.now:
            self.add("arrival.expected_at", _("The expected arrival must be in the future."))
            return
        if approval is not None:
            deadline = prenotification_deadline(arrival=expected_at, short_notice=approval.short_notice)
            if self.now > deadline:
                rule = _("4 hours") if approval.short_notice else _("one working day")
                self.add(
                    "arrival.expected_at",
                    _(
                        "Too late to pre-notify: a consignment arriving on %(arrival)s must be notified %(rule)s "
                        "before arrival, by %(deadline)s at the latest."
                    )
                    % {
                        "arrival": timezone.localtime(expected_at).strftime("%d/%m/%Y %H:%M"),
                        "rule": rule,
                        "deadline": timezone.localtime(deadline).strftime("%d/%m/%Y %H:%M"),
                    },
                )

    def _check_containers(self, arrival: dict) -> None:
        containers = self.part.get("containers") or []
        if arrival.get("transport_mode") == TransportMode.SEA and not containers:
            self.add("containers", _("Sea freight needs at least one container with its seal number."))
        seen = set()
        for i, container in enumerate(containers):
            number = (container.get("number") or "").replace(" ", "").upper()
            if not number:
                self.add(f"containers.{i}.number", _("This field is required."))
            elif not CONTAINER_NUMBER.match(number):
                self.add(
                    f"containers.{i}.number",
                    _("“%(number)s” is not a container number (ISO 6346: 4 letters and 7 digits, e.g. CSQU3054383).")
                    % {"number": container.get("number")},
                )
            elif not container_check_digit_ok(number):
                self.add(
                    f"containers.{i}.number",
                    _("The check digit of container %(number)s is wrong: please check the number.")
                    % {"number": number},
                )
            elif number in seen:
                self.add(f"containers.{i}.number", _("Container %(number)s is listed twice.") % {"number": number})
            seen.add(number)
            if not container.get("seal"):
                self.add(f"containers.{i}.seal", _("This field is required."))

    def _check_lines(self) -> None:
        lines = self.part.get("commodities") or []
        if not lines:
            self.add("commodities", _("Declare at least one commodity line."))
        required = [
            field
            for field in part_one_schema.fields(line=True)
            if field.required_for(self.ched_type.code, self.part.get("purpose"))
        ]
        for i, line in enumerate(lines):
            for field in required:
                if part_one_schema.is_empty(line.get(field.key)):
                    self.add(f"commodities.{i}.{field.key}", _("This field is required."))
            weight = line.get("net_weight_kg")
            if weight is not None and Decimal(weight) <= 0:
                self.add(f"commodities.{i}.net_weight_kg", _("The net weight must be greater than 0 kg."))
            packages = line.get("packages")
            if packages is not None and packages < 1:
                self.add(f"commodities.{i}.packages", _("There must be at least one package."))
            commodity = self.commodities.get(line.get("cn_code") or "")
            if (
                self.ched_type.code in SPECIES_REQUIRED
                and not line.get("species")
                and not (commodity and commodity.species)
            ):
                self.add(
                    f"commodities.{i}.species",
                    _("Name the species for %(type)s goods.") % {"type": self.ched_type.code},
                )

    def _check_gross_weight(self) -> None:
        """Box I.34: the gross weight, when given, weighs at least the goods' net weight."""
        gross = self.part.get("total_gross_weight_kg")
        if part_one_schema.is_empty(gross) or "total_gross_weight_kg" in self.errors:
            return
        net = sum(Decimal(line.get("net_weight_kg") or 0) for line in self.part.get("commodities") or [])
        if Decimal(gross) < net:
            self.add(
                "total_gross_weight_kg",
                _("The gross weight (%(gross)s kg) is less than the total net weight of the lines (%(net)s kg).")
                % {"gross": gross, "net": net},
            )

    def _check_documents(self) -> None:
        documents = self.part.get("accompanying_documents") or []
        for i, document in enumerate(documents):
            if not document.get("type"):
                self.add(f"accompanying_documents.{i}.type", _("This field is required."))
            if not document.get("reference"):
                self.add(f"accompanying_documents.{i}.reference", _("This field is required."))
        given = self._given_documents()
        missing = [
            dt.name
            for dt in self.document_types.values()
            if dt.code not in given
            and dt.code not in self.not_needed
            and any(t.pk == self.ched_type.pk for t in dt.required_for.all())
        ]
        if missing:
            self.add(
                "accompanying_documents",
                _("A %(type)s consignment needs: %(documents)s.")
                % {"type": self.ched_type.code, "documents": ", ".join(sorted(missing))},
            )

    def _given_documents(self) -> set[str]:
        return {d.get("type") for d in self.part.get("accompanying_documents") or [] if d.get("reference")}

    def _check_plant_health(self) -> None:
        """Plants entering Martinique, from a third country (CHED-PP) or from mainland France and the Union
        (NAT-PP), meet the national regime of the overseas departments (`inspection.plant_health`): a prohibited
        commodity is refused, naming the text (and the document that lifts the prohibition, where a derogation
        exists); goods free of requirements (frozen fruit and vegetables are not "végétaux", arrêté du 3 septembre
        1990, art. 1) need no phytosanitary certificate when every line is free; the others need it."""
        origin, lines = self.part.get("country_of_origin"), self.part.get("commodities") or []
        if self.ched_type.code not in plant_health.GOVERNED or not origin or not lines:
            return
        arrival = (self.part.get("arrival") or {}).get("expected_at") or self.now
        rules = plant_health.requirements(timezone.localdate(arrival))
        given, union = self._given_documents(), origin in UNION_COUNTRIES
        requirement = PlantHealthRequirement.Requirement
        all_free = True
        for i, line in enumerate(lines):
            cn = line.get("cn_code") or ""
            rule = plant_health.requirement_for(rules, origin=origin, union=union, cn_code=cn, documents=given)
            all_free &= rule is not None and rule.requirement == requirement.FREE
            if rule is None or rule.requirement != requirement.PROHIBITED:
                continue
            values = {"goods": rule.description, "cn": cn, "country": origin, "text": rule.legal_reference}
            if rule.lifted_by and rule.lifted_by in self.document_types:
                values["document"] = self.document_types[rule.lifted_by].name
                message = _(
                    "%(goods)s (CN %(cn)s) from %(country)s may not be brought into Martinique (%(text)s), unless the "
                    "consignment carries the %(document)s."
                )
            else:
                message = _("%(goods)s (CN %(cn)s) from %(country)s may not be brought into Martinique (%(text)s).")
            self.add(f"commodities.{i}.cn_code", message % values)
        if all_free:
            self.not_needed.add(plant_health.CERTIFICATE)

    def _check_listed(self) -> None:
        """A CHED-D covers the origins and goods Implementing Regulation (EU) 2019/1793 lists (Annexes I and II,
        in force on the day of arrival); for its Annex II goods, the official certificate and the results of
        sampling and analyses by the country of origin (point 3: of the country of dispatch) accompany the
        consignment (arts. 10 and 11). An "ex" CN code covers only the TARIC subdivisions the annex names: the line
        gives the 10-digit code. Annex II point 3 rows hold for goods dispatched from the country they name (I.14)."""
        origin, lines = self.part.get("country_of_origin"), self.part.get("commodities") or []
        arrival = (self.part.get("arrival") or {}).get("expected_at") or self.now
        dispatch = self.part.get("country_of_dispatch") or ""
        rules = [
            rule
            for rule in reinforced_rules(self.ched_type.pk, origin, on=timezone.localdate(arrival), dispatch=dispatch)
            if rule.country == origin
        ]
        certificate_required = False
        for i, line in enumerate(lines):
            cn = line.get("cn_code") or ""
            matching = rules_for_line(rules, cn)
            partly = sorted({r.taric for r in rules if r.taric and cn.startswith(r.cn_prefix)})
            if not matching and partly:
                self.add(
                    f"commodities.{i}.cn_code",
                    _(
                        "Implementing Regulation (EU) 2019/1793 lists only part of CN %(cn)s from %(origin)s (“ex” "
                        "code, TARIC subdivision %(taric)s: %(goods)s): give the 10-digit code of the goods, or, if "
                        "they are not those goods, they take no CHED-D."
                    )
                    % {
                        "cn": cn,
                        "origin": origin,
                        "taric": ", ".join(partly),
                        "goods": next(r.goods for r in rules if r.taric and cn.startswith(r.cn_prefix)),
                    },
                )
            elif not matching:
                self.add(
                    f"commodities.{i}.cn_code",
                    _(
                        "Implementing Regulation (EU) 2019/1793 does not list CN %(cn)s from %(origin)s: these goods "
                        "take no CHED-D."
                    )
                    % {"cn": line.get("cn_code"), "origin": origin},
                )
            certificate_required |= any(rule.certificate_required for rule in matching)
        given = self._given_documents()
        if certificate_required and not ANNEX_II_DOCUMENTS <= given:
            missing = sorted(self.document_types[code].name for code in ANNEX_II_DOCUMENTS - given)
            self.add(
                "accompanying_documents",
                _("Goods of Annex II of Regulation (EU) 2019/1793 need: %(documents)s.")
                % {"documents": ", ".join(missing)},
            )
