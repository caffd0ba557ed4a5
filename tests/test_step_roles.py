"""One map from role to step (`inspection.roles.STEP_ROLES`, docs/decisions/0008): the flow's task
permissions, the groups' permissions, who may claim a task (its assign view, the queue, the day page) and
the services' checks all follow it, and a superuser without the step's role is refused everywhere."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from inspection.errors import NotPermitted
from inspection.models import Consignment
from inspection.roles import STEP_ROLES, Role, Step, may_perform
from inspection.services.checks import documentary_check_record
from inspection.services.consignments import consignment_create
from tests.factories import UserFactory, arrival_in, importer_factory, part_one
from workflows.engine import HumanTask
from workflows.flows import InspectionFlow
from workflows.models import InspectionProcess
from workflows.roles import ROLE_STEP_PERMISSION, StepTask, step_permission
from workflows.task_lists import queue_tasks

pytestmark = pytest.mark.django_db

# Who may claim what, written out by hand: the map must give exactly this.
INSPECTOR_STEPS = {"documentary_check", "identity_check", "physical_check", "follow_up", "confirm_arrival"}
OFFICER_STEPS = {"decide"}
SUPERVISOR_STEPS = {
    "countersign",
    "late_lab_result",
    "late_released_result",
    "follow_up_late",
    "documentary_check_late",
    "arrival_late",
}
CLAIMS = [
    ([Role.INSPECTOR], INSPECTOR_STEPS),
    ([Role.CERTIFYING_OFFICER], OFFICER_STEPS),
    ([Role.INSPECTOR, Role.CERTIFYING_OFFICER], INSPECTOR_STEPS | OFFICER_STEPS),
    ([Role.SUPERVISOR], SUPERVISOR_STEPS),
    ([Role.LAB], set()),
    ([Role.IMPORTER], set()),
    ([], set()),
]


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)


def _human_nodes():
    return [node for node in InspectionFlow.instance.nodes() if isinstance(node, HumanTask)]


def _superuser():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def _one_open_task_per_step(consignment) -> dict[str, Task]:
    content_type = ContentType.objects.get_for_model(Consignment)
    tasks = {}
    for node in _human_nodes():
        process = InspectionProcess.objects.create(
            flow_class=InspectionFlow, artifact_content_type=content_type, artifact_object_id=consignment.pk
        )
        tasks[node.name] = Task.objects.create(
            process=process,
            flow_task=node,
            flow_task_type="HUMAN",
            owner_permission=node._owner_permission,
            token=Token("start"),
            status=STATUS.NEW,
        )
    return tasks


def test_every_human_step_of_the_flow_takes_its_permission_from_the_map():
    nodes = _human_nodes()
    assert {node.step for node in nodes} == set(Step), "a step of the map that no task performs, or the reverse"
    for node in nodes:
        assert isinstance(node, StepTask), f"{node.name} does not say which step it is"
        assert node._owner_permission == step_permission(node.step), node.name
        assert node._owner_permission == f"workflows.{ROLE_STEP_PERMISSION[STEP_ROLES[node.step]]}"


def test_each_role_group_holds_the_permission_of_its_steps_and_no_other():
    step_codenames = set(ROLE_STEP_PERMISSION.values())
    for role in {Role.INSPECTOR, Role.CERTIFYING_OFFICER, Role.SUPERVISOR, Role.LAB, Role.IMPORTER, Role.ADMIN}:
        group = Group.objects.filter(name=role).first()
        held = set(group.permissions.values_list("codename", flat=True)) if group else set()
        expected = {ROLE_STEP_PERMISSION[STEP_ROLES[step]] for step in Step if STEP_ROLES[step] == role}
        assert held & step_codenames == expected, role


@pytest.mark.parametrize(("roles", "claims"), CLAIMS, ids=lambda value: "+".join(value) if value else "none")
def test_each_role_may_claim_exactly_its_steps(roles, claims):
    user = UserFactory(username="someone", roles=roles)
    consignment = consignment_create(actor=importer_factory("alice"), part_one=part_one(), draft=True)
    tasks = _one_open_task_per_step(consignment)
    assert {name for name, task in tasks.items() if task.flow_task.can_assign(user, task)} == claims
    assert {task.flow_task.name for task in queue_tasks(InspectionFlow, user)} == claims


def test_a_superuser_without_the_role_can_claim_no_step():
    root = _superuser()
    consignment = consignment_create(actor=importer_factory("alice"), part_one=part_one(), draft=True)
    tasks = _one_open_task_per_step(consignment)
    assert not any(task.flow_task.can_assign(root, task) for task in tasks.values())
    assert not queue_tasks(InspectionFlow, root).exists()
    assert not any(may_perform(root, step) for step in Step)


def test_a_superuser_with_the_role_claims_its_steps_as_anyone_with_it():
    root = _superuser()
    root.groups.add(Group.objects.get(name=Role.INSPECTOR))
    consignment = consignment_create(actor=importer_factory("alice"), part_one=part_one(), draft=True)
    tasks = _one_open_task_per_step(consignment)
    assert {name for name, task in tasks.items() if task.flow_task.can_assign(root, task)} == INSPECTOR_STEPS


def test_a_superuser_without_the_role_is_refused_the_claim_and_the_step(importer):
    consignment = consignment_create(actor=importer, part_one=part_one())  # submitted: the flow starts
    task = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(_superuser())

    response = client.post(task.reverse("assign"))

    assert response.status_code == 403
    assert "This task is not for your role." in response.content.decode()
    task.refresh_from_db()
    assert task.owner_id is None and task.status == STATUS.NEW
    with pytest.raises(NotPermitted, match="Inspector"):
        documentary_check_record(actor=_superuser(), consignment=consignment, verdicts={}, result="satisfactory")


def test_the_day_page_offers_a_superuser_no_claim(importer, inspector):
    consignment = consignment_create(actor=importer, part_one=part_one())
    # arriving today: its row lists its tasks, each with the claim its node's `can_assign` allows
    Consignment.objects.filter(pk=consignment.pk).update(expected_arrival=arrival_in(0, 11))
    task = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check)
    pages = {}
    for user in (inspector, _superuser()):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        response = client.get("/workflow/today/", {"bcp": consignment.bcp.code})
        assert response.status_code == 200
        pages[user.username] = response.content.decode()
    assert task.reverse("assign") in pages["ines"]
    assert consignment.reference in pages["root"] and task.reverse("assign") not in pages["root"]
