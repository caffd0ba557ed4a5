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
    expected = {"fr": "Aucun certificat ne porte ce numéro.", "en": "No certificate has this number."}[language]
    assert expected in page.content()
