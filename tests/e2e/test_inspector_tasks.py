"""An inspector on a tablet claims a documentary check and records it, in both orientations and languages;
the consignment moves on to the decision. (Photo evidence and network cuts: issue 7, to come.)"""

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import Commodity, Consignment
from inspection.roles import Role
from inspection.services.consignments import consignment_create
from tests.e2e.conftest import horizontal_overflow, login, serious_accessibility_violations
from tests.factories import UserFactory, importer_factory, part_one
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize(("orientation", "language"), [("landscape", "fr"), ("portrait", "en")])
def test_inspector_claims_and_records_a_documentary_check(tablet, orientation, language):
    import pif.urls  # noqa: F401  (task URLs need the URLconf)

    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=0)
    consignment = consignment_create(actor=importer_factory("alice"), part_one=part_one())
    UserFactory(username="ines", roles=[Role.INSPECTOR])
    task = Task.objects.get(
        process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check, status=STATUS.NEW
    )

    page = tablet(orientation, language)
    login(page, "ines")
    page.goto(task.reverse("assign"))
    assert horizontal_overflow(page) == 0
    page.click("button[name=_continue]")  # claim and open the form
    page.wait_for_url("**/execute/**")
    assert consignment.reference in page.content()  # the consignment summary beside the form
    assert horizontal_overflow(page) == 0
    violations = serious_accessibility_violations(page)
    assert violations == [], violations

    for document in consignment.documents.all():
        page.check(f"input[name=doc_{document.pk}_present]")
        page.check(f"input[name=doc_{document.pk}_valid]")
    page.check("input[name=result][value=satisfactory]")
    page.click("button.mdc-button--raised")  # Execute
    page.wait_for_url(lambda url: "/execute/" not in url)

    consignment = Consignment.objects.get(pk=consignment.pk)
    assert consignment.status == "awaiting_decision"
    assert consignment.documentary_check.inspector.username == "ines"
