"""Rate limits count per client address, and a client cannot choose its address with X-Forwarded-For: only
the `TRUSTED_PROXIES` proxies in front of the site are believed."""

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db
VERIFY = "/verify/NO-SUCH-CERTIFICATE/"


@pytest.fixture(autouse=True)
def fresh_limits(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "30/min"},
    }
    cache.clear()
    yield
    cache.clear()


def _statuses(forwarded_for, remote_addr="203.0.113.7", count=31):
    client = Client(REMOTE_ADDR=remote_addr)
    return [client.get(VERIFY, HTTP_X_FORWARDED_FOR=forwarded_for(i)).status_code for i in range(count)]


def test_a_rotating_x_forwarded_for_does_not_escape_the_verify_limit():
    statuses = _statuses(lambda i: f"198.51.100.{i}")

    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_claimed(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    statuses = _statuses(lambda i: f"198.51.100.{i}, 192.0.2.50", remote_addr="10.0.0.2")

    assert statuses[30] == 429
    other = Client(REMOTE_ADDR="10.0.0.2").get(VERIFY, HTTP_X_FORWARDED_FOR="192.0.2.51")
    assert other.status_code == 404  # another client behind the same proxy has its own allowance


def test_the_project_trusts_no_proxy_unless_told():
    from django.conf import settings

    assert settings.TRUSTED_PROXIES == 0 and settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
