"""Delivery of phytosanitary certificates through the IPPC ePhyto hub (issue 18, item 5): an envelope per
certificate issued, replaced or withdrawn, written with the change, sent after commit by a task through zeep to
the local hub double (really exercised over SOAP: zeep's HTTP is routed into Django's test client), acknowledged
by the importing NPPO, polled by beat; what fails backs off, is given up as an incident, and a supervisor sends
it again. Only the outside is replaced: the broker and the worker (`broker`), the network (`HubNetwork`)."""

import datetime
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.utils import timezone

from inspection.exchange import hub
from inspection.exchange.local import DoubleRoute
from inspection.models import AuditEvent, HubDelivery, HubDoubleEnvelope, HubStatus
from inspection.tasks import deliveries_resend, hub_deliveries_poll
from tests.conftest import api_client_for, export_certificate_job_run
from tests.test_exports_certificate import _checked, _submitted, _url

pytestmark = pytest.mark.django_db

LIST = "/api/v1/exports/"
SEND = "inspection.tasks.hub_delivery_send"


class HubNetwork(DoubleRoute):
    """The network between us and the hub, replaced by Django's test client: each request zeep makes reaches
    the double's view as a real SOAP POST. `down` makes it unreachable."""

    def __init__(self, nppo: str = ""):
        super().__init__(nppo)
        self.down, self.calls = False, []

    def send(self, request, **kwargs):
        if self.down:
            raise requests.ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused")
        response = super().send(request, **kwargs)
        self.calls.append((request.headers.get("SOAPAction", ""), response.status_code))
        return response


@pytest.fixture
def network(monkeypatch):
    """Our side's network to the hub (as the French NPPO, `PIF_IPPC_HUB_NPPO`)."""
    network = HubNetwork()
    monkeypatch.setattr(hub, "hub_session", network.session)
    return network


@pytest.fixture
def canada():
    """The importing NPPO's own session to the hub: it pulls and acknowledges what is addressed to it."""
    return HubNetwork("CA").session()


def _issue(exporter, inspector, officer, capture, broker=None) -> dict:
    """Checked, decided (202), then the export flow's certificate job run: by the test's broker as the worker
    would, or directly when the test has none."""
    reference = _submitted(exporter)
    _checked(reference, inspector)
    with capture(execute=True):
        response = api_client_for(officer).post(_url(reference, "issue"))
        assert response.status_code == 202, response.json()
    with capture(execute=True):
        if broker is None:
            export_certificate_job_run(reference)
        else:
            assert broker.work() == ["done"]
    return api_client_for(officer).get(_url(reference)).json()


def _certificate_hub(exporter, reference: str, index: int = 0) -> dict | None:
    return api_client_for(exporter).get(_url(reference)).json()["certificates"][index]["hub"]


def _past_grace(minutes: int = 5):
    HubDelivery.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=minutes))


def _due_now():
    past = timezone.now() - datetime.timedelta(seconds=1)
    HubDelivery.objects.filter(sent_at__isnull=True).update(next_attempt_at=past)


