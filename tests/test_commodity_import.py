"""No re-keying: commodity lines from CSV or Excel (all or nothing, errors by row and column), the template,
and a previous consignment cloned as a new draft."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from inspection.models import AuditEvent, CommodityLine, Consignment
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import part_one

pytestmark = pytest.mark.django_db

HEADER = "cn_code,description,species,eppo_code,net_weight_kg,packages,package_type\n"


@pytest.fixture
def draft(importer):
    return consignment_create(actor=importer, part_one=part_one(), draft=True)


def _import(client, draft, content: bytes, name="lines.csv", **extra):
    return client.post(
        f"/api/v1/consignments/{draft.reference}/commodities/import/",
        {"file": SimpleUploadedFile(name, content), **extra},
        format="multipart",
    )


def test_csv_lines_are_added_to_the_draft(api, draft):
    csv = HEADER + '08043000,Ananas,Ananas comosus,ANHCO,"500,5",50,CT\n8045000,Mangues,,,200,20,BX\n'
    response = _import(api, draft, csv.encode())

    assert response.status_code == 200, response.content
    lines = response.json()["commodities"]
    assert [(line["cn_code"], line["net_weight_kg"], line["packages"]) for line in lines] == [
        ("08045000", "1250.500", 250),  # the line already there
        ("08043000", "500.500", 50),
        ("08045000", "200.000", 20),  # the leading zero a spreadsheet drops is put back
    ]
    assert lines[2]["species"] == "Mangifera indica"  # from the catalogue when the file leaves it blank


def test_excel_with_semicolons_replaced(api, draft):
    workbook = Workbook()
    workbook.active.append(["cn_code", "net_weight_kg", "packages", "package_type", "species"])
    workbook.active.append([8043000, 99.5, 10, "CT", "Ananas comosus"])
    out = io.BytesIO()
    workbook.save(out)

    response = _import(api, draft, out.getvalue(), name="lines.xlsx", replace="true")

    assert response.status_code == 200, response.content
    assert [(line["cn_code"], line["net_weight_kg"]) for line in response.json()["commodities"]] == [
        ("08043000", "99.500")
    ]
    semicolons = "cn_code;net_weight_kg;packages;package_type\n08043000;12,5;3;CT\n"
    assert len(_import(api, draft, semicolons.encode("cp1252"), replace="true").json()["commodities"]) == 1


def test_one_bad_row_and_nothing_is_imported_with_errors_by_row_and_column(api, draft):
    before = list(CommodityLine.objects.filter(consignment=draft).values_list("cn_code", flat=True))
    events = AuditEvent.objects.count()
    csv = HEADER + "08043000,Ananas,,,500,50,CT\n99999999,Bad,,,abc,-1,XX\n08045000,Ok,,,1,1,CT\n"

    response = _import(api, draft, csv.encode())

    assert response.status_code == 400
    errors = response.json()["rows"]
    assert "net_weight_kg" in errors["3"] and "packages" in errors["3"]
    assert list(CommodityLine.objects.filter(consignment=draft).values_list("cn_code", flat=True)) == before
    assert AuditEvent.objects.count() == events
    # types right, codes wrong: the draft's rules name the row and column too
    response = _import(api, draft, (HEADER + "08043000,A,,,5,5,CT\n99999999,B,,,5,5,XX\n").encode())
    assert response.status_code == 400
    assert set(response.json()["rows"]["3"]) == {"cn_code", "package_type"}
    assert "not in the catalogue" in response.json()["rows"]["3"]["cn_code"][0]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"cn_code,weight\n1,2\n", "x.csv", "Missing column"),
        (HEADER.encode(), "x.csv", "no commodity line"),
        (b"PK\x03\x04 not really a workbook", "x.xlsx", "cannot be read"),
        (b"\x00\x01\x02binary", "x.csv", "CSV file or an Excel"),
    ],
)
def test_bad_files_are_refused_clearly(api, draft, content, name, message):
    response = _import(api, draft, content, name=name)
    assert response.status_code == 400
    assert any(message in m for m in response.json()["file"])


def test_only_a_draft_takes_lines(api, draft):
    Consignment.objects.filter(pk=draft.pk).update(status="submitted")
    assert _import(api, draft, (HEADER + "08043000,A,,,5,5,CT\n").encode()).status_code == 409


def test_templates_download_and_import_as_they_are(api, importer, draft):
    client = Client()
    client.force_login(importer)
    csv = client.get("/consignments/commodity-lines-template.csv")
    assert csv.status_code == 200 and csv["Content-Disposition"].startswith("attachment")
    xlsx = client.get("/consignments/commodity-lines-template.xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).active["A2"].value == "08045000"
    assert _import(api, draft, csv.content).status_code == 200
    assert _import(api, draft, xlsx.content, name="t.xlsx").status_code == 200
    assert client.get("/consignments/commodity-lines-template.exe").status_code == 404


def test_portal_import_lists_errors_by_row_and_column(importer, draft):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    page = client.post(
        f"/consignments/{draft.reference}/commodities/import/",
        {"file": SimpleUploadedFile("l.csv", (HEADER + "08043000,A,,,x,5,CT\n").encode())},
        follow=True,
    ).content.decode()
    assert "Nothing was imported" in page and "Row 2, column net_weight_kg" in page
    page = client.post(
        f"/consignments/{draft.reference}/commodities/import/",
        {"file": SimpleUploadedFile("l.csv", (HEADER + "08043000,A,,,5,5,CT\n").encode())},
        follow=True,
    ).content.decode()
    assert "Commodity lines imported." in page and "08043000" in page


def test_clone_copies_what_repeats_and_blanks_what_belongs_to_one_shipment(api, importer):
    source = consignment_create(actor=importer, part_one=part_one())
    response = api.post(f"/api/v1/consignments/{source.reference}/clone/")

    assert response.status_code == 201
    clone = response.json()
    assert clone["status"] == "draft" and clone["reference"] != source.reference
    assert clone["consignor"] == part_one()["consignor"] and clone["bcp"] == "FRFDF1"
    assert clone["commodities"][0]["cn_code"] == "08045000" and clone["commodities"][0]["packages"] == 250
    assert clone["arrival"]["expected_at"] is None and clone["arrival"]["transport_mode"] == "sea"
    assert clone["containers"] == []
    assert clone["accompanying_documents"] == [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": ""}]
    event = AuditEvent.objects.get(action="consignment.cloned")
    assert event.data == {"from": source.reference} and event.consignment.reference == clone["reference"]


def test_portal_clone_opens_the_new_draft(importer):
    source = consignment_create(actor=importer, part_one=part_one())
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    response = client.post(f"/consignments/{source.reference}/clone/")
    clone = Consignment.objects.exclude(pk=source.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/consignments/{clone.reference}/edit/"
    assert "copied from" in client.get(response["Location"]).content.decode()


def test_staff_cannot_clone(inspector, importer):
    source = consignment_create(actor=importer, part_one=part_one())
    assert api_client_for(inspector).post(f"/api/v1/consignments/{source.reference}/clone/").status_code == 403


# Issue 16, item 2: a workbook is a zip; what it would inflate to is bounded before openpyxl reads it.


def _workbook_with_sheet(sheet_xml: bytes) -> bytes:
    """A valid workbook from openpyxl, its first sheet's XML replaced by `sheet_xml` (deflated)."""
    workbook = Workbook()
    workbook.active.append(["cn_code", "net_weight_kg", "packages", "package_type"])
    template = io.BytesIO()
    workbook.save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = sheet_xml if member.filename == "xl/worksheets/sheet1.xml" else source.read(member)
            target.writestr(member.filename, data)
    return out.getvalue()


