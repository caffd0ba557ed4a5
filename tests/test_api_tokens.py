"""API tokens: an importer makes several in the portal (each shown once, stored hashed), revokes any of
them, and each has its own rate limit. Another user's token is a 404."""

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from inspection.models import ApiToken, AuditEvent
from inspection.services.api_tokens import api_token_create, api_token_hash, api_token_revoke

pytestmark = pytest.mark.django_db


def _token_client(key):
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en")


def test_a_token_made_in_the_portal_works_until_revoked(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)

    page = client.post("/account/tokens/", {"name": "Our ERP"})

    assert page["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=importer)
    key = page.context["new_key"]
    assert key in page.content.decode() and key.startswith("pif_")
    assert token.key_hash == api_token_hash(key) and key not in str(ApiToken.objects.values().get())
    assert key not in client.get("/account/tokens/").content.decode()  # shown once
    assert _token_client(key).get("/api/v1/consignments/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    client.post(f"/account/tokens/{token.pk}/revoke/")

    response = _token_client(key).get("/api/v1/consignments/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert list(AuditEvent.objects.values_list("action", flat=True).filter(action__startswith="api_token")) == [
        "api_token.created",
        "api_token.revoked",
    ]


def test_several_tokens_each_revoked_alone(importer):
    (first, first_key), (second, second_key) = (api_token_create(actor=importer, name=n) for n in ("ERP", "Broker"))
    api_token_revoke(actor=importer, token=first)
    assert _token_client(first_key).get("/api/v1/consignments/").status_code == 401
    assert _token_client(second_key).get("/api/v1/consignments/").status_code == 200


def test_the_login_token_of_the_contract_still_works(importer):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "pw"}, format="json")
    assert _token_client(response.json()["token"]).get("/api/v1/consignments/").status_code == 200


def test_another_users_token_is_a_404_and_stays_valid(importer, other_importer):
    token, key = api_token_create(actor=importer, name="Alice SAP connector")
    client = Client()
    client.force_login(other_importer)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert "Alice SAP connector" not in client.get("/account/tokens/").content.decode()
    assert _token_client(key).get("/api/v1/consignments/").status_code == 200


def test_staff_and_anonymous_get_no_token_page(inspector):
    assert Client().get("/account/tokens/").status_code == 302
    client = Client()
    client.force_login(inspector)
    assert client.get("/account/tokens/").status_code == 404


def test_a_token_needs_a_name(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    page = client.post("/account/tokens/", {"name": "   "}).content.decode()
    assert "This field is required." in page or "Name the system" in page
    assert not ApiToken.objects.exists()


def test_each_token_has_its_own_rate_limit(importer, monkeypatch):
    from inspection.api.authentication import TokenRateThrottle

    cache.clear()
    (_, busy), (_, quiet) = (api_token_create(actor=importer, name=n) for n in ("busy", "quiet"))
    # DRF reads the rates once, at import: set this scope's rate (API_THROTTLE_TOKEN) on the class
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {**TokenRateThrottle.THROTTLE_RATES, "token": "3/min"})

    statuses = [_token_client(busy).get("/api/v1/consignments/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert _token_client(quiet).get("/api/v1/consignments/").status_code == 200
    cache.clear()