def test_issue_owes_an_envelope_sent_through_soap_to_the_hub_then_acknowledged_by_the_importing_country(
    exporter, inspector, officer, broker, network, canada, django_capture_on_commit_callbacks
):
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    (certificate,) = body["certificates"]
    row = HubDelivery.objects.get()  # written with the certificate, in the issue's transaction
    assert (row.kind, row.status, row.sent_at, row.certificate.number) == (
        "issued",
        "pending",
        None,
        certificate["number"],
    )
    assert (row.from_country, row.to_country, row.certificate_type, row.certificate_status) == ("FR", "CA", 851, 70)
    assert certificate["hub"]["status"] == "pending"
    assert broker.sent(SEND) == [(row.pk,)]

    assert broker.work() == [True]
    assert network.calls == [('"http://ephyto.ippc.int/IDeliveryService/DeliverEnvelope"', 200)]
    row.refresh_from_db()
    assert row.status == HubStatus.DELIVERED and row.sent_at and row.hub_tracking == "PendingDelivery"
    received = HubDoubleEnvelope.objects.get()
    assert received.hub_delivery_number == row.hub_delivery_number
    assert (received.from_country, received.to_country, received.certificate_number) == (
        "FR",
        "CA",
        certificate["number"],
    )
    stored = _download_xml(exporter, certificate["ephyto_url"])
    assert received.content.encode() == stored  # the XML exactly as issued (status 70, unchanged)
    hub_status = _certificate_hub(exporter, body["reference"])
    assert hub_status["status"] == "delivered" and hub_status["delivery_number"] == row.hub_delivery_number

    assert hub_deliveries_poll.run() == 0  # still waiting for Canada
    [header] = hub.hub_import_headers(session=canada)
    assert header["NPPOCertificateNumber"] == certificate["number"] and header["From"] == "FR"
    pulled = hub.hub_pull(delivery_number=header["hubDeliveryNumber"], session=canada)
    assert pulled["Content"] == received.content
    hub.hub_acknowledge(delivery_number=header["hubDeliveryNumber"], session=canada)
    with pytest.raises(hub.HubFault, match="already acknowledged"):
        hub.hub_acknowledge(delivery_number=header["hubDeliveryNumber"], session=canada)

    assert hub_deliveries_poll.run() == 1
    row.refresh_from_db()
    assert row.status == HubStatus.ACKNOWLEDGED and row.hub_tracking == "Delivered" and row.polled_at
    assert _certificate_hub(exporter, body["reference"])["status"] == "acknowledged"
    assert hub_deliveries_poll.run() == 0  # nothing left to ask
    listed = api_client_for(exporter).get(LIST).json()["results"]
    assert listed[0]["certificates"][0]["hub"]["status"] == "acknowledged"
    page = _portal(exporter, f"/exports/{body['reference']}/")
    assert "Acknowledged by the importing country" in page and "Delivered" in page


def _download_xml(user, url: str) -> bytes:
    client = Client()
    client.force_login(user)
    return b"".join(client.get(urlsplit(url).path).streaming_content)


def _portal(user, path: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_an_envelope_the_importing_country_cannot_read_reads_failed_with_its_error(
    exporter, inspector, officer, supervisor, broker, network, canada, django_capture_on_commit_callbacks
):
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    broker.work()
    row = HubDelivery.objects.get()
    hub.hub_acknowledge(delivery_number=row.hub_delivery_number, error="Botanical name not in our list", session=canada)
    assert hub_deliveries_poll.run() == 1
    row.refresh_from_db()
    assert (row.status, row.hub_tracking, row.hub_error) == (
        "failed",
        "FailedDelivery",
        "Botanical name not in our list",
    )
    hub_status = _certificate_hub(exporter, body["reference"])
    assert hub_status["status"] == "failed" and hub_status["error"] == "Botanical name not in our list"
    assert "Botanical name not in our list" in _portal(supervisor, f"/exports/{body['reference']}/")


def test_an_unreachable_hub_backs_off_then_is_an_incident_a_supervisor_sends_again_over_http(
    exporter, inspector, officer, supervisor, broker, network, settings, django_capture_on_commit_callbacks
):
    settings.PIF_DELIVERY_ATTEMPTS = 3
    network.down = True
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    [failure] = broker.work()
    assert isinstance(failure, hub.HubUnreachable)
    row = HubDelivery.objects.get()
    assert row.sent_at is None and row.attempts == 1 and "Connection refused" in row.last_error
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=20)  # backoff
    _past_grace()
    assert deliveries_resend.run() == 0  # not due yet
    for _attempt in (2, 3):
        _due_now()
        assert deliveries_resend.run() == 1
        broker.work()
    _due_now()
    assert deliveries_resend.run() == 0  # given up
    row.refresh_from_db()
    assert row.attempts == 3 and row.status == HubStatus.FAILED
    assert _certificate_hub(exporter, body["reference"])["status"] == "failed"

    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    retry_url = f"/workflow/incidents/deliveries/hub/{row.pk}/retry/"
    staff.force_login(officer)
    assert staff.post(retry_url, {"reason": "x"}).status_code == 404  # supervisors only
    staff.force_login(supervisor)
    page = staff.get("/workflow/incidents/").content.decode()
    assert row.certificate.number in page and "IPPC ePhyto hub" in page and "Connection refused" in page
    assert retry_url in page

    network.down = False
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(retry_url, {"reason": "Hub maintenance over"}).status_code == 302
    assert _certificate_hub(exporter, body["reference"])["status"] == "pending"  # on its way again
    assert broker.work() == [True]
    row.refresh_from_db()
    assert row.status == HubStatus.DELIVERED and row.sent_at and HubDoubleEnvelope.objects.count() == 1
    event = AuditEvent.objects.get(action="delivery.retried")
    assert event.actor == supervisor and event.consignment_id is None
    assert event.data["export"] == body["reference"]  # the application's event, as its other events
    assert event.data["delivery"] == "hub" and event.data["reason"] == "Hub maintenance over"
    assert staff.post(retry_url, {}, follow=True).status_code == 200  # nothing left to retry


