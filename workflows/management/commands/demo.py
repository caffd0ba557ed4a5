"""`manage.py demo`: demo users and a realistic set of pre-notifications, made through the real services.

Safe to run twice: users and companies are looked up before they are made, and only the missing
consignments are created. Refuses to run when DEBUG is off, unless `--force`.
"""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from inspection.models import Bcp, Commodity, Consignment, Laboratory, Membership, Operator, StaffPost
from inspection.risk import reinforced_rules, rules_for_line
from inspection.roles import Role
from inspection.services.consignments import consignment_create
from inspection.services.part_one import container_check_digit

from ._demo_exports import exports_demo
from ._demo_flow import STAGES, drive
from ._demo_successors import replacement_demo, split_demo

PASSWORD = "demo"  # noqa: S105  (demo only; docs/api.md)
COMPANIES = {
    "importer": ("Antilles Primeurs SARL", "ZI de la Lézarde, 97232 Le Lamentin", "FR0973201234500"),
    "importer2": (
        "Caraïbes Distribution SAS",
        "Port de Commerce, Quai des Annexes, 97200 Fort-de-France",
        "FR0972005678900",
    ),
}
STAFF = {
    "inspector": ("Inès", "Joseph", [Role.INSPECTOR]),
    "officer": ("Olivier", "Marie-Sainte", [Role.INSPECTOR, Role.CERTIFYING_OFFICER]),
    "supervisor": ("Sylvie", "Rosette", [Role.SUPERVISOR]),
    "lab": ("Laboratoire", "Territorial d'Analyses", [Role.LAB]),
}
# Where each CHED type's goods come from, by sea (port) or air (airport), with realistic exporters.
ORIGINS = {
    "CHED-PP": [
        ("DO", "Frutas del Cibao SRL", "Av. Duarte 120, Santiago de los Caballeros"),
        ("CR", "Agroexport Limón SA", "Barrio Cieneguita, Limón"),
        ("CO", "Flores de la Sabana SAS", "Km 21 Autopista Norte, Chía"),
        ("BR", "Frutas do Vale Ltda", "Rod. BR-428, Petrolina, PE"),
    ],
    "CHED-P": [
        ("BR", "Frigorífico Sul Ltda", "Rua das Indústrias 455, Chapecó, SC"),
        ("AR", "Carnes Pampeanas SA", "Ruta 5 km 88, Mercedes, Buenos Aires"),
        ("NZ", "Southern Dairy Exports Ltd", "12 Harbour Rd, Timaru"),
        ("CA", "Atlantic Salt Fish Inc.", "45 Water St, St. John's, NL"),
        ("EC", "Camaronera del Pacífico SA", "Vía a Data km 12, Guayaquil"),
    ],
    "CHED-D": [
        ("DO", "Vegetales Tropicales SRL", "Calle 4, Zona Franca, La Vega"),
        ("IN", "Malabar Spices Pvt Ltd", "Willingdon Island, Kochi, Kerala"),
        ("US", "Gulf Rice Mills LLC", "800 Port Rd, Lake Charles, LA"),
    ],
    "CHED-A": [
        ("US", "Sunshine Pet Transport LLC", "2100 NW 42nd Ave, Miami, FL"),
        ("CA", "Montréal Aqua Import", "1200 rue Notre-Dame, Montréal, QC"),
    ],
}
# Boxes I.12, I.15 and I.16 by exporter: the region of origin (ISO 3166-2, where the origin is regionalised),
# the approved establishment the goods come from, and how they travel.
EXPORTERS = {
    "Frigorífico Sul Ltda": ("BR-SC", "Frigorífico Sul Ltda, SIF 2518", "frozen"),
    "Carnes Pampeanas SA": ("AR-B", "Carnes Pampeanas SA, SENASA 1928", "frozen"),
    "Southern Dairy Exports Ltd": ("", "Southern Dairy Exports Ltd, ME 1042", "chilled"),
    "Atlantic Salt Fish Inc.": ("", "Atlantic Salt Fish Inc., CFIA 4417", "ambient"),
    "Camaronera del Pacífico SA": ("", "Camaronera del Pacífico SA, EC-INP-105", "frozen"),
}
# After the BCP, the animals travel by road with an approved transporter (box I.28; Regulation (EC) No 1/2005).
ANIMAL_TRANSPORTER = {
    "name": "Transports Animaliers Caraïbes SARL",
    "address": "Zone aéroportuaire, 97232 Le Lamentin",
    "approval_number": "FR-972-T1-0042",
}
REQUIRED_DOCUMENT = {
    "CHED-PP": "PHYTOSANITARY_CERTIFICATE",
    "CHED-P": "VETERINARY_HEALTH_CERTIFICATE",
    "CHED-A": "VETERINARY_HEALTH_CERTIFICATE",
    "CHED-D": "COMMERCIAL_INVOICE",
}
# The grower of the demo's national plant-health entry (NAT-PP): goods of mainland France.
NATIONAL_GROWER = ("Vergers de Moissac SCEA", "Route de Lafrançaise, 82200 Moissac")
VESSELS = ["CMA CGM FORT SAINT PIERRE", "CMA CGM FORT DESAIX", "MARFRET GUYANE", "MSC ANTILLES", "SEABOARD PRIDE"]
CARRIERS = ["CMAU", "MSCU", "MRKU", "HLXU", "SMLU"]
FLIGHTS = ["AF 652", "TX 542", "AA 1348", "LI 362"]
PACKAGES = {"CHED-PP": "CT", "CHED-P": "CT", "CHED-D": "BG"}
# CHED-A lines by CN code: (heads, kg per head, heads per package, package type). Day-old chicks travel a
# hundred to a ventilated box at some 40 g each; dogs and cats one to a travel cage; horses unpacked, each in
# its own air stall.
ANIMALS = {
    "01051199": ((2000, 12000), (Decimal("0.040"), Decimal("0.045")), 100, "BX"),
    "01061900": ((2, 8), (Decimal("4"), Decimal("30")), 1, "CG"),
    "01012100": ((1, 4), (Decimal("450"), Decimal("650")), 1, "NE"),
}


