"""Commodity lines from a CSV or Excel file, so an importer does not re-key a packing list. Every row is
checked, by type here and by the Part I rules of the draft; one bad row and nothing is imported."""

import csv
import io
import zipfile
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from inspection import part_one_schema
from inspection.atomic import atomic_service
from inspection.errors import PartOneInvalid, UploadRefused
from inspection.models import Consignment
from inspection.selectors import consignment_part_one
from inspection.services.consignments import consignment_update_draft
from inspection.services.documents import upload_read

# The template's columns; the other fields of a commodity line in the Part I schema are optional columns (a file
# without them still imports; the submit rules ask for those the CHED type requires: number_of_animals on CHED-A,
# establishment_of_origin on CHED-P).
COLUMNS = ("cn_code", "description", "species", "eppo_code", "net_weight_kg", "packages", "package_type")
OPTIONAL_COLUMNS = tuple(f.key for f in part_one_schema.fields(line=True) if f.key not in COLUMNS)
TEXT_LIMITS = {f.key: f.max_length for f in part_one_schema.fields(line=True) if f.kind == "text"}
REQUIRED_COLUMNS = ("cn_code", "net_weight_kg", "packages", "package_type")
MAX_ROWS = 1000
MAX_COLUMNS = 30
XLSX_MAGIC = b"PK\x03\x04"
# A workbook is a zip: its members are checked on their declared sizes before openpyxl inflates anything, so
# a small upload cannot unzip into hundreds of megabytes (a "zip bomb").
XLSX_MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_RATIO = 100  # compressed:uncompressed, checked for members over XLSX_RATIO_FROM_BYTES
XLSX_RATIO_FROM_BYTES = 1024 * 1024
TEMPLATE_EXAMPLE = ("08045000", "Mangues fraîches", "Mangifera indica", "MNGIN", "1250.500", "250", "CT")


