"""A portal page that acts and redirects shows a service's refusal as messages, and nothing is stored."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import Http404
from django.test import Client, RequestFactory

from inspection.errors import DomainInvalid, NotFound, TransitionNotAllowed
from inspection.models import AuditEvent, Consignment
from inspection.portal.refusals import refusal_shown
from inspection.services.consignments import consignment_create
from tests.factories import part_one

pytestmark = pytest.mark.django_db


def _request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _shown(request) -> list[str]:
    return [str(m) for m in get_messages(request)]


def test_nothing_refused_shows_nothing():
    request = _request()
    with refusal_shown(request) as refused:
        pass
    assert not refused and _shown(request) == []


def test_a_refusal_is_shown_as_its_message():
    request = _request()
    with refusal_shown(request) as refused:
        raise TransitionNotAllowed("Only a draft can be changed.")
    assert refused and isinstance(refused.error, TransitionNotAllowed)
    assert _shown(request) == ["Only a draft can be changed."]


def test_invalid_input_shows_each_message_after_the_intro_and_where_it_is():
    request = _request()
    refusal = DomainInvalid({"rows.3.cn_code": ["Unknown CN code."], "file": ["Too many lines."]})
    with refusal_shown(request, intro="Nothing was imported:", where=lambda path: path.split(".")[0]) as refused:
        raise refusal
    assert refused.error is refusal
    assert _shown(request) == ["Nothing was imported:", "rows: Unknown CN code.", "file: Too many lines."]


def test_what_is_not_found_is_a_404():
    with pytest.raises(Http404), refusal_shown(_request()):
        raise NotFound("No such document.")


def test_cancelling_a_submitted_consignment_shows_why_and_changes_nothing(importer):
    consignment = consignment_create(actor=importer, part_one=part_one())
    events = AuditEvent.objects.count()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    response = client.post(f"/consignments/{consignment.reference}/cancel/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Only a draft can be changed; this consignment is already submitted."
    ]
    assert Consignment.objects.get(pk=consignment.pk).status == "submitted"
    assert AuditEvent.objects.count() == events
