"""A certifying officer on a tablet refuses a consignment: decision, measure and deadline from the material
pickers, a coded reason found with the search of the reasons list; the refusal goes to countersignature."""

import datetime

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task

from inspection.models import Consignment
from inspection.roles import Role
from tests.e2e.conftest import horizontal_overflow, keep_screenshot, login, small_touch_targets
from tests.e2e.test_inspector_day import _arriving_today, documentary_check_done
from tests.factories import UserFactory
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _awaiting_decision():
    consignment = _arriving_today()
    documentary_check_done(consignment, UserFactory(username="ines", roles=[Role.INSPECTOR]), satisfactory=False)
    return consignment, Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.decide)


@pytest.mark.parametrize(("orientation", "language"), [("portrait", "en"), ("landscape", "fr")])
def test_an_officer_refuses_with_a_reason_found_by_search(tablet, orientation, language):
    consignment, task = _awaiting_decision()
    UserFactory(username="odile", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    page = tablet(orientation, language)
    login(page, "odile")
    page.goto(task.reverse("assign"))
    page.click("button[name=_continue]")
    page.wait_for_url("**/execute/**")
    page.wait_for_selector(".pif-picker__search")

    rows = page.locator(".pif-picker__options li")
    everything = rows.count()
    assert everything > 5
    page.fill(".pif-picker__search", "certifica")  # "certificate", "certificat"
    visible = page.locator(".pif-picker__options li:visible")
    assert 0 < visible.count() < everything
    visible.first.locator("input").check()
    page.fill(".pif-picker__search", "")
    assert page.locator(".pif-picker__options li:visible").count() == everything

    for field, value in (("code", "non_acceptable"), ("measure", "destruction")):
        page.click(f"#id_{field} .mdc-select__anchor")  # the material drop-down, tapped
        page.click(f"#id_{field} li[data-value={value}]")
    page.fill("input[name=measure_deadline]", (timezone.localdate() + datetime.timedelta(days=10)).isoformat())
    assert horizontal_overflow(page) == 0
    assert small_touch_targets(page) == []
    keep_screenshot(page, "decision")
    page.click("button.mdc-button--raised")
    page.wait_for_selector("#arrivals-today")
    consignment = Consignment.objects.get(pk=consignment.pk)
    assert consignment.status == "awaiting_countersign"
    decision = consignment.decisions.get()
    assert decision.reasons.count() == 1