class Command(BaseCommand):
    help = "Create the demo users and a realistic set of pre-notifications (demo data only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")
        parser.add_argument("--consignments", type=int, default=36, help="How many per demo company (default 36).")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, force=False, consignments=36, seed=2026, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this would put demo users with a known password in a live "
                "database. Use --force if you really mean it."
            )
        # The demo's certificates are signed with a self-signed key (made once, kept in var/signing).
        call_command("signing_key", force=force, stdout=self.stdout)
        rng = random.Random(seed)
        with transaction.atomic():
            importers = [self._importer(username, *company) for username, company in COMPANIES.items()]
            for username, (first, last, roles) in STAFF.items():
                self._staff(username, first, last, roles)
            for username in ("inspector", "officer"):  # both work at the port
                StaffPost.objects.update_or_create(
                    user=User.objects.get(username=username), defaults={"bcp": Bcp.objects.get(code="FRFDF1")}
                )
            # the demo lab account posts for the territorial laboratory, where the demo samples go
            Laboratory.objects.get(code="LTA972").accounts.add(User.objects.get(username="lab"))
        catalogue = {}
        # Catalogue lines that name their species, so that every demo line is complete.
        for commodity in (
            Commodity.objects.in_force(timezone.localdate()).select_related("ched_type").exclude(species="")
        ):
            catalogue.setdefault(commodity.ched_type.code, []).append(commodity)
        todo = [(user, i) for user in importers for i in range(self._existing(user), consignments)]
        staff = {username: User.objects.get(username=username) for username in STAFF}
        created = 0
        for user, i in tqdm(todo, desc="Demo consignments", unit="CHED", disable=not todo):
            part_one = self._part_one(rng, user, i, catalogue)
            consignment = consignment_create(actor=user, part_one=part_one, draft=(i % 9 == 8))
            if not consignment.is_draft:
                drive(consignment, STAGES[created % len(STAGES)], staff)
                created += 1
        self._national_entry(rng, importers[0], staff)
        # a split consignment (part accepted, part destroyed) and a replaced CHED
        successors_note = split_demo(importers[0], staff) + replacement_demo(importers[0])
        exports = exports_demo(password=PASSWORD)  # the exporter and its phytosanitary certificates
        self.stdout.write(f"Export applications made: {exports} (login “exporter”).")
        customs_note = self._customs_demo(importers)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {Consignment.objects.count()} consignments. Logins (password “{PASSWORD}”): "
                + ", ".join([*COMPANIES, *STAFF, "exporter", "customs"])
                + customs_note
                + successors_note
            )
        )

    def _customs_demo(self, importers) -> str:
        """The customs link (issue 20): the demo user `customs` (read-only API role), and a submitted CHED its
        importer amended (the vessel a day late, the customs declaration added) that customs can look up by MRN."""
        from inspection.models import AuditEvent
        from inspection.services.amendments import consignment_amend
        from inspection.services.customs import mrn_check_character

        self._user("customs", "Douane", "Fort-de-France", [Role.CUSTOMS])
        importer = importers[0]
        amended = AuditEvent.objects.filter(action="consignment.amended", consignment__created_by=importer).first()
        if amended is None:
            # awaiting its documentary check (the demo's first stage), whatever the hour it was expected at
            consignment = (
                Consignment.objects.filter(created_by=importer, status="submitted", documentary_check__isnull=True)
                .order_by("id")
                .first()
            )
            if consignment is None:
                return ""
            mrn17 = f"{timezone.localdate():%y}FR972{consignment.pk:010d}"
            consignment_amend(
                actor=importer,
                consignment=consignment,
                changes={
                    # the vessel a day late: a day after the later of its announced arrival and now
                    "arrival": {
                        "expected_at": max(consignment.expected_arrival, timezone.now()) + datetime.timedelta(days=1)
                    },
                    "customs_status": "non_union",
                    "customs_procedure": "free_circulation",
                    "customs_mrn": mrn17 + mrn_check_character(mrn17),
                },
            )
        else:
            consignment = amended.consignment
        consignment.refresh_from_db()
        return (
            f". Amended CHED: {consignment.reference}; customs lookup: "
            f"GET /api/v1/customs/cheds/?mrn={consignment.customs_mrn} (as `customs`)"
        )

    def _importer(self, username, name, address, eori):
        operator, _ = Operator.objects.get_or_create(
            eori=eori, defaults={"name": name, "address": address, "country": "FR", "email": f"{username}@example.org"}
        )
        user = self._user(username, name.split()[0], "", [Role.IMPORTER])
        Membership.objects.update_or_create(user=user, defaults={"operator": operator})
        return user

    def _staff(self, username, first, last, roles):
        return self._user(username, first, last, roles)

    def _user(self, username, first, last, roles):
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        user.groups.add(*Group.objects.filter(name__in=roles))
        return user

    def _existing(self, user) -> int:
        return Consignment.objects.filter(created_by=user).count()

    def _part_one(self, rng: random.Random, user, i: int, catalogue) -> dict:
        ched_type = rng.choices(["CHED-PP", "CHED-P", "CHED-D", "CHED-A"], weights=[5, 4, 2, 1])[0]
        by_air = ched_type == "CHED-A" or rng.random() < 0.25
        country, exporter, address = rng.choice(ORIGINS[ched_type])
        arrival = timezone.localtime() + datetime.timedelta(days=rng.randint(3, 20))
        candidates, rules = catalogue[ched_type], []
        if ched_type == "CHED-D":  # only the goods Regulation (EU) 2019/1793 lists from that origin
            on = arrival.date()
            rules = [r for r in reinforced_rules(candidates[0].ched_type_id, country, on=on) if r.country == country]
            candidates = [c for c in candidates if rules_for_line(rules, c.cn_code)]
        # one kind of animal per CHED-A: chicks, dogs and horses do not share a flight's hold
        if ched_type == "CHED-A":  # the animals whose head counts and weights the demo knows
            candidates = [c for c in candidates if c.cn_code in ANIMALS]
        lines = rng.sample(candidates, k=1 if ched_type == "CHED-A" else min(len(candidates), rng.randint(1, 3)))
        arrival = arrival.replace(hour=rng.choice([6, 7, 8, 10, 14, 16]), minute=0, second=0, microsecond=0)
        operator = user.membership.operator
        part = {
            "ched_type": ched_type,
            "bcp": "FRFDF4" if by_air else "FRFDF1",
            "consignor": {"name": exporter, "address": address, "country": country},
            "consignee": {"name": operator.name, "address": operator.address, "country": "FR"},
            "country_of_origin": country,
            "purpose": "internal_market",
            "arrival": {
                "expected_at": arrival,
                "transport_mode": "air" if by_air else "sea",
                "transport_id": rng.choice(FLIGHTS) if by_air else f"{rng.choice(VESSELS)} {rng.randint(100, 999)}N",
                "transport_document": (
                    f"057-{rng.randint(10000000, 99999999)}" if by_air else f"BL{rng.randint(1000000, 9999999)}"
                ),
            },
            "containers": [] if by_air else [self._container(rng) for _ in range(rng.randint(1, 2))],
            "commodities": [self._line(rng, ched_type, c) for c in lines],
            "accompanying_documents": [
                {
                    "type": REQUIRED_DOCUMENT[ched_type],
                    "reference": f"{country}-{arrival.year}-{rng.randint(10000, 99999)}",
                },
                {"type": "COMMERCIAL_INVOICE", "reference": f"INV-{rng.randint(1000, 9999)}"},
            ],
        }
        self._boxes(rng, part, exporter, operator)
        if ched_type == "CHED-D":
            part["accompanying_documents"].pop()
            if any(rule.certificate_required for c in lines for rule in rules_for_line(rules, c.cn_code)):
                reference = f"{country}-{arrival.year}-{rng.randint(10000, 99999)}"
                part["accompanying_documents"] = [
                    {"type": "HEALTH_CERTIFICATE", "reference": reference},
                    {"type": "LABORATORY_ANALYSIS_REPORT", "reference": f"LAB-{reference}"},
                ]
        return part

    def _boxes(self, rng: random.Random, part: dict, exporter: str, operator) -> None:
        """The other Part I boxes: where the goods are unloaded (the importer's own store), where they were
        loaded, the region and establishment of origin, the temperature, the gross weight, the transporter."""
        ched_type, country = part["ched_type"], part["country_of_origin"]
        region, establishment, conditions = EXPORTERS.get(exporter, ("", "", ""))
        part["place_of_destination"] = {
            "name": f"{operator.name}, entrepôt",
            "address": operator.address,
            "country": "MQ",
            "approval_number": f"FR 972.{rng.randint(100, 999)}.{rng.randint(1, 99):03d} CE"
            if ched_type == "CHED-P"
            else "",
        }
        part["region_of_origin"] = region
        # most sea freight from far away is transhipped in Panama or Kingston before its last leg to Martinique
        far = country not in ("DO", "US", "CA") and part["arrival"]["transport_mode"] == "sea"
        part["country_of_dispatch"] = (
            "" if ched_type == "CHED-A" else (rng.choice(["PA", "JM"]) if far and rng.random() < 0.3 else country)
        )
        part["transport_conditions"] = (
            conditions if ched_type == "CHED-P" else "ambient" if ched_type == "CHED-D" else ""
        )
        if ched_type == "CHED-P":
            for line in part["commodities"]:
                line["establishment_of_origin"] = establishment
        if ched_type != "CHED-PP":  # the packaging, some 5 to 15 %
            net = sum(line["net_weight_kg"] for line in part["commodities"])
            part["total_gross_weight_kg"] = (net * Decimal(str(round(1.05 + rng.random() * 0.1, 3)))).quantize(
                Decimal("0.001")
            )
        if ched_type == "CHED-A":
            part["transporter"] = dict(ANIMAL_TRANSPORTER)
        self._after_bcp_boxes(rng, part)

    def _after_bcp_boxes(self, rng: random.Random, part: dict) -> None:
        """Boxes I.19, I.27, I.29 and I.30: meat and fish declared conforming (they are for the market); the
        animals leave the airport by road a few hours after landing, on a short island journey (no journey log
        under Regulation (EC) No 1/2005); most sea freight is trucked from the port to the importer's store."""
        ched_type = part["ched_type"]
        if ched_type == "CHED-P":
            part["conformity"] = "conforming"
        plate = f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}-{rng.randint(100, 999)}-{rng.choice('JKLMN')}Q"
        if ched_type == "CHED-A":
            departure = part["arrival"]["expected_at"] + datetime.timedelta(hours=rng.randint(2, 5))
            part["after_bcp"] = {"transport_mode": "road", "transport_id": plate, "departure_at": departure}
            part["journey_log"] = "no"
        elif rng.random() < 0.6:
            part["after_bcp"] = {"transport_mode": "road", "transport_id": plate}

    def _line(self, rng: random.Random, ched_type: str, commodity) -> dict:
        line = {
            "cn_code": commodity.cn_code,
            "description": commodity.description_fr,
            "species": commodity.species,
            "eppo_code": commodity.eppo_code,
        }
        if ched_type != "CHED-A":
            return {
                **line,
                "net_weight_kg": Decimal(rng.randint(50, 18000)),
                "packages": rng.randint(1, 1200),
                "package_type": PACKAGES[ched_type],
            }
        (low, high), (light, heavy), per_package, package_type = ANIMALS[commodity.cn_code]
        heads = rng.randint(low, high)
        per_head = light + (heavy - light) * Decimal(rng.random())
        return {
            **line,
            "number_of_animals": heads,
            "net_weight_kg": (per_head * heads).quantize(Decimal("0.001")),
            "packages": -(-heads // per_package),
            "package_type": package_type,
        }

    def _container(self, rng: random.Random) -> dict:
        first_ten = f"{rng.choice(CARRIERS)}{rng.randint(0, 999999):06d}"
        return {
            "number": f"{first_ten}{container_check_digit(first_ten)}",
            "seal": f"{rng.choice('ABFHKM')}{rng.randint(100000, 999999)}",
        }

    def _national_entry(self, rng: random.Random, user, staff) -> None:
        """One national plant-health entry (NAT-PP, not a CHED: docs/regulation.md, section 3), driven through the
        real flow to its acceptance into Martinique: apples and potatoes from a grower of the Tarn-et-Garonne,
        shipped from Marseille with the phytosanitary certificate of mainland France. Once: a second run skips
        it."""
        if Consignment.objects.filter(created_by=user, ched_type__code="NAT-PP").exists():
            return
        catalogue = {
            c.cn_code: c
            for c in Commodity.objects.in_force(timezone.localdate()).filter(
                ched_type__code="CHED-PP", cn_code__in=["08081080", "07019090"]
            )
        }
        arrival = (timezone.localtime() + datetime.timedelta(days=6)).replace(hour=7, minute=0, second=0, microsecond=0)
        operator = user.membership.operator
        part = {
            "ched_type": "NAT-PP",
            "bcp": "FRFDF1",
            "consignor": {"name": NATIONAL_GROWER[0], "address": NATIONAL_GROWER[1], "country": "FR"},
            "consignee": {"name": operator.name, "address": operator.address, "country": "FR"},
            "country_of_origin": "FR",
            "purpose": "internal_market",
            "arrival": {
                "expected_at": arrival,
                "transport_mode": "sea",
                "transport_id": f"{rng.choice(VESSELS)} {rng.randint(100, 999)}S",
                "transport_document": f"BL{rng.randint(1000000, 9999999)}",
            },
            "containers": [self._container(rng)],
            "commodities": [{**self._line(rng, "CHED-PP", c), "package_type": "CT"} for c in catalogue.values()],
            "accompanying_documents": [
                {"type": "PHYTOSANITARY_CERTIFICATE", "reference": f"FR-PC-{arrival.year}-{rng.randint(10000, 99999)}"},
                {"type": "COMMERCIAL_INVOICE", "reference": f"INV-{rng.randint(1000, 9999)}"},
            ],
            "place_of_destination": {
                "name": f"{operator.name}, entrepôt",
                "address": operator.address,
                "country": "MQ",
                "approval_number": "",
            },
            "country_of_dispatch": "FR",
        }
        drive(consignment_create(actor=user, part_one=part), "accepted", staff)