def test_polling_stops_at_an_unreachable_hub_and_leaves_old_envelopes_alone(
    exporter, inspector, officer, broker, network, canada, django_capture_on_commit_callbacks
):
    _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    broker.work()
    row = HubDelivery.objects.get()
    hub.hub_acknowledge(delivery_number=row.hub_delivery_number, session=canada)
    network.down = True
    assert hub_deliveries_poll.run() == 0  # the next run asks again
    row.refresh_from_db()
    assert row.status == HubStatus.DELIVERED and row.polled_at is None
    network.down = False
    HubDelivery.objects.update(sent_at=timezone.now() - datetime.timedelta(days=31))
    calls = len(network.calls)
    assert hub_deliveries_poll.run() == 0 and len(network.calls) == calls  # not asked after POLL_DAYS
    HubDelivery.objects.update(sent_at=timezone.now())
    assert hub_deliveries_poll.run() == 1
    assert HubDelivery.objects.get().status == HubStatus.ACKNOWLEDGED


def test_an_envelope_the_hub_refuses_is_given_up_at_once(
    exporter, inspector, officer, supervisor, broker, network, settings, django_capture_on_commit_callbacks
):
    _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    HubDelivery.objects.update(to_country="XX")  # an NPPO the hub does not know
    assert broker.work() == [False]
    row = HubDelivery.objects.get()
    assert row.status == HubStatus.FAILED and "Unknown or inactive NPPO" in row.hub_error
    assert row.attempts == settings.PIF_DELIVERY_ATTEMPTS and not HubDoubleEnvelope.objects.exists()
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(supervisor)
    assert "Unknown or inactive NPPO" in staff.get("/workflow/incidents/").content.decode()


def test_replacement_and_withdrawal_reach_the_hub(
    exporter, inspector, officer, supervisor, broker, network, django_capture_on_commit_callbacks
):
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    broker.work()
    with django_capture_on_commit_callbacks(execute=True):
        replaced = api_client_for(supervisor).post(
            _url(body["reference"], "replace-certificate"),
            {"reason": "change in consignee", "changes": {"consignee_name": "Tropical Imports Ltd"}},
            format="json",
        )
    assert replaced.status_code == 201, replaced.json()
    assert broker.work() == [True, True]
    old, new = replaced.json()["certificates"]
    envelopes = {(e.certificate_number, e.certificate_status) for e in HubDoubleEnvelope.objects.all()}
    assert envelopes == {(old["number"], 70), (old["number"], 35), (new["number"], 70)}
    told = HubDoubleEnvelope.objects.get(certificate_number=old["number"], certificate_status=35)
    assert "<ram:StatusCode>35</ram:StatusCode>" in told.content
    hub_old, hub_new = (_certificate_hub(exporter, body["reference"], i) for i in (0, 1))
    assert (hub_old["event"], hub_old["status"]) == ("replaced", "delivered")
    assert (hub_new["event"], hub_new["status"]) == ("issued", "delivered")

    with django_capture_on_commit_callbacks(execute=True):
        withdrawn = api_client_for(officer).post(
            _url(body["reference"], "withdraw-certificate"), {"reason": "Consignment not shipped"}, format="json"
        )
    assert withdrawn.status_code == 200, withdrawn.json()
    assert broker.work() == [True]
    told = HubDoubleEnvelope.objects.get(certificate_number=new["number"], certificate_status=40)
    assert "<ram:StatusCode>40</ram:StatusCode>" in told.content and told.to_country == "CA"
    assert _certificate_hub(exporter, body["reference"], 1)["event"] == "withdrawn"


