"""Every Part I rule, with its field-level message in English and French; nothing stored on failure."""

import copy
import datetime
from decimal import Decimal

import pytest

from inspection.errors import PartOneInvalid
from inspection.models import AuditEvent, Consignment, ReferenceSequence
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import arrival_in, part_one

pytestmark = pytest.mark.django_db
URL = "/api/v1/consignments/"


def _set(path, value):
    def mutate(part):
        node = part
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[keys[-1]] = value
        return part

    return mutate


def _both(first, second):
    return lambda part: second(first(part))


def _arrival(dt):
    return _set("arrival.expected_at", dt.isoformat())


# (case, ched type, mutation, error path, English fragment, French fragment)
RULES = [
    ("bcp required", "CHED-PP", _set("bcp", ""), "bcp", "This field is required.", "Ce champ est obligatoire."),
    ("unknown bcp", "CHED-PP", _set("bcp", "XXFOO1"), "bcp", "Unknown BCP", "Poste de contrôle inconnu"),
    (
        "bcp not approved",
        "CHED-A",
        _set("bcp", "FRFDF1"),
        "bcp",
        "is not approved for CHED-A",
        "n'est pas agréé pour les CHED-A",
    ),
    (
        "wrong transport for bcp",
        "CHED-PP",
        _set("bcp", "FRFDF4"),
        "arrival.transport_mode",
        "does not receive consignments by sea",
        "ne reçoit pas de lots par mer",
    ),
    (
        "consignor name",
        "CHED-PP",
        _set("consignor.name", ""),
        "consignor.name",
        "This field is required.",
        "Ce champ est obligatoire.",
    ),
    (
        "consignee country",
        "CHED-PP",
        _set("consignee.country", ""),
        "consignee.country",
        "This field is required.",
        "Ce champ est obligatoire.",
    ),
    (
        "unknown country",
        "CHED-PP",
        _set("country_of_origin", "QQ"),
        "country_of_origin",
        "Unknown country code",
        "Code pays inconnu",
    ),
    ("unknown purpose", "CHED-PP", _set("purpose", "smuggling"), "purpose", "Unknown purpose", "Finalité inconnue"),
    (
        "transport id",
        "CHED-PP",
        _set("arrival.transport_id", ""),
        "arrival.transport_id",
        "This field is required.",
        "Ce champ est obligatoire.",
    ),
    (
        "arrival in the past",
        "CHED-PP",
        _arrival(arrival_in(days=-1)),
        "arrival.expected_at",
        "must be in the future",
        "doit être dans le futur",
    ),
    (
        "sea freight needs containers",
        "CHED-PP",
        _set("containers", []),
        "containers",
        "Sea freight needs at least one container",
        "Le fret maritime exige au moins un conteneur",
    ),
    (
        "container format",
        "CHED-PP",
        _set("containers.0.number", "ABC123"),
        "containers.0.number",
        "is not a container number",
        "n'est pas un numéro de conteneur",
    ),
    (
        "container check digit",
        "CHED-PP",
        _set("containers.0.number", "CSQU3054384"),
        "containers.0.number",
        "check digit",
        "chiffre de contrôle",
    ),
    (
        "seal required",
        "CHED-PP",
        _set("containers.0.seal", ""),
        "containers.0.seal",
        "This field is required.",
        "Ce champ est obligatoire.",
    ),
    (
        "no commodity",
        "CHED-PP",
        _set("commodities", []),
        "commodities",
        "at least one commodity line",
        "au moins une ligne de marchandise",
    ),
    (
        "cn code not in catalogue",
        "CHED-PP",
        _set("commodities.0.cn_code", "99999999"),
        "commodities.0.cn_code",
        "is not in the catalogue for CHED-PP",
        "ne figure pas au catalogue pour CHED-PP",
    ),
    (
        "cn code of another ched type",
        "CHED-PP",
        _set("commodities.0.cn_code", "02023090"),
        "commodities.0.cn_code",
        "is not in the catalogue for CHED-PP",
        "ne figure pas au catalogue pour CHED-PP",
    ),
    (
        "net weight zero",
        "CHED-PP",
        _set("commodities.0.net_weight_kg", "0"),
        "commodities.0.net_weight_kg",
        "greater than 0 kg",
        "supérieur à 0 kg",
    ),
    (
        "net weight negative",
        "CHED-PP",
        _set("commodities.0.net_weight_kg", "-5"),
        "commodities.0.net_weight_kg",
        "greater than 0 kg",
        "supérieur à 0 kg",
    ),
    (
        "packages zero",
        "CHED-PP",
        _set("commodities.0.packages", 0),
        "commodities.0.packages",
        "at least one package",
        "au moins un colis",
    ),
    (
        "unknown package type",
        "CHED-PP",
        _set("commodities.0.package_type", "ZZ"),
        "commodities.0.package_type",
        "Unknown package type",
        "Type d'emballage inconnu",
    ),
    ("species for plants", "CHED-PP", _set("commodities.0.species", ""), None, None, None),  # catalogue names it
    (
        "species for animals",
        "CHED-A",
        _both(_set("commodities.0.cn_code", "03011100"), _set("commodities.0.species", "")),
        "commodities.0.species",
        "Name the species for CHED-A goods",
        "Indiquez l'espèce pour les marchandises CHED-A",
    ),
    (
        "required document missing",
        "CHED-PP",
        _set("accompanying_documents", []),
        "accompanying_documents",
        "needs: Phytosanitary certificate",
        "exige : Certificat phytosanitaire",
    ),
    (
        "veterinary certificate missing",
        "CHED-P",
        _set("accompanying_documents.0.type", "COMMERCIAL_INVOICE"),
        "accompanying_documents",
        "needs: Official veterinary health certificate",
        "exige : Certificat sanitaire / vétérinaire officiel",
    ),
    (
        "unknown document type",
        "CHED-PP",
        _set("accompanying_documents.0.type", "LOVE_LETTER"),
        "accompanying_documents.0.type",
        "Unknown document type",
        "Type de document inconnu",
    ),
    (
        "document reference",
        "CHED-PP",
        _set("accompanying_documents.0.reference", ""),
        "accompanying_documents.0.reference",
        "This field is required.",
        "Ce champ est obligatoire.",
    ),
]


