"""Real-browser tests: Playwright driving Debian's Chromium (`apt-get install chromium`; no browser download)
against Django's live server, with axe-core (from npm, `tests/e2e/package.json`) for accessibility.

`make test` runs them when Chromium is present, and leaves them out (deselected, with a notice) when it is
not; `.ci/run` installs Chromium and sets PIF_E2E=required, so there they always run."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PIF_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Chromium as root in a sandboxed machine, with nothing that calls out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET_VIEWPORTS = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}


def e2e_available() -> str | None:
    """Why the browser tests can't run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not AXE.exists():
        return f"axe-core not installed ({AXE}: run `npm ci --prefix tests/e2e`)"
    return None


def pytest_collection_modifyitems(config, items):
    missing = e2e_available()
    if missing is None:
        return
    e2e = [item for item in items if item.get_closest_marker("e2e")]
    if not e2e:
        return
    if os.environ.get("PIF_E2E") == "required":
        raise pytest.UsageError(f"PIF_E2E=required but the browser tests can't run: {missing}")
    config.hook.pytest_deselected(items=e2e)
    items[:] = [item for item in items if not item.get_closest_marker("e2e")]
    config.issue_config_time_warning(
        pytest.PytestConfigWarning(f"{len(e2e)} browser tests left out: {missing}"), stacklevel=2
    )


def pytest_itemcollected(item):
    if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
        item.add_marker(pytest.mark.e2e)


AUDIT_TABLES = ("inspection_auditevent", "inspection_auditcheckpoint")


@pytest.fixture(autouse=True)
def _audit_trail_flushable(request):
    """A browser test's database is emptied after it (its live server needs real commits), and the audit
    trail's append-only triggers refuse that DELETE on SQLite. They are lifted just for that flush, and put
    back (as migration 0012 makes them) before the next test. PostgreSQL's flush truncates, which they allow."""
    from django.db import connection

    request.getfixturevalue("transactional_db")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                for op in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
                    )
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                for op in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, while the tests' own ORM calls (and the
    # database set-up around them) stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page the tests open reports what its Content-Security-Policy blocked, to `csp_violations`: the
# browser fires `securitypolicyviolation` on the document (and logs it to the console) for each one.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.pifCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`);
});
"""


@pytest.fixture
def csp_violations():
    """What the pages' CSP blocked during the test: `tablet` fails the test when this is not empty."""
    return []


@pytest.fixture
def tablet(browser, live_server, csp_violations):
    """`tablet(orientation, language)` opens a fresh browser context the size of a 10-inch tablet. The test
    fails if any page it opened had something blocked by the Content-Security-Policy."""
    contexts = []

    def open_page(orientation="landscape", language="fr"):
        context = browser.new_context(
            viewport=TABLET_VIEWPORTS[orientation],
            locale=language,
            extra_http_headers={"Accept-Language": language},
            base_url=live_server.url,
            has_touch=True,
        )
        context.set_default_timeout(15_000)
        context.expose_function("pifCspViolation", lambda report: csp_violations.append(report))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert csp_violations == [], "the Content-Security-Policy blocked something"


def login(page, username, password="pw"):  # the factories' password
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.primary")
    page.wait_for_load_state()


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as `id: target` strings."""
    # evaluated by the test's driver, as the page's CSP allows no inline <script> (add_script_tag is one)
    page.evaluate(AXE.read_text())
    # after the page's transitions (a snackbar fading in has too little contrast half-way)
    result = page.evaluate(
        """async () => {
          await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null)));
          return await axe.run(document, {resultTypes: ['violations']});
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


TOUCH_MIN = 44  # CSS pixels (WCAG 2.5.5, and the issue's "at least 44 px")


def small_touch_targets(page) -> list[str]:
    """The visible controls smaller than TOUCH_MIN × TOUCH_MIN, measured by the area that takes the tap (a
    control's own box, or its label's or its material wrapper's when larger), in layout pixels (an opening
    snackbar's scale animation does not count). Links inside a sentence are left out, as WCAG does."""
    return page.evaluate(
        """(min) => {
          const seen = [];
          const tappable = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button]';
          for (const el of document.querySelectorAll(tappable)) {
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (box.width === 0 && box.height === 0 && el.type !== 'checkbox' && el.type !== 'radio') continue;
            if (style.visibility === 'hidden' || el.closest('[hidden]')) continue;
            if (el.tagName === 'A' && el.closest('p, li, dd, td, small') && !el.classList.contains('button')) continue;
            let w = el.offsetWidth || box.width, h = el.offsetHeight || box.height;
            for (const around of [el.closest('label'), el.closest('.mdc-checkbox, .mdc-radio, .mdc-button')]) {
              if (!around) continue;
              w = Math.max(w, around.offsetWidth);
              h = Math.max(h, around.offsetHeight);
            }
            if (w < min || h < min) {
              const name = el.name ? `[name=${el.name}]` : '';
              const label = (el.innerText || el.value || '').trim().slice(0, 30);
              seen.push(`${el.tagName.toLowerCase()}${name} "${label}" ${Math.round(w)}x${Math.round(h)}`);
            }
          }
          return seen;
        }""",
        TOUCH_MIN,
    )


def keep_screenshot(page, name: str) -> None:
    """With PIF_SCREENSHOTS=<folder> (e.g. docs/screens), the page as the tablet shows it, for the docs."""
    folder = os.environ.get("PIF_SCREENSHOTS")
    if folder:
        size = page.viewport_size
        orientation = "landscape" if size["width"] > size["height"] else "portrait"
        language = page.evaluate("document.documentElement.lang")
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}-{orientation}-{language}.png"))