def test_a_broker_down_at_commit_leaves_the_envelope_for_the_sweeper(
    exporter, inspector, officer, broker, network, django_capture_on_commit_callbacks
):
    broker.down = True
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks)  # issued all the same
    row = HubDelivery.objects.get()
    assert row.sent_at is None and row.attempts == 0 and not broker.queue
    broker.down = False
    assert deliveries_resend.run() == 0  # too young: its first send may still be on its way
    _past_grace()
    assert deliveries_resend.run() == 1
    assert broker.work() == [True]
    assert _certificate_hub(exporter, body["reference"])["status"] == "delivered"
    assert deliveries_resend.run() == 0


def test_another_company_sees_nothing_of_the_hub_status(
    exporter, other_exporter, inspector, officer, broker, network, django_capture_on_commit_callbacks
):
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    broker.work()
    other = api_client_for(other_exporter)
    assert other.get(_url(body["reference"])).status_code == 404
    assert other.get(LIST).json()["results"] == []
    client = Client()
    client.force_login(other_exporter)
    assert client.get(f"/exports/{body['reference']}/").status_code == 404
    assert HubDelivery.objects.get().hub_delivery_number not in client.get("/exports/").content.decode()


def test_no_hub_configured_owes_no_envelope(
    exporter, inspector, officer, broker, settings, django_capture_on_commit_callbacks
):
    settings.PIF_IPPC_HUB_DOUBLE, settings.PIF_IPPC_HUB_URL = False, ""
    body = _issue(exporter, inspector, officer, django_capture_on_commit_callbacks, broker)
    assert not HubDelivery.objects.exists() and body["certificates"][0]["hub"] is None
    assert Client().post("/hub-double/", b"<x/>", content_type="text/xml").status_code == 404


# The double refuses what the hub would refuse, so that a bad client fails here.
def _envelope(**overrides) -> dict:
    content = (
        '<rsm:SPSCertificate xmlns:rsm="urn:un:unece:uncefact:data:standard:SPSCertificate:17" '
        'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21">'
        "<rsm:SPSExchangedDocument><ram:ID>PHY-1</ram:ID><ram:TypeCode>851</ram:TypeCode>"
        "<ram:StatusCode>70</ram:StatusCode></rsm:SPSExchangedDocument>"
        "<rsm:SPSConsignment><ram:ImportSPSCountry><ram:ID>CA</ram:ID></ram:ImportSPSCountry></rsm:SPSConsignment>"
        "</rsm:SPSCertificate>"
    )
    envelope = {
        "from_country": "FR",
        "to_country": "CA",
        "certificate_type": 851,
        "certificate_status": 70,
        "number": "PHY-1",
        "content": content,
    }
    return {**envelope, **overrides}


