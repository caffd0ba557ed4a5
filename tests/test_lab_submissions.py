"""Issue 16, item 7: a lab's post is stored before any rule runs, so what is stored is bounded (size, number
of analytes), and the refused posts are kept for a retention period, then purged daily."""

import datetime
import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from inspection.models import LabResult, LabResultSubmission
from inspection.services.lab import lab_submission_store, lab_submissions_purge
from inspection.tasks import lab_submissions_purge_old
from tests.conftest import api_client_for
from tests.test_lab_reports import sample  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
LAB_RESULTS = "/api/v1/lab-results/"


def _raw_post(user, body: str):
    client = Client()
    client.force_login(user)
    return client.post(LAB_RESULTS, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_a_body_over_the_cap_is_refused_unread_and_nothing_is_stored(lab):
    body = json.dumps({"sample": "X", "conclusion": "satisfactory", "note": "x" * (300 * 1024)})

    response = _raw_post(lab, body)

    assert response.status_code == 413
    assert "at most 256 KB" in response.json()["detail"]
    assert not LabResultSubmission.objects.exists()


def test_a_multipart_form_over_the_cap_is_refused_before_it_is_stored(lab):
    response = api_client_for(lab).post(
        LAB_RESULTS, {"sample": "X", "conclusion": "satisfactory", "note": "x" * (300 * 1024)}, format="multipart"
    )

    assert response.status_code == 400
    assert "at most 256 KB" in response.json()["non_field_errors"][0]
    assert not LabResultSubmission.objects.exists()


def test_too_many_analytes_are_refused_and_nothing_is_stored(lab):
    analytes = [{"name": f"a{i}", "value": "1"} for i in range(201)]
    body = json.dumps({"sample": "X", "conclusion": "satisfactory", "analytes": analytes})

    response = _raw_post(lab, body)

    assert response.status_code == 400
    assert response.json()["analytes"] == ["At most 200 analytes per result."]
    assert not LabResultSubmission.objects.exists()


def test_a_nul_character_is_refused_before_it_is_stored(lab):
    # PostgreSQL's jsonb cannot hold \u0000: stored as received, the post was a 500 there (found by the fuzzing)
    body = json.dumps({"sample": "X", "conclusion": "satisfactory", "analytes": [{"name": "Pb\x00", "value": "1"}]})

    response = _raw_post(lab, body)

    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["The result holds a NUL character, which no field accepts."]
    assert not LabResultSubmission.objects.exists()


def test_a_refused_post_within_the_caps_is_still_stored_as_evidence(lab):
    response = _raw_post(lab, json.dumps({"sample": "NOPE", "conclusion": "satisfactory"}))

    assert response.status_code == 404
    assert LabResultSubmission.objects.get().payload["sample"] == "NOPE"


def test_the_purge_deletes_old_refused_posts_only(lab, sample):  # noqa: F811
    applied = api_client_for(lab).post(
        LAB_RESULTS, {"sample": sample.number, "conclusion": "satisfactory"}, format="json"
    )
    assert applied.status_code == 201, applied.content
    repeated = api_client_for(lab).post(
        LAB_RESULTS, {"sample": sample.number, "conclusion": "satisfactory"}, format="json"
    )
    assert repeated.status_code == 200
    old_refused = lab_submission_store(lab_user=lab, payload={"sample": "NOPE"})
    now = timezone.now()
    days = settings.PIF_LAB_SUBMISSION_RETENTION_DAYS
    LabResultSubmission.objects.update(received_at=now - datetime.timedelta(days=days + 1))
    recent_refused = lab_submission_store(lab_user=lab, payload={"sample": "NOPE2"})
    LabResultSubmission.objects.filter(pk=recent_refused.pk).update(received_at=now - datetime.timedelta(days=days - 1))

    assert lab_submissions_purge(now=now) == 1

    kept = set(LabResultSubmission.objects.values_list("pk", flat=True))
    assert old_refused.pk not in kept
    assert recent_refused.pk in kept
    assert LabResult.objects.get().submission_id in kept  # the applied post: the result's evidence
    assert len(kept) == 3  # and the repeat of the recorded result
    assert lab_submissions_purge(now=now + datetime.timedelta(days=2)) == 1  # the recent one, in its turn


def test_the_daily_task_calls_the_purge(lab, settings):
    old = lab_submission_store(lab_user=lab, payload={"sample": "NOPE"})
    LabResultSubmission.objects.filter(pk=old.pk).update(received_at=timezone.now() - datetime.timedelta(days=91))

    assert lab_submissions_purge_old() == 1
    assert "lab-submissions-purge" in settings.CELERY_BEAT_SCHEDULE