def _sheet_xml(rows: list[list[str]]) -> bytes:
    body = "".join(
        f'<row r="{r}">' + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in row) + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def test_a_workbook_that_unzips_too_large_is_refused_before_parsing(api, draft, monkeypatch):
    header = '<row r="1"><c t="inlineStr"><is><t>cn_code</t></is></c></row>'
    filler = '<row r="2"><c t="inlineStr"><is><t>x</t></is></c></row>' * (25 * 1024 * 1024 // 52)
    sheet = _sheet_xml([]).replace(b"<sheetData></sheetData>", f"<sheetData>{header}{filler}</sheetData>".encode())
    bomb = _workbook_with_sheet(sheet)
    assert len(bomb) < 200 * 1024 and len(sheet) > 25 * 1024 * 1024
    parsed = []
    monkeypatch.setattr("inspection.services.commodity_import.load_workbook", lambda *a, **k: parsed.append(1) or 1 / 0)

    response = _import(api, draft, bomb, name="lines.xlsx")

    assert response.status_code == 400
    assert "once unzipped" in response.json()["file"][0]
    assert parsed == []  # refused on the zip's directory, before openpyxl inflated anything
    assert CommodityLine.objects.filter(consignment=draft).count() == 1


def test_a_member_compressed_beyond_any_spreadsheet_is_refused(api, draft):
    # 5 MB (within the 20 MB total) of one repeated byte: deflated well over 100 to 1.
    sheet = _sheet_xml([["cn_code"]]).replace(b"<sheetData>", b"<sheetData>" + b" " * (5 * 1024 * 1024))
    response = _import(api, draft, _workbook_with_sheet(sheet), name="lines.xlsx")
    assert response.status_code == 400
    assert "once unzipped" in response.json()["file"][0]


def test_a_workbook_with_too_many_columns_is_refused(api, draft):
    header = ["cn_code", "net_weight_kg", "packages", "package_type"]
    sheet = _sheet_xml([header + [f"extra{i}" for i in range(40)], ["08043000", "10", "1", "CT"]])
    response = _import(api, draft, _workbook_with_sheet(sheet), name="lines.xlsx")
    assert response.status_code == 400
    assert response.json()["file"] == ["At most 30 columns per file."]
    assert CommodityLine.objects.filter(consignment=draft).count() == 1


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused(api, draft):
    response = _import(api, draft, HEADER.encode() + b"08043000,A,,,1,1,CT\n", name="lines.xlsx")
    assert response.status_code == 400
    assert "cannot be read" in response.json()["file"][0]


def test_a_hand_built_workbook_within_the_bounds_still_imports(api, draft):
    sheet = _sheet_xml([["cn_code", "net_weight_kg", "packages", "package_type"], ["08043000", "10", "1", "CT"]])
    response = _import(api, draft, _workbook_with_sheet(sheet), name="lines.xlsx", replace="true")
    assert response.status_code == 200, response.content
    assert [line["cn_code"] for line in response.json()["commodities"]] == ["08043000"]
