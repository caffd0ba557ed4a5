"""Certificate rendering: WeasyPrint against ReportLab drawing the same content, memory over many renders,
and throughput with one and two worker processes.

    .venv/bin/python bench/bench_certificates.py [--renders 60] [--throughput-renders 40]

The CHED is the real template (`templates/certificates/ched.html`) for a consignment with 10 commodity lines
that went through documentary, identity and physical checks and a decision, rendered by the function the
Celery worker uses (`inspection.certificates.render.render_pdf`), warm, without the signature. ReportLab draws
the same text, table and QR code on one A4 page from the same context. Each figure comes from its own child
process so that one measurement does not warm or bloat the next."""

import argparse
import collections
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import ROOT, setup_django  # noqa: E402


def _context():
    """A decided CHED-PP with 10 commodity lines, in a fresh SQLite database."""
    setup_django(f"sqlite:///{tempfile.mkdtemp(prefix='pif-bench-')}/bench.sqlite3")
    from decimal import Decimal

    from inspection.certificates.documents import certificate_context
    from inspection.models import Commodity
    from inspection.roles import Role
    from inspection.services.checks import check_plan_record, documentary_check_record, identity_check_record
    from inspection.services.consignments import consignment_create
    from inspection.services.decisions import decision_record
    from inspection.services.sampling import physical_check_record
    from tests.factories import UserFactory, importer_factory, part_one
    from workflows.flows import InspectionFlow

    InspectionFlow.submit.run = lambda **kwargs: None  # the document only: no workflow engine needed
    Commodity.objects.filter(cn_code="08045000").update(identity_rate=100, physical_rate=100)
    importer = importer_factory("bench-importer")
    inspector = UserFactory(username="bench-inspector", roles=[Role.INSPECTOR])
    officer = UserFactory(username="bench-officer", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    lines = [
        {
            "cn_code": "08045000",
            "description": f"Mangues fraîches, calibre {n + 6}",
            "species": "Mangifera indica",
            "eppo_code": "MNGIN",
            "net_weight_kg": Decimal("1250.500") + n,
            "packages": 250 + n,
            "package_type": "CT",
        }
        for n in range(10)
    ]
    c = consignment_create(actor=importer, part_one=part_one(commodities=lines))
    check_plan_record(consignment=c)
    verdicts = {d.pk: (True, True) for d in c.documents.all()}
    documentary_check_record(actor=inspector, consignment=c, verdicts=verdicts, result="satisfactory")
    identity_check_record(
        actor=inspector, consignment=c, seals_as_declared=True, goods_as_declared=True, result="satisfactory"
    )
    physical_check_record(actor=inspector, consignment=c, result="satisfactory")
    decision = decision_record(actor=officer, consignment=c, code="acceptable_for_internal_market")
    from django.utils import timezone

    return certificate_context(
        kind="ched",
        consignment=c,
        decision=decision,
        number=f"{c.reference}-C1",
        verify_key="k",
        issued_at=timezone.now(),
        signer="PIF Martinique – bench",
    )


def reportlab_pdf(ctx) -> bytes:
    """The CHED drawn with ReportLab's platypus, box for box and word for word as `templates/certificates/
    ched.html` prints it (header and QR code, Part I's boxes, the lines table, Part II's boxes, the decision,
    the signature boxes and the note), in the same fonts and sizes: bold box numbers and values, English in
    italics. `same_words` checks that both PDFs carry the same words."""
    import io
    from xml.sax.saxutils import escape

    import segno
    from django.template.defaultfilters import date as date_filter
    from django.utils import formats
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    fonts = ROOT / "static" / "fonts"
    if "PIFSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("PIFSans", str(fonts / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("PIFSans-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFont(TTFont("PIFSans-Oblique", str(fonts / "DejaVuSans-Oblique.ttf")))
        pdfmetrics.registerFontFamily(
            "PIFSans", normal="PIFSans", bold="PIFSans-Bold", italic="PIFSans-Oblique", boldItalic="PIFSans-Oblique"
        )
    grey = colors.HexColor("#333333")
    text = ParagraphStyle("text", fontName="PIFSans", fontSize=7.6, leading=9.5)
    small = ParagraphStyle("small", parent=text, fontSize=6.6, leading=8.25, textColor=grey)
    value = ParagraphStyle("value", parent=text, fontName="PIFSans-Bold")
    h1 = ParagraphStyle("h1", parent=text, fontName="PIFSans-Bold", fontSize=12, leading=15)
    h2 = ParagraphStyle(
        "h2",
        parent=text,
        fontName="PIFSans-Bold",
        fontSize=8.5,
        leading=10.6,
        backColor="#e6e6e6",
        borderPadding=(0.6 * mm, 1.5 * mm),
        spaceBefore=2.5 * mm,
        spaceAfter=1 * mm,
    )
    cell = ParagraphStyle("cell", parent=text, fontSize=7, leading=8.75)
    num = ParagraphStyle("num", parent=cell, alignment=2)
    head = ParagraphStyle("head", parent=small)

    def e(v):
        return escape(str(v))

    def bi(v):
        if v is None or v == "":
            return "–"
        if v.fr == v.en:
            return e(v.fr)
        return f"{e(v.fr)} / <i>{e(v.en)}</i>"

    def label(no, fr, en):
        return Paragraph((f"<b>{no}</b> " if no else "") + f"{e(fr)} / <i>{e(en)}</i>", small)

    def val(markup):
        return Paragraph(markup, value)

    def dt(v, fmt="d/m/Y H:i"):
        return date_filter(v, fmt) if v else ""

    c, d = ctx["c"], ctx["decision"]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 1.2 * mm),
            ("RIGHTPADDING", (0, 0), (-1, -1), 1.2 * mm),
            ("TOPPADDING", (0, 0), (-1, -1), 0.8 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8 * mm),
        ]
    )
    halves = [93 * mm, 93 * mm]

    def boxes(rows, style=grid):
        return Table(rows, colWidths=halves, style=style)

    def address(text_):
        return "<br/>".join(e(line) for line in str(text_).splitlines())

    qr = io.BytesIO()
    segno.make(ctx["verify_url"], error="m").save(qr, kind="png", scale=5, border=2)
    qr.seek(0)
    header = [
        Paragraph("Document sanitaire commun d'entrée (DSCE) / <i>Common Health Entry Document (CHED)</i>", h1),
        Paragraph(
            f"République française – Poste de contrôle frontalier {bi(ctx['bcp'])} / "
            "<i>French Republic – Border control post</i>",
            text,
        ),
        label("", "Numéro", "Number"),
        val(e(ctx["number"])),
        label("", "Type", "Type"),
        val(f"{bi(ctx['ched_type'])} ({e(c.ched_type.code)})"),
    ]
    qrbox = [Image(qr, 24 * mm, 24 * mm), Paragraph(e(ctx["verify_url"]), ParagraphStyle("u", parent=text, fontSize=6))]
    story = [
        Table(
            [[header, qrbox]],
            colWidths=[146 * mm, 40 * mm],
            style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 1.5, colors.black)],
        ),
        Paragraph("Partie I – Description de l'envoi / <i>Part I – Description of the consignment</i>", h2),
    ]
    documents = [val(f"{bi(x['type'])} : {e(x['document'].reference)}") for x in ctx["documents"]] or [val("–")]
    containers = [val(f"{e(k.number)} / {e(k.seal or '–')}") for k in ctx["containers"]] or [val("–")]
    operator = [label("I.7", "Opérateur responsable de l'envoi", "Operator responsible for the consignment")]
    operator += [val(e(c.operator.name)), Paragraph(address(c.operator.address), text)]
    if c.operator.eori:
        operator.append(Paragraph(f"EORI {e(c.operator.eori)}", text))
    part_one = boxes(
        [
            [
                [
                    label("I.1", "Expéditeur/Exportateur", "Consignor/Exporter"),
                    val(e(c.consignor_name)),
                    Paragraph(f"{address(c.consignor_address)}<br/>{bi(ctx['consignor_country'])}", text),
                ],
                [
                    label("I.2", "Référence du DSCE", "CHED reference"),
                    val(e(c.reference)),
                    label("I.4", "Poste de contrôle frontalier", "Border control post"),
                    val(f"{bi(ctx['bcp'])} ({e(c.bcp.code)})"),
                ],
            ],
            [
                [
                    label("I.6", "Destinataire/Importateur", "Consignee/Importer"),
                    val(e(c.consignee_name)),
                    Paragraph(f"{address(c.consignee_address)}<br/>{bi(ctx['consignee_country'])}", text),
                ],
                operator,
            ],
            [
                [label("I.9", "Documents d'accompagnement", "Accompanying documents"), *documents],
                [
                    label("I.10", "Notification préalable : arrivée prévue", "Prior notification: expected arrival"),
                    val(dt(ctx["expected_arrival"])),
                    label("I.11", "Pays d'origine", "Country of origin"),
                    val(f"{bi(ctx['origin'])} ({e(c.country_of_origin.code)})"),
                ],
            ],
            [
                [
                    label("I.13", "Moyen de transport", "Means of transport"),
                    val(f"{bi(ctx['transport_mode'])} – {e(c.transport_id)}"),
                    label("", "Document de transport", "Transport document"),
                    val(e(c.transport_document or "–")),
                ],
                [label("I.19", "Numéro de conteneur / de scellé", "Container number / seal number"), *containers],
            ],
            [[label("I.20", "Certifié aux fins de", "Certified as or for"), val(bi(ctx["purpose"]))], ""],
        ],
        style=TableStyle([*grid.getCommands(), ("SPAN", (0, 4), (1, 4))]),
    )
    story += [part_one, label("I.31", "Description de l'envoi", "Description of the consignment")]
    rows = [
        [
            Paragraph(h, head)
            for h in (
                "Code NC / <i>CN code</i>",
                "Désignation / <i>Description</i>",
                "Espèce / <i>Species</i>",
                "Colis / <i>Packages</i>",
                "Poids net (kg) / <i>Net weight (kg)</i>",
            )
        ]
    ]
    for r in ctx["lines"]:
        line = r["line"]
        species = e(line.species or "") + (f" ({e(line.eppo_code)})" if line.eppo_code else "")
        rows.append(
            [
                Paragraph(e(line.cn_code), cell),
                Paragraph(e(line.description), cell),
                Paragraph(species, cell),
                Paragraph(f"{e(line.packages or '')} {bi(r['package_type'])}", num),
                Paragraph(e(formats.localize(line.net_weight_kg)), num),
            ]
        )
    story.append(Table(rows, colWidths=[20.5 * mm, 69.1 * mm, 37.2 * mm, 29.8 * mm, 29.8 * mm], style=grid))
    story.append(Paragraph("Partie II – Contrôles et décision / <i>Part II – Checks and decision</i>", h2))

    def check(no, fr, en, result, plan_line=None):
        out = [label(no, fr, en)]
        if result:
            out += [val(bi(result["result"])), Paragraph(e(result["reason"]), text)]
        else:
            out.append(val("Non sélectionné / <i>Not selected</i>"))
        if plan_line:
            out.append(Paragraph(plan_line, small))
        return out

    plan = ctx["plan"]
    samples = [
        Paragraph(
            f"<b>{e(s['sample'].number)} : {bi(s['analysis'])}</b><br/>{bi(s['laboratory'])} – {bi(s['reason'])} – "
            f"{bi(s['conclusion'] or s['status'])}",
            text,
        )
        for s in ctx["samples"]
    ] or [val("Aucune / <i>None</i>")]
    physical = check("II.5", "Contrôle physique", "Physical check", ctx["physical"])
    if ctx["physical_record"] and ctx["physical_record"].findings:
        physical.append(Paragraph(e(ctx["physical_record"].findings), text))
    if plan:
        physical.append(Paragraph(f"Taux {plan.physical_rate} % / <i>Rate {plan.physical_rate} %</i>", small))
    story.append(
        boxes(
            [
                [
                    check("II.3", "Contrôle documentaire", "Documentary check", ctx["documentary"]),
                    check(
                        "II.4",
                        "Contrôle d'identité",
                        "Identity check",
                        ctx["identity"],
                        f"Taux {plan.identity_rate} % / <i>Rate {plan.identity_rate} %</i><br/>"
                        f"Règle / <i>Rule</i> : {e(plan.rule)}"
                        if plan
                        else None,
                    ),
                ],
                [physical, [label("II.6", "Analyses de laboratoire", "Laboratory tests"), *samples]],
            ]
        )
    )
    decided = []
    if d["record"].code.acceptable:
        decided.append(label("II.9", "Envoi acceptable pour", "Consignment acceptable for"))
    else:
        decided.append(label("II.16", "Envoi non acceptable", "Consignment not acceptable"))
    decided.append(Paragraph(bi(d["code"]), ParagraphStyle("dv", parent=value, fontSize=9, leading=11.25)))
    if d["measure"]:
        deadline = (
            f" – avant le {dt(d['deadline'], 'd/m/Y')} / <i>by {dt(d['deadline'], 'd/m/Y')}</i>"
            if d["deadline"]
            else ""
        )
        decided += [label("", "Mesure", "Measure"), val(bi(d["measure"]) + deadline)]
    if d["reasons"]:
        decided += [label("II.17", "Motifs du refus", "Reasons for refusal"), *(val(bi(r)) for r in d["reasons"])]
    decided += [label("", "Décision prise le", "Decided on"), val(dt(d["decided_at"]))]
    story.append(Spacer(1, 1.5 * mm))
    story.append(
        Table(
            [[decided]],
            colWidths=[186 * mm],
            style=[("BOX", (0, 0), (-1, -1), 1.2, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")],
        )
    )
    officer = [label("II.21", "Agent certificateur", "Certifying officer"), val(e(d["officer"]))]
    if d["countersigned_by"]:
        officer += [
            label("", "Contresigné par", "Countersigned by"),
            val(f"{e(d['countersigned_by'])}, {dt(d['countersigned_at'])}"),
        ]
    issued = dt(ctx["issued_at"]) or "–"
    story.append(Spacer(1, 2 * mm))
    story.append(
        boxes(
            [
                [
                    officer,
                    [
                        label("", "Lieu, date de délivrance", "Place, date of issue"),
                        val(f"{e(ctx['place'])}, {issued}"),
                        label("", "Signature électronique (PAdES) de", "Electronic signature (PAdES) by"),
                        val(e(ctx["signer"] or "–")),
                    ],
                ]
            ]
        )
    )
    url = e(ctx["verify_url"])
    story.append(Spacer(1, 2 * mm))
    story.append(
        Paragraph(
            "Vérifiez l'authenticité de ce document et sa validité : scannez le code QR ou ouvrez "
            f"{url}. / <i>Check that this document is genuine and still valid: scan the QR code or open {url}.</i>",
            small,
        )
    )
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm
    ).build(story)
    return out.getvalue()


def pdf_words(pdf: bytes) -> collections.Counter:
    """The words a PDF carries (its extracted text, split on spaces and punctuation; a word broken across two
    lines, as the verify URL in the QR code's narrow column can be, counts as two)."""
    import io
    import re

    from pypdf import PdfReader

    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return collections.Counter(re.findall(r"\w+", text))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_speed(renders: int) -> dict:
    ctx = _context()
    from inspection.certificates.documents import certificate_html
    from inspection.certificates.render import harfbuzz_subsetting_available, render_pdf, warm

    html = certificate_html(ctx)
    warm()
    for _ in range(3):
        weasy_words, lab_words = pdf_words(render_pdf(html)), pdf_words(reportlab_pdf(ctx))
    weasy, lab = [], []
    for _ in range(renders):  # interleaved, so that machine noise hits both alike
        started = time.perf_counter()
        pdf = render_pdf(html)
        weasy.append(time.perf_counter() - started)
        started = time.perf_counter()
        reportlab_pdf(ctx)
        lab.append(time.perf_counter() - started)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {
        "harfbuzz_subset": harfbuzz_subsetting_available(),
        "pages": pages,
        "weasyprint_p50_ms": round(statistics.median(weasy) * 1000, 1),
        "reportlab_p50_ms": round(statistics.median(lab) * 1000, 1),
        "ratio": round(statistics.median(weasy) / statistics.median(lab), 2),
        # the same content: the words only one of the two PDFs has (a few, from different line breaks)
        "words_only_weasyprint": sorted((weasy_words - lab_words).elements()),
        "words_only_reportlab": sorted((lab_words - weasy_words).elements()),
    }


def child_memory(total: int) -> dict:
    ctx = _context()
    from inspection.certificates.documents import certificate_html
    from inspection.certificates.render import render_pdf, warm

    html = certificate_html(ctx)
    warm()
    for _ in range(20):
        render_pdf(html)
    after_20 = rss_mb()
    for _ in range(total - 20):
        render_pdf(html)
    after_total = rss_mb()
    return {
        "rss_after_20_mb": round(after_20, 1),
        f"rss_after_{total}_mb": round(after_total, 1),
        "ratio": round(after_total / after_20, 2),
    }


def _worker_renders(args):
    html, n = args
    from inspection.certificates.render import render_pdf, warm

    warm()
    started = time.perf_counter()
    for _ in range(n):
        render_pdf(html)
    return time.perf_counter() - started


def child_throughput(renders: int) -> dict:
    ctx = _context()
    from inspection.certificates.documents import certificate_html

    html = certificate_html(ctx)
    from django.db import connections

    connections.close_all()
    rates = {}
    for processes in (1, 2):
        # fork: the children inherit Django set up, as Celery's prefork pool does
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_worker_renders, [(html, 2)] * processes)  # warm each process
            started = time.perf_counter()
            pool.map(_worker_renders, [(html, renders)] * processes)
            rates[processes] = processes * renders / (time.perf_counter() - started)
    return {
        "one_process_per_s": round(rates[1], 1),
        "two_processes_per_s": round(rates[2], 1),
        "ratio": round(rates[2] / rates[1], 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=60)
    parser.add_argument("--memory-renders", type=int, default=300)
    parser.add_argument("--throughput-renders", type=int, default=40)
    parser.add_argument("--child", choices=["speed", "memory", "throughput"])
    args = parser.parse_args()
    if args.child:
        result = {
            "speed": lambda: child_speed(args.renders),
            "memory": lambda: child_memory(args.memory_renders),
            "throughput": lambda: child_throughput(args.throughput_renders),
        }[args.child]()
        print(json.dumps(result))
        return
    for part in ("speed", "memory", "throughput"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                part,
                "--renders",
                str(args.renders),
                "--memory-renders",
                str(args.memory_renders),
                "--throughput-renders",
                str(args.throughput_renders),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            raise SystemExit(out.returncode)
        print(f"{part}: {out.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
