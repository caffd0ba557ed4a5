"""The one factory module for tests."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inspection.models import Membership, Operator
from inspection.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator

    name = factory.Sequence(lambda n: f"Import Company {n} SARL")
    address = "1 rue Victor Hugo, 97200 Fort-de-France"
    country = "FR"


def importer_factory(username: str, operator: Operator | None = None) -> User:
    user = UserFactory(username=username, roles=[Role.IMPORTER])
    Membership.objects.create(user=user, operator=operator or OperatorFactory())
    return user


def arrival_in(days: int = 7, hour: int = 8) -> datetime.datetime:
    return (timezone.localtime() + datetime.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def part_one(ched_type: str = "CHED-PP", *, as_json: bool = False, **overrides) -> dict:
    """A complete, valid Part I (sea freight to the port for CHED-PP/P/D, air to the airport for CHED-A)."""
    lines = {
        "CHED-PP": ("08045000", "Mangues fraîches", "Mangifera indica", "CT"),
        "CHED-P": ("02023090", "Viande bovine congelée désossée", "Bos taurus", "CT"),
        "CHED-D": ("12024200", "Arachides décortiquées", "Arachis hypogaea", "BG"),
        "CHED-A": ("01061900", "Chien de compagnie", "Canis lupus familiaris", "CG"),
    }
    documents = {
        "CHED-PP": "PHYTOSANITARY_CERTIFICATE",
        "CHED-P": "VETERINARY_HEALTH_CERTIFICATE",
        "CHED-A": "VETERINARY_HEALTH_CERTIFICATE",
        "CHED-D": "COMMERCIAL_INVOICE",
    }
    by_air = ched_type == "CHED-A"
    cn_code, description, species, package = lines[ched_type]
    expected_at = arrival_in()
    part = {
        "ched_type": ched_type,
        "bcp": "FRFDF4" if by_air else "FRFDF1",
        "consignor": {"name": "Frutas del Cibao SRL", "address": "Av. Duarte 120, Santiago", "country": "DO"},
        "consignee": {"name": "Antilles Primeurs SARL", "address": "ZI de la Lézarde, Le Lamentin", "country": "FR"},
        # groundnuts take a CHED-D from the United States (Regulation (EU) 2019/1793, Annex I)
        "country_of_origin": "US" if ched_type == "CHED-D" else "DO",
        "purpose": "internal_market",
        "arrival": {
            "expected_at": expected_at.isoformat() if as_json else expected_at,
            "transport_mode": "air" if by_air else "sea",
            "transport_id": "AF 652" if by_air else "CMA CGM FORT DESAIX 612N",
            "transport_document": "057-12345678" if by_air else "BL1234567",
        },
        "containers": [] if by_air else [{"number": "CSQU3054383", "seal": "FX123456"}],
        "commodities": [
            {
                "cn_code": cn_code,
                "description": description,
                "species": species,
                "eppo_code": "",
                # three dogs of some 12 kg, one to a travel cage (a line of CHED-A counts its animals)
                **(
                    {"net_weight_kg": "36.000" if as_json else Decimal("36.000"), "packages": 3}
                    if ched_type == "CHED-A"
                    else {"net_weight_kg": "1250.500" if as_json else Decimal("1250.500"), "packages": 250}
                ),
                "package_type": package,
                "number_of_animals": 3 if ched_type == "CHED-A" else None,
            }
        ],
        "accompanying_documents": [{"type": documents[ched_type], "reference": "DO-2026-000123"}],
        # the other Part I boxes of each model (Implementing Regulation (EU) 2019/1715, Annex II)
        "place_of_destination": {
            "name": "Antilles Primeurs SARL, entrepôt du Lamentin",
            "address": "ZI de la Lézarde, 97232 Le Lamentin",
            "country": "MQ",
            "approval_number": "FR 972.12.001 CE" if ched_type == "CHED-P" else "",
        },
        "region_of_origin": "",
        "country_of_dispatch": "",
        "transport_conditions": {"CHED-P": "frozen", "CHED-D": "ambient"}.get(ched_type, ""),
        "total_gross_weight_kg": None,
        "transporter": {"name": "", "address": "", "approval_number": ""},
    }
    part["country_of_dispatch"] = "" if ched_type == "CHED-A" else part["country_of_origin"]
    gross = {"CHED-A": "60.000", "CHED-P": "1380.000", "CHED-D": "1300.000"}.get(ched_type)
    if gross:
        part["total_gross_weight_kg"] = gross if as_json else Decimal(gross)
    if ched_type == "CHED-A":
        # I.27 and I.29, compulsory for animals (Regulation (EC) No 1/2005): by road from the airport, 3 hours later
        departure = expected_at + datetime.timedelta(hours=3)
        part["after_bcp"] = {
            "transport_mode": "road",
            "transport_id": "FG-123-HJ",
            "departure_at": departure.isoformat() if as_json else departure,
        }
        part["transporter"] = {
            "name": "Transports Animaliers Caraïbes SARL",
            "address": "Zone aéroportuaire, 97232 Le Lamentin",
            "approval_number": "FR-972-T1-0042",
        }
    if ched_type == "CHED-P":
        part["commodities"][0]["establishment_of_origin"] = "Frigorífico del Cibao, est. 1234"
    part.update(overrides)
    return part


def pdf_bytes(*, javascript: str = "", password: str = "", attachment: bytes = b"", open_action: dict | None = None):
    """A one-page PDF made by pypdf, optionally carrying what uploads must refuse."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if javascript:  # a document-level script in the /Names tree, as Acrobat writes it
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(javascript)}
        )
        tree = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("init"), writer._add_object(action)])}
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): writer._add_object(tree)}
        )
    if attachment:
        writer.add_attachment("payload.bin", attachment)
    if open_action:
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject(k): (NameObject(v) if v.startswith("/") else TextStringObject(v))
                for k, v in open_action.items()
            }
        )
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _png_1x1() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (255, 0, 0, 128)).save(out, format="PNG")
    return out.getvalue()


