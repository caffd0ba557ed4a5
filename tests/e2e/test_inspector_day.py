"""The inspector's day on a tablet: the arrivals page, one tap to claim, a check recorded, and a submit that
survives a network cut (the form is kept, sent again when the network returns, applied once)."""

import pytest
from django.contrib.auth.models import User
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inspection.models import AuditEvent, Commodity, Consignment, DocumentaryCheck
from inspection.roles import Role
from inspection.services.consignments import consignment_create
from tests.e2e.conftest import (
    horizontal_overflow,
    keep_screenshot,
    login,
    serious_accessibility_violations,
    small_touch_targets,
)
from tests.factories import UserFactory, arrival_in, goods_arrived, importer_factory, part_one
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _arriving_today(hour=11, physical_rate=0):
    import pif.urls  # noqa: F401  (task URLs need the URLconf)

    Commodity.objects.filter(cn_code="08045000").update(identity_rate=0, physical_rate=physical_rate)
    importer = importer_factory(f"imp{hour}")
    consignment = consignment_create(actor=importer, part_one=part_one())
    Consignment.objects.filter(pk=consignment.pk).update(expected_arrival=arrival_in(0, hour))
    return consignment


def _task(consignment):
    return Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.documentary_check)


def _fill_documentary_check(page, consignment):
    for document in consignment.documents.all():
        page.check(f"input[name=doc_{document.pk}_present]")
        page.check(f"input[name=doc_{document.pk}_valid]")
    page.check("input[name=result][value=satisfactory]")


def _form_claimed_by_an_inspector(tablet, consignment, orientation, language):
    """Ines, logged in on a tablet, has claimed the consignment's documentary check and has its form open."""
    UserFactory(username="ines", roles=[Role.INSPECTOR])
    page = tablet(orientation, language)
    login(page, "ines")
    page.goto(_task(consignment).reverse("assign"))
    page.click("button[name=_continue]")
    page.wait_for_url("**/execute/**")
    page.wait_for_selector("input[name=result]")
    return page


def documentary_check_done(consignment, inspector, *, satisfactory=True):
    """The documentary check recorded from code, as the demo does (the documents valid, or not)."""
    from inspection.services.checks import documentary_check_record
    from workflows.steps import task_complete_as

    task_complete_as(
        user=inspector,
        task=_task(consignment),
        record=lambda: documentary_check_record(
            actor=inspector,
            consignment=consignment,
            verdicts={d.pk: (True, satisfactory) for d in consignment.documents.all()},
            result="satisfactory" if satisfactory else "not_satisfactory",
            reason="" if satisfactory else "Certificate expired",
        ),
    )


def identity_check_done(consignment, inspector):
    """The goods recorded at the post, then the identity check recorded from code (a physical check brings
    it)."""
    from inspection.services.checks import identity_check_record
    from workflows.steps import task_complete_as

    goods_arrived(consignment, inspector)
    task = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.identity_check)
    task_complete_as(
        user=inspector,
        task=task,
        record=lambda: identity_check_record(
            actor=inspector,
            consignment=consignment,
            seals_as_declared=True,
            goods_as_declared=True,
            result="satisfactory",
        ),
    )


def _usable_on_a_tablet(page):
    assert horizontal_overflow(page) == 0
    assert small_touch_targets(page) == []
    violations = serious_accessibility_violations(page)
    assert violations == [], violations


def _back_on_the_day_page(page):
    page.wait_for_url("**/workflow/today/**")
    page.wait_for_selector("#arrivals-today")  # Turbo has drawn it


def _recorded_once(consignment):
    assert DocumentaryCheck.objects.filter(consignment=consignment).count() == 1
    assert AuditEvent.objects.filter(consignment=consignment, action="documentary_check.recorded").count() == 1
    assert Consignment.objects.get(pk=consignment.pk).status == "awaiting_decision"


