"""The staff inbox and queue (`workflows/task_lists.py`): seek pages that neither lose nor repeat a task, a
user sees only the tasks their role may claim or that are theirs, and the side menu counts no further
than 99."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.models import Task
from viewflow.workflow.token import Token

from inspection.models import Consignment
from inspection.services.consignments import consignment_create
from tests.factories import part_one
from workflows.flows import InspectionFlow
from workflows.models import InspectionProcess

pytestmark = pytest.mark.django_db
QUEUE, INBOX = "/workflow/inspection/queue/", "/workflow/inspection/inbox/"


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


@pytest.fixture
def consignment(importer):
    """A draft, so that no task exists but the ones a test makes."""
    return consignment_create(actor=importer, part_one=part_one(), draft=True)


def _open_tasks(consignment, count, node=InspectionFlow.documentary_check, permission="workflows.can_check", **kw):
    """`count` open tasks of `node` about `consignment`, one process each, as a busy post would have."""
    content_type = ContentType.objects.get_for_model(Consignment)
    about = {"artifact_content_type": content_type, "artifact_object_id": consignment.pk}
    processes = InspectionProcess.objects.bulk_create(
        InspectionProcess(flow_class=InspectionFlow, **about) for _ in range(count)
    )
    tasks = Task.objects.bulk_create(
        Task(
            process=p,
            flow_task=node,
            flow_task_type="HUMAN",
            owner_permission=permission,
            token=Token("start"),
            **{"status": "NEW", **kw},
        )
        for p in processes
    )
    return [t.pk for t in tasks]


def _rows(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-row-id="(\d+)"', response.content.decode())]


def _next_link(response) -> str | None:
    found = re.search(r'href="\?([^"]*after=[^"]*)"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def _logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_queue_pages_follow_one_another_without_losing_or_repeating_a_task(consignment, inspector):
    created = _open_tasks(consignment, 60)
    client = _logged_in(inspector)
    seen, response, pages = [], client.get(QUEUE), 0
    while True:
        pages += 1
        seen += _rows(response)
        link = _next_link(response)
        if link is None:
            break
        response = client.get(f"{QUEUE}?{link}")
    assert pages == 3  # 25 + 25 + 10
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    tasks = Task.objects.in_bulk(seen)
    assert [(tasks[pk].created, pk) for pk in seen] == sorted(((tasks[pk].created, pk) for pk in seen), reverse=True)
    assert "Newest tasks" in response.content.decode()


def test_the_next_page_keeps_the_step_filter(consignment, officer):
    _open_tasks(consignment, 30)
    decisions = _open_tasks(consignment, 30, node=InspectionFlow.decide, permission="workflows.can_decide")
    client = _logged_in(officer)
    step = {"flow_task": get_task_ref(InspectionFlow.decide)}
    first = client.get(QUEUE, step)
    second = client.get(f"{QUEUE}?{_next_link(first)}")
    assert sorted(_rows(first) + _rows(second)) == sorted(decisions)


def test_a_malformed_cursor_shows_the_first_page(consignment, inspector):
    _open_tasks(consignment, 30)
    client = _logged_in(inspector)
    first = _rows(client.get(QUEUE))
    for cursor in ("nonsense", "2026-01-01T00:00:00_x", "2026-01-01T00:00:00_12", "_"):
        assert _rows(client.get(QUEUE, {"after": cursor})) == first


def test_the_queue_shows_a_role_only_the_tasks_it_may_claim(consignment, inspector, officer, supervisor):
    checks = _open_tasks(consignment, 3)
    decisions = _open_tasks(consignment, 2, node=InspectionFlow.decide, permission="workflows.can_decide")
    escalations = _open_tasks(
        consignment, 1, node=InspectionFlow.documentary_check_late, permission="workflows.can_supervise"
    )
    _open_tasks(consignment, 2, status="ASSIGNED", owner=officer)  # claimed: in nobody's queue
    assert sorted(_rows(_logged_in(inspector).get(QUEUE))) == sorted(checks)
    assert sorted(_rows(_logged_in(officer).get(QUEUE))) == sorted(checks + decisions)
    assert sorted(_rows(_logged_in(supervisor).get(QUEUE))) == sorted(escalations)


def test_the_inbox_lists_only_my_claimed_tasks(consignment, inspector, officer):
    mine = _open_tasks(consignment, 2, status="ASSIGNED", owner=inspector)
    _open_tasks(consignment, 2, status="ASSIGNED", owner=officer)
    _open_tasks(consignment, 2)
    _open_tasks(consignment, 1, status="DONE", owner=inspector)
    assert sorted(_rows(_logged_in(inspector).get(INBOX))) == sorted(mine)


def test_staff_without_the_flow_and_importers_get_no_list(importer):
    for url in (QUEUE, INBOX):
        assert _logged_in(importer).get(url).status_code in (302, 403)


def test_the_side_menu_counts_no_further_than_99(consignment, inspector):
    _open_tasks(consignment, 100)
    page = _logged_in(inspector).get(QUEUE).content.decode()
    assert re.search(r'<span class="mdc-list-item__meta">99\+</span>', page)
    _open_tasks(consignment, 5, status="ASSIGNED", owner=inspector)
    page = _logged_in(inspector).get(QUEUE).content.decode()
    assert re.search(r'<span class="mdc-list-item__meta">5</span>', page)
