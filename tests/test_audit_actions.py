"""Audit actions are one enumeration, AuditAction: nothing else is written, every action has a French and an
English label, and the supervisors' audit search offers each one."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from inspection.audit import AuditAction, audit_record
from inspection.models import AuditEvent
from inspection.services.api_tokens import api_token_create, api_token_revoke
from inspection.services.consignments import consignment_cancel, consignment_clone, consignment_create
from inspection.services.notifications import notification_choices_update, webhook_configure
from tests.factories import part_one

pytestmark = pytest.mark.django_db


def _labels(action: AuditAction) -> tuple[str, str]:
    with translation.override("en"):
        english = str(action.label)
    with translation.override("fr"):
        french = str(action.label)
    return english, french


def test_audit_record_refuses_a_bare_string():
    with transaction.atomic(), pytest.raises(TypeError, match="AuditAction"):
        audit_record(actor=None, action="consignment.created")
    with transaction.atomic(), pytest.raises(TypeError, match="AuditAction"):
        audit_record(actor=None, action="test.event")
    assert not AuditEvent.objects.exists()


def test_every_action_has_an_english_and_a_french_label():
    for action in AuditAction:
        english, french = _labels(action)
        assert english and french and english != french, action


def test_every_action_is_written_somewhere_in_the_code():
    base = Path(settings.BASE_DIR)
    code = "".join(
        path.read_text()
        for folder in ("inspection", "workflows")
        for path in (base / folder).rglob("*.py")
        if "migrations" not in path.parts and path != base / "inspection" / "models" / "audit.py"
    )
    unused = [action.name for action in AuditAction if not re.search(rf"\.{action.name}\b", code)]
    assert not unused


def test_every_action_the_demo_and_the_flows_write_is_an_action_with_its_labels(importer):
    with override_settings(DEBUG=True), open(os.devnull, "w") as quiet:
        call_command("demo", consignments=10, stdout=quiet)
    # What the demo does not do: an importer's drafts, copies, tokens and settings.
    draft = consignment_create(actor=importer, part_one=part_one(), draft=True)
    consignment_clone(actor=importer, consignment=draft)
    consignment_cancel(actor=importer, consignment=draft, reason="doublon")
    token, _key = api_token_create(actor=importer, name="ERP")
    api_token_revoke(actor=importer, token=token)
    notification_choices_update(actor=importer, kinds=[])
    webhook_configure(actor=importer, url="")

    written = set(AuditEvent.objects.values_list("action", flat=True))
    A = AuditAction
    flow = {A.CONSIGNMENT_SUBMITTED, A.CHECKS_PLANNED, A.DOCUMENTARY_CHECK_RECORDED, A.PHYSICAL_CHECK_RECORDED}
    assert flow | {A.DECISION_RECORDED, A.DECISION_COUNTERSIGNED, A.CERTIFICATE_ISSUED} <= written  # the whole flow
    assert written <= set(AuditAction.values), written - set(AuditAction.values)
    for value in written:
        english, french = _labels(AuditAction(value))
        assert english and french and english != french, value


def test_audit_search_offers_every_action(supervisor):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    html = client.get(reverse("supervision:audit-search")).content.decode()
    select = re.search(r'<select name="action".*?</select>', html, re.S).group(0)
    offered = set(re.findall(r'<option value="([^"]+)"', select))
    assert offered == set(AuditAction.values)
    for action in (AuditAction.JOB_RETRIED, AuditAction.CERTIFICATE_REVOKED, AuditAction.API_TOKEN_CREATED):
        response = client.get(reverse("supervision:audit-search"), {"action": action.value})
        assert response.status_code == 200 and "Select a valid choice" not in response.content.decode()
