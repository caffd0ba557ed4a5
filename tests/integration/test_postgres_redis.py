"""On PostgreSQL and Redis with a real worker: numbering under concurrency, delivery by the worker, health."""

import email
import re
import threading

import pytest
from django.db import connection

from inspection.models import Consignment, Notification
from inspection.services.consignments import consignment_create
from tests.factories import importer_factory, part_one
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_parallel_submits_get_unique_gap_free_references():
    importers = [importer_factory(f"racer{i}") for i in range(8)]
    barrier = threading.Barrier(len(importers))
    references, errors = [], []

    def submit(user):
        try:
            barrier.wait()
            for _ in range(5):
                references.append(consignment_create(actor=user, part_one=part_one()).reference)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(user,)) for user in importers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(int(re.match(r"CHEDPP\.[A-Z0-9]+\.\d{4}\.(\d{7})$", ref).group(1)) for ref in references)
    assert numbers == list(range(1, 41))
    assert Consignment.objects.count() == 40


def test_a_failed_submit_gives_its_number_back():
    user = importer_factory("gapless")
    first = consignment_create(actor=user, part_one=part_one())
    with pytest.raises(Exception):  # noqa: B017  (any rule failure)
        consignment_create(actor=user, part_one=part_one(bcp=""))
    second = consignment_create(actor=user, part_one=part_one())
    assert int(second.reference[-7:]) == int(first.reference[-7:]) + 1


def test_the_worker_sends_the_submission_email(celery_worker):
    user = importer_factory("mailme")
    consignment = consignment_create(actor=user, part_one=part_one())

    notification = wait_for(lambda: Notification.objects.filter(consignment=consignment, sent_at__isnull=False).first())

    assert notification is not None, "the worker did not send the notification"
    assert notification.attempts == 1
    files = wait_for(lambda: [p.read_bytes() for p in celery_worker.iterdir()])
    messages = [
        email.message_from_bytes(chunk.strip()) for raw in files for chunk in raw.split(b"-" * 79) if chunk.strip()
    ]
    mine = [m for m in messages if m["To"] == "mailme@example.org"]
    assert len(mine) == 1
    body = mine[0].get_payload(decode=True).decode(mine[0].get_content_charset())
    assert consignment.reference in body


def test_healthz_sees_postgres_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
