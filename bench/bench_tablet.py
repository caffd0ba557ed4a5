"""Tap to next screen on a tablet, in a real browser (Playwright driving Debian's Chromium, as the browser
tests do) against a live server on loopback: the inspector taps "Claim and open" on the day page until the
check's form is drawn, then taps "Execute" until the day page is drawn again. p50 and p95 of each, on SQLite
and PostgreSQL.

    .venv/bin/python bench/bench_tablet.py [--taps 40]

Each time runs from just before Playwright's click to the moment the next screen's content is in the page
(the form's first radio button, the day page's arrivals), so it includes the browser's work and Playwright's
round trips (about a millisecond each), not only the server's.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import percentile, run_per_backend, setup_django, table  # noqa: E402


def child(url: str, taps: int) -> dict:
    setup_django(url)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread, the ORM beside it
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright
    from viewflow.workflow.models import Task

    import pif.urls  # noqa: F401
    from inspection.models import Bcp, Commodity, Consignment, StaffPost
    from inspection.roles import Role
    from inspection.services.consignments import consignment_create
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET_VIEWPORTS
    from tests.factories import UserFactory, arrival_in, importer_factory, part_one
    from workflows.flows import InspectionFlow

    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=0)
    importer = importer_factory("bench-importer")
    inspector = UserFactory(username="bench-inspector", roles=[Role.INSPECTOR])
    StaffPost.objects.create(user=inspector, bcp=Bcp.objects.get(code="FRFDF1"))
    consignments = []
    for i in range(taps + 3):  # three for the warm-up
        consignment = consignment_create(actor=importer, part_one=part_one())
        Consignment.objects.filter(pk=consignment.pk).update(expected_arrival=arrival_in(0, 6 + i % 15))
        consignments.append(consignment)
    for connection in connections.all():
        connection.close()

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    base = f"http://127.0.0.1:{server.port}"

    claim, submit = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=TABLET_VIEWPORTS["landscape"], base_url=base, has_touch=True)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", "bench-inspector")
        page.fill("#id_password", "pw")
        page.click("button.primary")
        page.wait_for_load_state()
        page.goto("/workflow/today/")
        for n, consignment in enumerate(consignments):
            task = Task.objects.get(
                process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check
            )
            page.wait_for_selector(f"form[action^='{task.reverse('assign')}'] button")
            started = time.perf_counter()
            page.click(f"form[action^='{task.reverse('assign')}'] button")
            page.wait_for_selector("input[name=result]")
            claimed = time.perf_counter()
            for document in consignment.documents.all():
                page.check(f"input[name=doc_{document.pk}_present]")
                page.check(f"input[name=doc_{document.pk}_valid]")
            page.check("input[name=result][value=satisfactory]")
            tapped = time.perf_counter()
            page.click("button.mdc-button--raised")
            page.wait_for_selector("#arrivals-today")
            done = time.perf_counter()
            if n >= 3:
                claim.append((claimed - started) * 1000)
                submit.append((done - tapped) * 1000)
        browser.close()
    server.terminate()
    return {
        "taps": len(claim),
        "claim_p50": percentile(claim, 50),
        "claim_p95": percentile(claim, 95),
        "submit_p50": percentile(submit, 50),
        "submit_p95": percentile(submit, 95),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--taps", type=int, default=40)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.taps)))
        return
    results = run_per_backend(__file__, "--taps", str(args.taps))
    rows = [
        {
            "backend": r["backend"],
            "taps": r["taps"],
            "claim p50": f"{r['claim_p50']:.0f} ms",
            "claim p95": f"{r['claim_p95']:.0f} ms",
            "submit p50": f"{r['submit_p50']:.0f} ms",
            "submit p95": f"{r['submit_p95']:.0f} ms",
        }
        for r in results
    ]
    print(table(rows, ["backend", "taps", "claim p50", "claim p95", "submit p50", "submit p95"]))
    print("target: p95 at most 300 ms for each tap")


if __name__ == "__main__":
    main()
