"""The administrators' pages open for the reference data, laboratories, operators and staff posts."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from inspection.models import Bcp, StaffPost

pytestmark = pytest.mark.django_db

PAGES = [
    "bcp",
    "bcpapproval",
    "commodity",
    "reinforcedcheckrule",
    "planthealthrequirement",
    "holiday",
    "laboratory",
    "analysis",
    "refusalreason",
    "operator",
    "staffpost",
]


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.mark.parametrize("page", PAGES)
def test_each_admin_list_and_add_page_opens(admin_client, page):
    assert admin_client.get(f"/admin/inspection/{page}/").status_code == 200
    assert admin_client.get(f"/admin/inspection/{page}/add/").status_code == 200


def test_an_administrator_gives_an_inspector_a_post(admin_client, inspector):
    bcp = Bcp.objects.get(code="FRFDF4")
    response = admin_client.post("/admin/inspection/staffpost/add/", {"user": inspector.pk, "bcp": bcp.pk})
    assert response.status_code == 302
    assert StaffPost.objects.get(user=inspector).bcp == bcp


def test_the_audit_trail_is_not_in_the_admin(admin_client):
    assert admin_client.get("/admin/inspection/auditevent/").status_code == 404