def _dig(errors, path):
    node = errors
    for key in path.split("."):
        node = node[key]
    return " ".join(node) if isinstance(node, list) else str(node)


@pytest.mark.parametrize(("case", "ched_type", "mutate", "path", "english", "french"), RULES, ids=[r[0] for r in RULES])
def test_rule_gives_field_message_in_both_languages(importer, case, ched_type, mutate, path, english, french):
    payload = mutate(copy.deepcopy(part_one(ched_type, as_json=True)))
    for language, fragment in (("en", english), ("fr", french)):
        response = api_client_for(importer, language).post(URL, payload, format="json")
        if path is None:
            assert response.status_code == 201, response.json()
            return
        assert response.status_code == 400, (case, response.json())
        assert fragment in _dig(response.json(), path), (language, response.json())
    assert Consignment.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert not ReferenceSequence.objects.filter(last__gt=0).exists()  # the number was given back


def test_every_valid_ched_type_is_accepted(importer):
    for ched_type in ("CHED-PP", "CHED-P", "CHED-D", "CHED-A"):
        response = api_client_for(importer).post(URL, part_one(ched_type, as_json=True), format="json")
        assert response.status_code == 201, (ched_type, response.json())


def test_several_errors_are_reported_at_once(importer):
    payload = part_one(as_json=True, bcp="", purpose="")
    payload["commodities"][0]["net_weight_kg"] = "0"
    errors = api_client_for(importer).post(URL, payload, format="json").json()
    assert {"bcp", "purpose", "commodities"} <= set(errors)


def test_container_numbers_are_normalised(importer):
    payload = part_one(as_json=True, containers=[{"number": "csqu 305438 3", "seal": "S1"}])
    response = api_client_for(importer).post(URL, payload, format="json")
    assert response.status_code == 201
    assert response.json()["containers"][0]["number"] == "CSQU3054383"