PNG_BYTES = _png_1x1()  # a real PNG: documents and photos must decode to the end


def photo_bytes(fmt: str = "JPEG", *, size=(40, 20), orientation: int = 0, gps: bool = False) -> bytes:
    """A small photo made by Pillow: red on the left half, blue on the right, optionally with an EXIF
    orientation, a GPS position and the metadata a tablet camera adds (make, ICC profile, XMP, comment)."""
    import io

    from PIL import ExifTags, Image, ImageCms

    image = Image.new("RGB", size, "red")
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Tablette BCP"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:  # the port of Fort-de-France
        exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (14.0, 36.0, 0.0), 3: "W", 4: (61.0, 4.0, 0.0)}
    options = {"exif": exif, "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()}
    if fmt in ("JPEG", "WEBP"):
        options["xmp"] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>inspector at home</x:xmpmeta>"
    if fmt == "JPEG":
        options["comment"] = b"inspector at home"
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def goods_arrived(consignment, actor=None) -> None:
    """The post records the consignment's goods at the BCP, now (`consignment_arrival_record`): identity and
    physical checks wait for it. Before the step, never inside it (the steps' query caps)."""
    from inspection.services.consignments import consignment_arrival_record

    actor = actor or UserFactory(username="quay-inspector", roles=[Role.INSPECTOR])
    consignment_arrival_record(actor=actor, consignment=consignment, arrived_at=timezone.now())


# --- exports -------------------------------------------------------------------------------------------------


def exporter_factory(username: str, operator: Operator | None = None) -> User:
    """A user of an exporting company (its own company unless `operator`)."""
    user = UserFactory(username=username, roles=[Role.EXPORTER])
    operator = operator or OperatorFactory(name=f"Export {username} SAS", address="Habitation Lareinty, Le Lamentin")
    Membership.objects.create(user=user, operator=operator)
    return user


def export_application(**overrides) -> dict:
    """A complete, valid application: fresh bananas by sea to Montréal."""
    data = {
        "kind": "export",
        "consignor": {"name": "Banamart SAS", "address": "Habitation Lareinty, 97232 Le Lamentin"},
        "consignee": {"name": "Fresh Tropics Inc.", "address": "2100 rue Notre-Dame O, Montréal QC", "country": "CA"},
        "destination": {"country": "CA", "point_of_entry": "Montréal", "unlocode": "CAMTR"},
        "conveyance": {"mode": "sea", "id": "CMA CGM FORT SAINT LOUIS 0MQ3NS"},
        "distinguishing_marks": "BANAMART MQ 2026-48",
        "treatment": {
            "date": "2026-12-01",
            "name": "Trempage post-récolte / Post-harvest dip",
            "chemical": "Azoxystrobine",
            "duration_temperature": "30 s, 20 °C",
            "concentration": "0,5 g/l",
            "information": "",
        },
        "additional_declarations": "The consignment was inspected and found free of Mycosphaerella fijiensis.",
        "lines": [
            {
                "description": "Bananes dessert fraîches",
                "hs_code": "08039010",
                "botanical_name": "Musa acuminata",
                "eppo_code": "MUBAC",
                "net_weight_kg": "18000.000",
                "packages": 1000,
                "package_type": "CT",
                "place_of_production": "Habitation Lareinty, Le Lamentin",
            }
        ],
    }
    data.update(overrides)
    return data


def destination_requirement(**overrides):
    """A requirement of Canada for fresh bananas (test data, not a real rule)."""
    import datetime as _dt

    from inspection.models import DestinationRequirement

    values = {
        "code": f"TEST-{DestinationRequirement.objects.count() + 1}",
        "destination_country": "CA",
        "hs_prefix": "0803",
        "kind": DestinationRequirement.Kind.ADDITIONAL_DECLARATION,
        "text_fr": "Déclaration de test sur les bananes",
        "text_en": "Test declaration on bananas",
        "source": "https://example.org/requirements/ca",
        "checked_on": _dt.date(2026, 12, 7),
        **overrides,
    }
    return DestinationRequirement.objects.create(**values)


def requirements_in_force(reference: str) -> list[int]:
    """The ids of the destination's requirements (the loaded ones and the tests' own) that the documentary check
    of an export application must confirm."""
    from inspection.models import ExportApplication
    from inspection.selectors import destination_requirements

    return [r.pk for r in destination_requirements(ExportApplication.objects.get(reference=reference))]
