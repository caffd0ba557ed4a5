"""The pages anyone reaches first, on a tablet in both orientations and both languages: the login page and
the public certificate check behind a QR code. No horizontal scrolling, no serious accessibility issue."""

import pytest

from tests.e2e.conftest import horizontal_overflow, login, serious_accessibility_violations
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_login_page_fits_a_tablet_and_logs_in(tablet, orientation, language):
    from inspection.roles import Role

    UserFactory(username="ines", roles=[Role.INSPECTOR])
    page = tablet(orientation, language)
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == language
    assert horizontal_overflow(page) == 0
    assert serious_accessibility_violations(page) == []
    login(page, "ines")
    assert "/workflow/" in page.url


@pytest.mark.parametrize("language", ["fr", "en"])
def test_certificate_check_page_for_an_unknown_number(tablet, language):
    page = tablet("portrait", language)
    response = page.goto("/verify/CHEDPP.FR.2026.0000001-C1/")
    assert response.status == 404
    assert horizontal_overflow(page) == 0
    assert serious_accessibility_violations(page) == []
    expected = {
        "fr": "Aucun certificat ne correspond à ce numéro et à ce code de vérification.",
        "en": "No certificate matches this number and verification code.",
    }[language]
    assert expected in page.content()
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_policy_blocks_an_injected_inline_script_and_the_tests_hear_of_it(tablet, csp_violations):
    """The guard every browser test relies on: an inline script (as an injection would add) does not run,
    and the violation reaches `csp_violations`."""
    page = tablet("landscape", "en")
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.head.appendChild(script);
        }"""
    )
    page.wait_for_function("() => true")
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in report for report in csp_violations), csp_violations
    csp_violations.clear()  # seen, and expected here