def test_a_draft_accepts_gaps_but_not_unknown_codes(importer):
    client = api_client_for(importer)
    assert client.post(URL, {"ched_type": "CHED-PP", "draft": True}, format="json").status_code == 201
    response = client.post(URL, {"ched_type": "CHED-PP", "bcp": "NOPE", "draft": True}, format="json")
    assert response.status_code == 400
    assert "bcp" in response.json()


def test_reference_data_out_of_force_is_refused(importer):
    from inspection.models import Commodity

    Commodity.objects.filter(cn_code="08045000").update(valid_to=datetime.date(2026, 1, 2))
    response = api_client_for(importer).post(URL, part_one(as_json=True), format="json")
    assert response.status_code == 400
    assert "cn_code" in response.json()["commodities"]["0"]


@pytest.mark.parametrize("origin", ["FR", "MQ", "ES"])
def test_goods_of_union_origin_take_no_ched(importer, origin):
    response = api_client_for(importer).post(
        "/api/v1/consignments/", part_one(as_json=True, country_of_origin=origin), format="json"
    )
    assert response.status_code == 400
    assert "national plant-health regime" in str(response.json()["country_of_origin"])
    assert not Consignment.objects.exists()


def test_a_re_entry_of_union_goods_takes_a_ched(importer):
    part = part_one("CHED-P", as_json=True, country_of_origin="FR", purpose="re_entry")
    part["after_bcp"] = {"transport_mode": "road", "transport_id": "FG-123-HJ"}  # box I.27, compulsory for a re-entry
    assert api_client_for(importer).post("/api/v1/consignments/", part, format="json").status_code == 201
    part = part_one("CHED-P", as_json=True, country_of_origin="BR", purpose="re_entry")
    response = api_client_for(importer).post("/api/v1/consignments/", part, format="json")
    assert response.status_code == 400 and "purpose" in response.json()


# A draft skips the submit's rules, never its column's bounds: stored, the value could not be read back.
HOSTILE_LINE_VALUES = [
    ("net_weight_kg", Decimal("1e20"), "too large"),
    ("net_weight_kg", Decimal("-1e20"), "too large"),
    ("net_weight_kg", Decimal("NaN"), "must be a number"),
    ("net_weight_kg", Decimal("-Infinity"), "must be a number"),
    ("packages", 10**30, "between 0 and 2147483647"),
    ("packages", -1, "between 0 and 2147483647"),
]


@pytest.mark.parametrize(("key", "value", "message"), HOSTILE_LINE_VALUES)
def test_a_draft_line_holds_only_what_its_column_reads_back(importer, key, value, message):
    part = part_one()
    part["commodities"][0][key] = value
    with pytest.raises(PartOneInvalid) as refused:
        consignment_create(actor=importer, part_one=part, draft=True)
    assert message in " ".join(refused.value.errors[f"commodities.0.{key}"])
    assert not Consignment.objects.exists()


def test_a_draft_gross_weight_that_is_no_number_is_refused(importer):
    with pytest.raises(PartOneInvalid) as refused:
        consignment_create(
            actor=importer, part_one=part_one("CHED-P", total_gross_weight_kg=Decimal("NaN")), draft=True
        )
    assert "must be a number" in " ".join(refused.value.errors["total_gross_weight_kg"])


@pytest.mark.parametrize(
    ("key", "value"),
    [("net_weight_kg", "1e20"), ("net_weight_kg", "NaN"), ("net_weight_kg", "-1e20"), ("packages", 10**30)],
)
def test_a_draft_with_a_hostile_quantity_over_the_api_is_a_400(importer, key, value):
    payload = part_one(as_json=True)
    payload["draft"] = True
    payload["commodities"][0][key] = value
    response = api_client_for(importer).post(URL, payload, format="json")
    assert response.status_code == 400, response.content
    assert key in response.json()["commodities"]["0"]
    assert not Consignment.objects.exists()