@pytest.mark.parametrize(("orientation", "language"), [("landscape", "en"), ("portrait", "fr")])
def test_from_the_day_page_one_tap_claims_and_the_check_is_recorded(tablet, orientation, language):
    consignment = _arriving_today()
    second = _arriving_today(hour=15)
    UserFactory(username="ines", roles=[Role.INSPECTOR])
    page = tablet(orientation, language)
    login(page, "ines")
    page.goto("/")
    assert "/workflow/today/" in page.url
    assert consignment.reference in page.inner_text("#arrivals-today + *")
    _usable_on_a_tablet(page)
    keep_screenshot(page, "today")

    page.click(f"form[action^='{_task(consignment).reverse('assign')}'] button")
    page.wait_for_url("**/execute/**")
    page.wait_for_selector("input[name=result]")
    _usable_on_a_tablet(page)
    _fill_documentary_check(page, consignment)
    keep_screenshot(page, "documentary-check")
    page.click("button.mdc-button--raised")
    _back_on_the_day_page(page)
    _recorded_once(consignment)
    assert _task(consignment).status == STATUS.DONE

    # the next one, from the day page as Turbo drew it: the portal's style sheet must not follow
    page.click(f"form[action^='{_task(second).reverse('assign')}'] button")
    page.wait_for_selector("input[name=result]")
    portal_rule = "getComputedStyle(document.querySelector('.vf-form input[type=checkbox]')).minWidth"
    assert page.evaluate(portal_rule) != "24px"  # pif.css gives the portal's checkboxes 24 px
    _usable_on_a_tablet(page)


def test_a_submit_during_a_network_cut_is_kept_and_sent_once_when_the_network_returns(tablet):
    consignment = _arriving_today()
    page = _form_claimed_by_an_inspector(tablet, consignment, "landscape", "en")
    context = page.context
    _fill_documentary_check(page, consignment)
    page.fill("textarea[name=reason]", "Seals checked at the quay")

    context.set_offline(True)
    page.click("button.mdc-button--raised")
    page.wait_for_selector(".pif-draft-banner[data-kind=pending]")
    keep_screenshot(page, "pending-submit")
    assert not DocumentaryCheck.objects.filter(consignment=consignment).exists()
    draft = page.evaluate("JSON.parse(localStorage.getItem('pif-draft:' + location.pathname))")
    assert draft["pending"] and ["reason", "Seals checked at the quay"] in draft["fields"]

    context.set_offline(False)
    _back_on_the_day_page(page)
    _recorded_once(consignment)
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pif-draft:')).length") == 0


def test_a_submit_whose_answer_is_lost_is_sent_again_and_applied_once(tablet):
    consignment = _arriving_today()
    page = _form_claimed_by_an_inspector(tablet, consignment, "portrait", "en")
    _fill_documentary_check(page, consignment)

    lost = []

    def reach_the_server_then_lose_the_answer(route):
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server applies the form...
            lost.append(route.request.url)
            route.abort("internetdisconnected")  # ...and the tablet never hears back
        else:
            route.continue_()

    page.route("**/execute/", reach_the_server_then_lose_the_answer)
    page.click("button.mdc-button--raised")
    _back_on_the_day_page(page)  # sent again on its own; recognised by its key
    assert lost
    _recorded_once(consignment)
    assert "not applied a second time" in page.content()


