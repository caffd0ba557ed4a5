"""Certificate rendering: WeasyPrint against ReportLab drawing the same content, memory over many renders,
and throughput with one and two worker processes.

    .venv/bin/python bench/bench_certificates.py [--renders 60] [--throughput-renders 40]

The CHED is the real template (`templates/certificates/ched.html`) for a consignment with 10 commodity lines
that went through documentary, identity and physical checks and a decision, rendered by the function the
Celery worker uses (`inspection.certificates.render.render_pdf`), warm, without the signature. ReportLab draws
the same text, table and QR code on one A4 page from the same context. Each figure comes from its own child
process so that one measurement does not warm or bloat the next."""

import argparse
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
        issued_at=timezone.now(),
        signer="PIF Martinique – bench",
    )


def reportlab_pdf(ctx) -> bytes:
    """The same CHED content drawn with ReportLab's platypus: headings, boxes, the 10-line table, QR code."""
    import io

    import segno
    from reportlab.graphics import renderPDF  # noqa: F401
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Table, TableStyle

    fonts = ROOT / "static" / "fonts"
    if "PIFSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("PIFSans", str(fonts / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("PIFSans-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFont(TTFont("PIFSans-Oblique", str(fonts / "DejaVuSans-Oblique.ttf")))
        pdfmetrics.registerFontFamily("PIFSans", normal="PIFSans", bold="PIFSans-Bold", italic="PIFSans-Oblique")
    small = ParagraphStyle("s", fontName="PIFSans", fontSize=7.6, leading=9.5)
    title = ParagraphStyle("t", fontName="PIFSans-Bold", fontSize=12, leading=14)

    def bi(v):
        return f"{v.fr} / <i>{v.en}</i>" if v is not None else "–"

    def box(no, fr, en, value):
        return Paragraph(f"<b>{no}</b> {fr} / <i>{en}</i><br/><b>{value}</b>", small)

    c = ctx["c"]
    qr = io.BytesIO()
    segno.make(ctx["verify_url"], error="m").save(qr, kind="png", scale=4, border=1)
    qr.seek(0)
    story = [
        Table(
            [
                [
                    Paragraph(
                        "Document sanitaire commun d'entrée (DSCE) / <i>Common Health Entry Document (CHED)</i>", title
                    ),
                    Image(qr, 24 * mm, 24 * mm),
                ]
            ],
            colWidths=[160 * mm, 26 * mm],
        ),
        Paragraph(f"{ctx['number']} – {bi(ctx['ched_type'])}", small),
        Paragraph("Partie I – Description de l'envoi / <i>Part I – Description of the consignment</i>", title),
    ]
    boxes = [
        [
            box("I.1", "Expéditeur", "Consignor", f"{c.consignor_name}<br/>{c.consignor_address}"),
            box("I.2", "Référence du DSCE", "CHED reference", c.reference),
        ],
        [
            box("I.6", "Destinataire", "Consignee", f"{c.consignee_name}<br/>{c.consignee_address}"),
            box("I.7", "Opérateur", "Operator", c.operator.name),
        ],
        [
            box("I.9", "Documents", "Documents", "; ".join(d["document"].reference for d in ctx["documents"])),
            box("I.11", "Pays d'origine", "Country of origin", bi(ctx["origin"])),
        ],
        [
            box("I.13", "Moyen de transport", "Means of transport", c.transport_id),
            box(
                "I.19",
                "Conteneur / scellé",
                "Container / seal",
                ", ".join(f"{k.number} / {k.seal}" for k in ctx["containers"]),
            ),
        ],
    ]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story.append(Table(boxes, colWidths=[93 * mm, 93 * mm], style=grid))
    rows = [
        [
            Paragraph(h, small)
            for h in (
                "Code NC / <i>CN code</i>",
                "Désignation / <i>Description</i>",
                "Espèce / <i>Species</i>",
                "Colis / <i>Packages</i>",
                "Poids net (kg) / <i>Net weight (kg)</i>",
            )
        ]
    ]
    rows += [
        [
            Paragraph(str(x), small)
            for x in (
                r["line"].cn_code,
                r["line"].description,
                r["line"].species,
                f"{r['line'].packages} {bi(r['package_type'])}",
                r["line"].net_weight_kg,
            )
        ]
        for r in ctx["lines"]
    ]
    story.append(Table(rows, colWidths=[22 * mm, 62 * mm, 36 * mm, 36 * mm, 30 * mm], style=grid))
    story.append(Paragraph("Partie II – Contrôles et décision / <i>Part II – Checks and decision</i>", title))
    d = ctx["decision"]
    story.append(
        Table(
            [
                [
                    box("II.3", "Contrôle documentaire", "Documentary check", bi(ctx["documentary"]["result"])),
                    box("II.4", "Contrôle d'identité", "Identity check", bi(ctx["identity"]["result"])),
                ],
                [
                    box("II.5", "Contrôle physique", "Physical check", bi(ctx["physical"]["result"])),
                    box("II.6", "Analyses", "Laboratory tests", "–"),
                ],
                [
                    box("II.9", "Envoi acceptable pour", "Acceptable for", bi(d["code"])),
                    box("II.21", "Agent certificateur", "Certifying officer", f"{d['officer']}, {ctx['place']}"),
                ],
            ],
            colWidths=[93 * mm, 93 * mm],
            style=grid,
        )
    )
    story.append(Paragraph(f"Vérifiez / <i>Check</i>: {ctx['verify_url']}", small))
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=14 * mm, bottomMargin=16 * mm
    ).build(story)
    return out.getvalue()


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
        render_pdf(html)
        reportlab_pdf(ctx)
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
