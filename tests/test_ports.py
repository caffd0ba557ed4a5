"""The dependency points one way: the domain (`inspection/`) never imports `workflows`; it asks the
workflow through `inspection.ports`, which the workflow app connects at start-up."""

import ast
from pathlib import Path

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection import ports
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import part_one
from tests.test_workflow_paths import IDENTITY_OK, _do, _documentary_ok, _physical_with_sample, _rates
from workflows.flows import InspectionFlow
from workflows.lab import lab_result_receive
from workflows.models import InspectionProcess
from workflows.timers import arrival_deadlines_rearm

DOMAIN = Path(__file__).resolve().parent.parent / "inspection"


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module or ""


def test_no_module_of_the_domain_imports_the_workflow():
    modules = sorted(DOMAIN.rglob("*.py"))
    assert len(modules) > 50  # the walk found the domain
    offenders = [
        f"{path.relative_to(DOMAIN.parent)}: {name}"
        for path in modules
        for name in _imported_modules(path)
        if name == "workflows" or name.startswith("workflows.")
    ]
    assert offenders == []


def test_the_workflow_connects_the_ports_at_start_up():
    assert ports._connected["receive_lab_result"] is lab_result_receive
    assert ports._connected["arrival_changed"] is arrival_deadlines_rearm
    assert set(ports._connected) == {
        "start_inspection",
        "receive_lab_result",
        "arrival_changed",
        "start_export",
        "export_step",
        "inspection_stop",
        "start_decision",
        "inspection_lock",
    }


def test_a_port_left_unconnected_says_so(monkeypatch):
    monkeypatch.setattr(ports, "_connected", {})
    with pytest.raises(ports.PortNotConnected, match="start_inspection"):
        ports.start_inspection(object())
    with pytest.raises(ports.PortNotConnected, match="receive_lab_result"):
        ports.receive_lab_result(sample=None)


@pytest.mark.django_db
def test_a_submit_starts_the_inspection_through_the_port(importer, monkeypatch):
    started, connected = [], ports._connected["start_inspection"]

    def start(consignment):
        started.append(consignment.pk)
        connected(consignment)

    monkeypatch.setitem(ports._connected, "start_inspection", start)

    consignment = consignment_create(actor=importer, part_one=part_one())

    assert started == [consignment.pk]
    process = InspectionProcess.objects.get(artifact_object_id=consignment.pk)
    assert process.task_set.filter(flow_task=InspectionFlow.documentary_check, status=STATUS.NEW).exists()


@pytest.mark.django_db
def test_a_lab_result_reaches_the_sample_wait_through_the_port(importer, inspector, lab, monkeypatch):
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)

    _rates("08045000", 0, 100)
    consignment = consignment_create(actor=importer, part_one=part_one())
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)  # a physical check brings it
    _do(inspector, consignment, InspectionFlow.physical_check, _physical_with_sample(detained=True))
    sample = consignment.samples.get()
    received = []

    def receive(**result):
        received.append(result["sample"].pk)
        return lab_result_receive(**result)

    monkeypatch.setitem(ports._connected, "receive_lab_result", receive)

    posted = api_client_for(lab).post(
        "/api/v1/lab-results/", {"sample": sample.number, "conclusion": "satisfactory"}, format="json"
    )

    assert posted.status_code == 201, posted.json()
    assert received == [sample.pk]
    wait = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.lab_result)
    assert wait.status == STATUS.DONE
    assert Task.objects.filter(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.decide, status=STATUS.NEW
    ).exists()