def test_a_draft_typed_before_the_page_was_closed_comes_back_with_its_photo(tablet):
    from inspection.models import CheckPhoto
    from tests.factories import photo_bytes

    consignment = _arriving_today()
    page = _form_claimed_by_an_inspector(tablet, consignment, "landscape", "fr")
    execute_url = page.url
    page.check("input[name=result][value=not_satisfactory]")
    page.fill("textarea[name=reason]", "Certificat illisible")
    photo = {"name": "certificat.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes(size=(2400, 1800))}
    page.set_input_files("input[name=photos]", files=[photo])
    page.wait_for_selector(".pif-photo-note")  # scaled, and kept with the draft

    page.goto("/workflow/today/")
    assert "Certificat illisible" not in page.content()
    assert page.is_visible("#pending-drafts")
    assert consignment.reference in page.inner_text("#pending-drafts")
    page.goto(execute_url)
    assert page.input_value("textarea[name=reason]") == "Certificat illisible"
    assert page.is_checked("input[name=result][value=not_satisfactory]")
    assert page.is_visible(".pif-draft-banner")
    page.wait_for_selector(".pif-photo-note")
    assert page.eval_on_selector("input[name=photos]", "input => input.files.length") == 1

    for document in consignment.documents.all():
        page.check(f"input[name=doc_{document.pk}_present]")
    page.click("button.mdc-button--raised")
    _back_on_the_day_page(page)
    assert (CheckPhoto.objects.get(consignment=consignment, step="documentary").width) == 1600
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pif-draft:')).length") == 0


@pytest.mark.parametrize(("orientation", "language"), [("portrait", "en"), ("landscape", "fr")])
def test_a_physical_check_with_a_photo_taken_on_the_tablet(tablet, orientation, language):
    from inspection.models import CheckPhoto
    from tests.factories import photo_bytes

    consignment = _arriving_today(hour=13, physical_rate=100)  # planned with a physical check
    ines = UserFactory(username="ines", roles=[Role.INSPECTOR])
    documentary_check_done(consignment, ines)
    identity_check_done(consignment, ines)
    physical = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.physical_check)

    page = tablet(orientation, language)
    login(page, "ines")
    page.goto("/workflow/today/")
    page.click(f"form[action^='{physical.reverse('assign')}'] button")
    page.wait_for_selector("input[name=photos]")
    _usable_on_a_tablet(page)
    page.check("input[name=result][value=satisfactory]")
    camera = photo_bytes(size=(4000, 3000), gps=True)  # what a tablet's camera gives, with its position
    page.set_input_files("input[name=photos]", files=[{"name": "seal.jpg", "mimeType": "image/jpeg", "buffer": camera}])
    page.wait_for_selector(".pif-photo-note")  # downscaled in the browser
    keep_screenshot(page, "physical-check")
    page.click("button.mdc-button--raised")
    _back_on_the_day_page(page)

    assert Consignment.objects.get(pk=consignment.pk).status == "awaiting_decision"
    photo = CheckPhoto.objects.get(consignment=consignment, step="physical")
    assert (photo.width, photo.height) == (1600, 1200)  # the browser sent 1,600 px, not 4,000
    assert photo.size < len(camera)


def test_the_draft_of_a_task_done_elsewhere_goes_when_it_is_opened(tablet):
    consignment = _arriving_today()
    page = _form_claimed_by_an_inspector(tablet, consignment, "portrait", "en")
    execute_url = page.url
    page.fill("textarea[name=reason]", "Started on this tablet")
    page.goto("/workflow/today/")
    assert page.is_visible("#pending-drafts")

    # the task is finished meanwhile (another tablet of hers, under another key)
    documentary_check_done(consignment, User.objects.get(username="ines"))
    page.goto(execute_url)
    assert "This task is already done." in page.content()
    page.goto("/workflow/today/")
    assert not page.is_visible("#pending-drafts")


def test_the_day_page_drops_the_drafts_of_tasks_done_elsewhere(tablet):
    consignment = _arriving_today()
    page = _form_claimed_by_an_inspector(tablet, consignment, "landscape", "fr")
    page.fill("textarea[name=reason]", "Commencé sur cette tablette")
    page.goto("/workflow/today/")
    assert consignment.reference in page.inner_text("#pending-drafts")  # her task: the draft stays

    documentary_check_done(consignment, User.objects.get(username="ines"))  # from another tablet of hers
    page.goto("/workflow/today/")
    assert not page.is_visible("#pending-drafts")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pif-draft:')).length") == 0


def test_a_second_choice_of_photos_is_downscaled_too(tablet):
    from inspection.models import CheckPhoto
    from tests.factories import photo_bytes

    consignment = _arriving_today(hour=14, physical_rate=100)
    ines = UserFactory(username="ines", roles=[Role.INSPECTOR])
    documentary_check_done(consignment, ines)
    identity_check_done(consignment, ines)
    physical = Task.objects.get(process__artifact_object_id=consignment.pk, flow_task=InspectionFlow.physical_check)
    page = tablet("landscape", "en")
    login(page, "ines")
    page.goto("/workflow/today/")
    page.click(f"form[action^='{physical.reverse('assign')}'] button")
    page.wait_for_selector("input[name=photos]")
    page.check("input[name=result][value=satisfactory]")
    for name in ("first.jpg", "second.jpg"):  # the inspector changes her mind and takes another
        photo = {"name": name, "mimeType": "image/jpeg", "buffer": photo_bytes(size=(4000, 3000))}
        page.set_input_files("input[name=photos]", files=[photo])
        page.wait_for_function("() => !document.querySelector('input[name=photos]').form.dataset.pifBusy")
    page.click("button.mdc-button--raised")
    _back_on_the_day_page(page)
    assert CheckPhoto.objects.get(consignment=consignment, step="physical").width == 1600
