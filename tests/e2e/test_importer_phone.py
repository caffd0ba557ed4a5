"""The importer's portal on a phone (issue 22), in Chromium at 390 × 844 and 360 × 740: every page fits the
width (no sideways scroll), every control is a 44 px target, axe-core finds no serious issue, and the
consignment page opens with its status and the next thing to do."""

import json

import pytest

from tests.e2e.conftest import (
    CHROMIUM_ARGS,  # noqa: F401  (the browser fixture's flags)
    horizontal_overflow,
    keep_screenshot,
    login,
    serious_accessibility_violations,
    small_touch_targets,
)
from tests.factories import importer_factory
from tests.test_portal_phone import _accepted
from tests.test_workflow_paths import _submit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONES = {"390x844": {"width": 390, "height": 844}, "360x740": {"width": 360, "height": 740}}


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_page(size, language):
        context = browser.new_context(
            viewport=PHONES[size],
            locale=language,
            extra_http_headers={"Accept-Language": language},
            base_url=live_server.url,
            has_touch=True,
            is_mobile=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("size", "language"), [("390x844", "fr"), ("360x740", "en")])
def test_every_importer_page_fits_a_phone(phone, size, language, inspector, officer):
    importer = importer_factory("paula")
    accepted = _accepted(importer, inspector, officer, in_thread=True)
    pending = _submit(importer)
    page = phone(size, language)
    login(page, "paula")
    pages = {
        "list": "/consignments/",
        "accepted": accepted.get_absolute_url(),
        "pending-with-upload": pending.get_absolute_url(),
        "part-one": "/consignments/new/?ched_type=CHED-PP",
        "ephyto": "/consignments/import-ephyto/",
        "notifications": "/account/notifications/",
        "tokens": "/account/tokens/",
    }
    problems = {}
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        found = {
            "overflow": horizontal_overflow(page),
            "small targets": small_touch_targets(page),
            "axe": serious_accessibility_violations(page),
        }
        found = {k: v for k, v in found.items() if v}
        if found.get("overflow"):
            found["wide"] = page.evaluate(
                """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
                document.documentElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' +
                Math.round(e.getBoundingClientRect().right))"""
            )
        if found:
            problems[name] = found
        keep_screenshot(page, f"phone-{name}-{size}")
    assert problems == {}, json.dumps(problems, indent=1)

    # the consignment page: status and next step first, above the fold
    page.goto(accepted.get_absolute_url())
    next_step = page.locator(".next-step")
    box = next_step.bounding_box()
    assert box["y"] + box["height"] <= PHONES[size]["height"]
    from django.utils import translation

    with translation.override(language):
        assert str(accepted.get_status_display()) in next_step.inner_text()


def test_the_list_stacks_its_rows_and_folds_its_filters(phone):
    importer = importer_factory("paula")
    _submit(importer)
    page = phone("390x844", "en")
    login(page, "paula")
    page.goto("/consignments/")
    assert not page.locator("#filters form").is_visible()  # folded on a phone
    page.locator("#filters summary").click()
    assert page.locator("#filters form").is_visible()
    cell = page.locator("table.stack tbody td").first
    assert cell.evaluate("td => getComputedStyle(td).display") == "grid"  # a stacked row, labelled
    assert page.locator("table.stack thead").bounding_box()["height"] <= 1
