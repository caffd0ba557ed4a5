"""API tokens, the one kind there is: an importer makes several in the portal (each shown once, stored
hashed), revokes any of them, and each has its own rate limit; the login endpoint gives hashed keys that
expire; DRF's old plain-text keys are converted by the upgrade and never read again. Another user's token is
a 404."""

import datetime
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from inspection.models import ApiToken, AuditEvent
from inspection.services.api_tokens import api_token_create, api_token_hash, api_token_login, api_token_revoke

pytestmark = pytest.mark.django_db
DRF_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # as DRF's authtoken made them: 40 hex digits, kept as is


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


def _login(username="alice", password="pw"):  # noqa: S107  (the factories' test password)
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_the_login_endpoint_gives_a_hashed_token_that_expires(importer, settings):
    settings.API_LOGIN_TOKEN_DAYS = 30
    cache.clear()

    response = _login()

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = response.json()["token"]
    token = ApiToken.objects.get(user=importer)
    assert key.startswith("pif_") and token.key_hash == api_token_hash(key)
    assert key not in str(ApiToken.objects.values().get())  # only the hash is kept
    assert token.name == "API login" and token.revoked_at is None
    assert 29 < (token.expires_at - token.created_at).total_seconds() / 86400 <= 30
    assert datetime.datetime.fromisoformat(response.json()["expires_at"]) == token.expires_at
    assert _token_client(key).get("/api/v1/consignments/").status_code == 200
    assert _login().json()["token"] != key  # a new key each time: a hashed one cannot be given again
    assert AuditEvent.objects.filter(action="api_token.created", actor=importer).count() == 2


def test_an_expired_login_token_is_refused(importer):
    cache.clear()
    key = _login().json()["token"]
    ApiToken.objects.filter(user=importer).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = _token_client(key).get("/api/v1/consignments/")

    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_script_logging_in_on_every_run_keeps_ten_keys(importer):
    keys = [api_token_login(actor=importer)[1] for _ in range(12)]

    assert [_token_client(key).get("/api/v1/consignments/").status_code for key in keys] == [401] * 2 + [200] * 10
    # the portal's own allowance is untouched by login keys
    assert api_token_create(actor=importer, name="ERP")[0].expires_at is None


def test_a_wrong_password_makes_no_token(importer):
    cache.clear()
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not ApiToken.objects.exists()


def _authtoken_table(key, user):
    """DRF's authtoken table as an older installation has it, holding one plain-text key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS authtoken_token "
            '("key" varchar(40) NOT NULL PRIMARY KEY, created timestamp NOT NULL, user_id integer NOT NULL)'
        )
        cursor.execute(
            'INSERT INTO authtoken_token ("key", created, user_id) VALUES (%s, %s, %s)', [key, timezone.now(), user.pk]
        )


def test_a_drf_authtoken_key_no_longer_authenticates(importer):
    _authtoken_table(DRF_KEY, importer)

    response = _token_client(DRF_KEY).get("/api/v1/consignments/")

    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_the_upgrade_makes_the_old_plain_text_keys_hashed_tokens(importer, other_importer):
    _authtoken_table(DRF_KEY, importer)
    _authtoken_table("f" * 40, other_importer)
    migration = importlib.import_module("inspection.migrations.0028_one_token_system")

    migration.authtoken_keys_convert(apps, SimpleNamespace(connection=connection))
    migration.authtoken_keys_convert(apps, SimpleNamespace(connection=connection))  # run twice: no harm

    converted = ApiToken.objects.get(user=importer)
    assert converted.key_hash == api_token_hash(DRF_KEY) and converted.expires_at is None
    assert converted.prefix == DRF_KEY[:8]
    assert ApiToken.objects.get(user=other_importer).key_hash == api_token_hash("f" * 40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # the plain-text keys are gone
    assert _token_client(DRF_KEY).get("/api/v1/consignments/").status_code == 200  # its system keeps working


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