@pytest.mark.parametrize(
    ("overrides", "fault"),
    [
        ({}, None),
        ({"from_country": "DE"}, "is not the NPPO of the client certificate"),
        ({"to_country": "ZZ"}, "Unknown or inactive NPPO"),
        ({"to_country": "FR"}, "Unknown or inactive NPPO"),
        ({"certificate_type": 999}, "Certificate type 999 is not allowed"),
        ({"certificate_status": 12}, "Certificate status 12 is not allowed"),
        ({"number": "PHY-2"}, "the certificate's ID is 'PHY-1'"),
        ({"certificate_status": 40}, "the certificate's StatusCode is '70'"),
        ({"to_country": "US"}, "importing country is 'CA'"),
        ({"content": "<rsm:SPSCertificate><unclosed>"}, "not well-formed XML"),
        ({"content": "<other/>"}, "root element must be rsm:SPSCertificate"),
        ({"content": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'}, "not well-formed XML"),
        ({"content": ""}, "Content is required"),
    ],
)
def test_the_double_validates_envelopes_as_the_hub_does(network, overrides, fault):
    if fault is None:
        header = hub.hub_deliver(**_envelope(**overrides))
        assert header["HUBTrackingInfo"] == "PendingDelivery" and len(header["hubDeliveryNumber"]) == 36
        assert hub.hub_tracking(delivery_number=header["hubDeliveryNumber"])["NPPOCertificateNumber"] == "PHY-1"
        return
    with pytest.raises(hub.HubFault, match=fault):
        hub.hub_deliver(**_envelope(**overrides))
    assert not HubDoubleEnvelope.objects.exists()


def test_the_double_answers_soap_faults_and_its_wsdl(network, settings):
    client = Client()
    wsdl = client.get("/hub-double/?wsdl")
    assert wsdl.status_code == 200 and b'location="http://testserver/hub-double/"' in wsdl.content
    assert hub.hub_url() == settings.SITE_URL.rstrip("/") + "/hub-double/"  # where zeep sent all of the above
    garbage = client.post("/hub-double/", b"<not xml", content_type="text/xml")
    assert (
        garbage.status_code == 500
        and b"<faultstring>The message is not well-formed XML.</faultstring>" in garbage.content
    )
    soap12 = client.post(
        "/hub-double/",
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
        content_type="application/soap+xml",
    )
    assert soap12.status_code == 500 and b"VersionMismatch" in soap12.content
    assert client.post("/hub-double/", b"{}", content_type="application/json").status_code == 415
    assert client.put("/hub-double/").status_code == 405
    unknown = client.post(
        "/hub-double/",
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<h:GetPesticides xmlns:h="http://ephyto.ippc.int/"/></s:Body></s:Envelope>',
        content_type="text/xml",
    )
    assert unknown.status_code == 500 and b"HubWebException" in unknown.content
    wrong_action = client.post(
        "/hub-double/",
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<h:GetEnvelopeTrackingInfo xmlns:h="http://ephyto.ippc.int/"><h:hubTrackingNumber>x</h:hubTrackingNumber>'
        b"</h:GetEnvelopeTrackingInfo></s:Body></s:Envelope>",
        content_type="text/xml",
        HTTP_SOAPACTION='"http://ephyto.ippc.int/IDeliveryService/DeliverEnvelope"',
    )
    assert wrong_action.status_code == 500 and b"does not match the operation" in wrong_action.content
    assert hub.hub_tracking(delivery_number="nope")["HUBTrackingInfo"] == "EnvelopeNotExists"
    with pytest.raises(hub.HubFault, match="No envelope nope for FR"):
        hub.hub_acknowledge(delivery_number="nope")


def test_the_demo_delivers_its_certificates_to_the_double_and_most_are_acknowledged(db):
    from inspection.models import Laboratory
    from inspection.roles import Role
    from tests.factories import UserFactory
    from workflows.management.commands._demo_exports import exports_demo

    UserFactory(username="inspector", roles=[Role.INSPECTOR])
    UserFactory(username="officer", roles=[Role.INSPECTOR, Role.CERTIFYING_OFFICER])
    Laboratory.objects.get(code="LTA972").accounts.add(UserFactory(username="lab", roles=[Role.LAB]))
    exports_demo(password="demo")
    rows = list(HubDelivery.objects.select_related("certificate"))
    assert rows and all(row.sent_at and row.hub_delivery_number for row in rows)
    assert {row.to_country: row.status for row in rows} == {
        "CA": "acknowledged",
        "US": "acknowledged",
        "LC": "delivered",  # Saint Lucia has not answered yet
    }
    assert HubDoubleEnvelope.objects.count() == len(rows)
    metrics = Client().get("/metrics").content.decode()
    acknowledged = sum(row.status == "acknowledged" for row in rows)
    assert acknowledged >= 4  # the issued, replaced and replacing certificates to Canada and the United States
    assert f'pif_hub_deliveries{{status="acknowledged"}} {float(acknowledged)}' in metrics
    assert f'pif_hub_deliveries{{status="delivered"}} {float(len(rows) - acknowledged)}' in metrics


def test_pointing_at_the_real_hub_takes_its_url_and_the_nppos_client_certificate(settings):
    settings.PIF_IPPC_HUB_URL = "https://hub.ephytoexchange.org/hub/DeliveryService"
    settings.PIF_IPPC_HUB_CLIENT_CERT, settings.PIF_IPPC_HUB_CLIENT_KEY = "/etc/pif/nppo.pem", "/etc/pif/nppo.key"
    settings.PIF_IPPC_HUB_CA_BUNDLE = "/etc/pif/hub-ca.pem"
    session = hub.hub_session()
    assert session.cert == ("/etc/pif/nppo.pem", "/etc/pif/nppo.key") and session.verify == "/etc/pif/hub-ca.pem"
    assert hub.hub_url() == settings.PIF_IPPC_HUB_URL
    service = hub._service(session)
    assert service._binding_options["address"] == settings.PIF_IPPC_HUB_URL
