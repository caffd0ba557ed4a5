"""Password guessing: after LOGIN_FAILURE_LIMIT wrong passwords for one account from one address, that
account is locked from that address, even with the right password, with a clear 429; another account from
the same address (a BCP's shared NAT) still logs in. On the login page and the API token endpoint alike."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
NAT = "192.0.2.10"


@pytest.fixture(autouse=True)
def accounts(settings):
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()  # the token endpoint's anonymous rate limit
    users = {}
    for name in ("ines", "olivier"):
        users[name] = UserFactory(username=name)
        users[name].set_password("right-pass-123")
        users[name].save()
    yield users
    cache.clear()


def _login_page(username, password, address=NAT):
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en").post(
        "/accounts/login/", {"username": username, "password": password}
    )


def _token(username, password, address=NAT):
    return APIClient(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_six_wrong_passwords_lock_the_account_on_the_login_page_from_that_address_only():
    statuses = [_login_page("ines", f"guess-{i}").status_code for i in range(6)]

    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert statuses[5] == 429
    locked = _login_page("ines", "right-pass-123")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert _login_page("olivier", "right-pass-123").status_code == 302  # a colleague on the same NAT
    assert _login_page("ines", "right-pass-123", address="198.51.100.7").status_code == 302


def test_six_wrong_passwords_lock_the_account_on_the_token_endpoint_from_that_address_only():
    statuses = [_token("ines", f"guess-{i}").status_code for i in range(6)]

    assert statuses[:4] == [400] * 4
    assert statuses[5] == 429
    locked = _token("ines", "right-pass-123")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["detail"]
    assert "token" not in locked.json()
    assert _token("olivier", "right-pass-123").status_code == 200


def test_failures_are_counted_per_account_and_address_together():
    for i in range(3):
        _token("ines", f"guess-{i}")

    assert list(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")) == [
        ("ines", NAT, 3)
    ]


def test_a_spoofed_x_forwarded_for_does_not_reset_the_count():
    for i in range(6):
        Client(REMOTE_ADDR=NAT).post(
            "/accounts/login/", {"username": "ines", "password": "x"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        )

    assert _login_page("ines", "right-pass-123").status_code == 429
