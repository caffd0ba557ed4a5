"""Personas: `importer` and `other_importer` (two companies: the second must see nothing of the first),
`inspector`, `officer`, `supervisor`, `lab`; and API clients logged in as them."""

import pytest
from rest_framework.test import APIClient

from inspection.roles import Role
from tests.factories import UserFactory, importer_factory


@pytest.fixture(scope="session", autouse=True)
def signing_key():
    """A self-signed signing pair in the test var folder (made once; never a real key)."""
    from pathlib import Path

    from django.conf import settings

    from inspection.certificates.signing import signing_key_create

    key, cert = Path(settings.PIF_SIGNING_KEY), Path(settings.PIF_SIGNING_CERT)
    if not (key.is_file() and cert.is_file()):
        signing_key_create(key, cert, common_name="PIF Martinique – test")
    return cert.read_bytes()


@pytest.fixture(autouse=True)
def audit_witness_folder(settings, tmp_path):
    """Each test its own witness folder (the signed audit checkpoints), so that none reads another's."""
    settings.PIF_AUDIT_WITNESS_DIR = tmp_path / "audit-witness"
    return settings.PIF_AUDIT_WITNESS_DIR


@pytest.fixture
def importer(db):
    return importer_factory("alice")


@pytest.fixture
def other_importer(db):
    return importer_factory("bob")


@pytest.fixture
def inspector(db):
    return UserFactory(username="ines", roles=[Role.INSPECTOR])


@pytest.fixture
def officer(db):
    return UserFactory(username="olivier", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sylvie", roles=[Role.SUPERVISOR])


@pytest.fixture
def lab(db):
    """An account of every laboratory (tests of one lab's isolation make their own)."""
    from inspection.models import Laboratory

    user = UserFactory(username="labo", roles=[Role.LAB])
    user.laboratories.set(Laboratory.objects.all())
    return user


def api_client_for(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api(importer):
    return api_client_for(importer)


@pytest.fixture
def english():
    """The messages in English (French is the default language)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def consignment(importer):
    """A submitted CHED-PP of the importer's (modules that need another kind define their own)."""
    from inspection.services.consignments import consignment_create
    from tests.factories import part_one

    return consignment_create(actor=importer, part_one=part_one())


class Broker:
    """The broker and a worker, replaced (they are outside the project): `down` makes every send raise what kombu
    raises when Redis is unreachable; `work()` runs what was sent, in order, as a worker would (a task's failure
    is the worker's to log, and goes no further)."""

    def __init__(self):
        self.down, self.queue = False, []

    def send(self, task, args=None, kwargs=None, **options):
        from kombu.exceptions import OperationalError

        if self.down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.queue.append((task, tuple(args or ()), kwargs or {}))

    def work(self) -> list:
        results = []
        while self.queue:
            task, args, kwargs = self.queue.pop(0)
            try:
                results.append(task.run(*args, **kwargs))
            except Exception as exc:
                results.append(exc)
        return results

    def sent(self, name: str) -> list[tuple]:
        return [args for task, args, _kwargs in self.queue if task.name == name]


@pytest.fixture
def broker(monkeypatch):
    from celery.app.task import Task

    broker = Broker()

    def apply_async(task, args=None, kwargs=None, **options):
        return broker.send(task, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", apply_async)
    return broker


# exports: `exporter` and `other_exporter` (two exporting companies: the second must see nothing of the first)
@pytest.fixture
def exporter(db):
    from tests.factories import exporter_factory

    return exporter_factory("eric")


def export_certificate_job_run(reference: str) -> None:
    """Run the export flow's certificate job of an application, as the worker would once the officer's
    decision is committed."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from inspection.models import ExportApplication
    from workflows.engine import flow_job_run
    from workflows.flows import ExportFlow

    job = Task.objects.get(
        process__artifact_object_id=ExportApplication.objects.get(reference=reference).pk,
        flow_task=ExportFlow.issue_certificate,
        status=STATUS.SCHEDULED,
    )
    assert flow_job_run.run(job.flow_task.activation_class(job).ref()) == "done"


@pytest.fixture
def other_exporter(db):
    from tests.factories import exporter_factory

    return exporter_factory("emma")


@pytest.fixture
def customs(db):
    """The customs system's account (read-only API role)."""
    return UserFactory(username="douane", roles=[Role.CUSTOMS])