def commodity_template_csv() -> bytes:
    """The template offered for download: the columns, and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM correctly


def commodity_template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "commodities"
    sheet.append(COLUMNS)
    sheet.append([*TEMPLATE_EXAMPLE[:4], Decimal(TEMPLATE_EXAMPLE[4]), int(TEMPLATE_EXAMPLE[5]), TEMPLATE_EXAMPLE[6]])
    for cell in sheet["A"]:
        cell.number_format = "@"  # CN codes keep their leading zero
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _unreadable() -> UploadRefused:
    return UploadRefused({"file": [_("This Excel file cannot be read: save it again as .xlsx.")]})


def _too_many_columns() -> UploadRefused:
    return UploadRefused({"file": [_("At most %(n)s columns per file.") % {"n": MAX_COLUMNS}]})


def xlsx_archive_check(data: bytes) -> None:
    """Refuse, before anything is inflated, a workbook that is not a zip or whose members would unzip beyond
    `XLSX_MAX_UNZIPPED_BYTES` in all, or one of whose large members is compressed more than `XLSX_MAX_RATIO`
    to 1 (spreadsheet XML compresses well, but not that well)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _unreadable() from None
    too_large = UploadRefused(
        {
            "file": [
                _("This Excel file would take more than %(size)s MB once unzipped: split it into smaller files.")
                % {"size": XLSX_MAX_UNZIPPED_BYTES // (1024 * 1024)}
            ]
        }
    )
    if len(members) > XLSX_MAX_MEMBERS:
        raise _unreadable()
    total = 0
    for member in members:
        total += member.file_size
        if total > XLSX_MAX_UNZIPPED_BYTES:
            raise too_large
        if member.file_size > XLSX_RATIO_FROM_BYTES and member.file_size > XLSX_MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise too_large


def _xlsx_rows(data: bytes) -> list[list]:
    xlsx_archive_check(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or hostile workbook: all we can say is that it cannot be read
        raise _unreadable() from None
    try:
        sheet = workbook.worksheets[0]
        # The sheet's declared size (`max_row`, `max_column`) counts formatted empty cells and may be absent
        # or false: the rows are counted, and their filled cells, as they are read (within the unzipped bound).
        rows = []
        for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2):
            row = list(row)
            while row and row[-1] in (None, ""):
                row.pop()  # formatted but empty cells at the end of a row are not columns
            if len(row) > MAX_COLUMNS:
                raise _too_many_columns()
            rows.append(row)
        return rows
    except UploadRefused:
        raise
    except Exception:
        raise _unreadable() from None
    finally:
        workbook.close()


def _rows(data: bytes) -> list[list]:
    if data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UploadRefused({"file": [_("Upload a CSV file or an Excel (.xlsx) workbook.")]})
    if "\x00" in text:
        raise UploadRefused({"file": [_("Upload a CSV file or an Excel (.xlsx) workbook.")]})
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def commodity_rows_parse(data: bytes) -> list[dict]:
    """Typed commodity lines, or `UploadRefused` with `rows.<row number>.<column>` errors (row 1 is the
    header, as the spreadsheet shows it)."""
    rows = _rows(data)
    if not rows:
        raise UploadRefused({"file": [_("The file is empty.")]})
    header = [_cell(h).lower().replace(" ", "_") for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        messages = []
        if missing:
            messages.append(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
        if unknown:
            messages.append(_("Unknown column(s): %(columns)s.") % {"columns": ", ".join(unknown)})
        messages.append(_("Use the template: %(columns)s.") % {"columns": ", ".join(COLUMNS + OPTIONAL_COLUMNS)})
        raise UploadRefused({"file": messages})
    if len(rows) > MAX_ROWS + 1:
        raise UploadRefused({"file": [_("At most %(n)s lines per file.") % {"n": MAX_ROWS}]})
    errors: dict[str, list[str]] = {}
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {column: _cell(row[i]) if i < len(row) else "" for i, column in enumerate(header) if column}
        if not any(cells.values()):
            continue
        line = {column: cells.get(column, "") for column in COLUMNS + OPTIONAL_COLUMNS}
        if line["cn_code"].isdigit() and len(line["cn_code"]) < 8:
            line["cn_code"] = line["cn_code"].zfill(8)  # a spreadsheet dropped the leading zero
        try:
            line["net_weight_kg"] = Decimal(line["net_weight_kg"].replace(",", ".")) if line["net_weight_kg"] else None
            if line["net_weight_kg"] is not None and (
                not line["net_weight_kg"].is_finite() or abs(line["net_weight_kg"]) >= 10**9
            ):
                raise InvalidOperation
        except InvalidOperation:
            errors[f"rows.{number}.net_weight_kg"] = [_("Enter a number of kilograms, e.g. 1250.5.")]
        else:
            if line["net_weight_kg"] is not None and line["net_weight_kg"] <= 0:
                errors[f"rows.{number}.net_weight_kg"] = [_("The net weight must be greater than 0 kg.")]
        try:
            line["packages"] = int(line["packages"]) if line["packages"] else None
        except ValueError:
            errors[f"rows.{number}.packages"] = [_("Enter a whole number of packages.")]
        else:
            if line["packages"] is not None and line["packages"] < 1:
                errors[f"rows.{number}.packages"] = [_("There must be at least one package.")]
        try:
            line["number_of_animals"] = int(line["number_of_animals"]) if line["number_of_animals"] else None
        except ValueError:
            errors[f"rows.{number}.number_of_animals"] = [_("Enter a whole number of animals.")]
        for column, limit in TEXT_LIMITS.items():
            if len(line[column]) > limit:
                errors[f"rows.{number}.{column}"] = [_("At most %(n)s characters.") % {"n": limit}]
        line["row"] = number
        lines.append(line)
    if errors:
        raise UploadRefused(errors)
    if not lines:
        raise UploadRefused({"file": [_("The file has no commodity line under its header.")]})
    return lines


@atomic_service
def commodity_lines_import(*, actor, consignment: Consignment, file, replace: bool = False) -> Consignment:
    """Add (or, with `replace`, substitute) a draft's commodity lines from a CSV or Excel file. Each line must
    pass the draft's rules (CN code in the catalogue of its CHED type, known package type); any error and
    nothing is imported, with the errors given per row and column."""
    data = upload_read(file)
    if (getattr(file, "name", "") or "").lower().endswith((".xlsx", ".xlsm")) and not data.startswith(XLSX_MAGIC):
        raise _unreadable()  # named a workbook, but not a zip: never read as CSV instead
    lines = commodity_rows_parse(data)
    part = consignment_part_one(consignment)
    kept = [] if replace else part["commodities"]
    part["commodities"] = kept + [{k: v for k, v in line.items() if k != "row"} for line in lines]
    try:
        return consignment_update_draft(actor=actor, consignment=consignment, part_one=part)
    except PartOneInvalid as exc:
        errors: dict[str, list[str]] = {}
        for path, messages in exc.errors.items():
            keys = path.split(".")
            if keys[0] == "commodities" and len(keys) == 3 and int(keys[1]) >= len(kept):
                path = f"rows.{lines[int(keys[1]) - len(kept)]['row']}.{keys[2]}"
            errors.setdefault(path, []).extend(messages)
        raise UploadRefused(errors) from None
