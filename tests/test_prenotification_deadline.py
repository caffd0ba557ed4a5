"""Pre-notification at least one working day before arrival, or 4 hours where the BCP allows it
(Implementing Regulation (EU) 2019/1013)."""

import datetime
import zoneinfo

import pytest

from inspection.services.prenotification import prenotification_deadline
from tests.conftest import api_client_for
from tests.factories import part_one

pytestmark = pytest.mark.django_db
MQ = zoneinfo.ZoneInfo("America/Martinique")


def at(*args):
    return datetime.datetime(*args, tzinfo=MQ)


@pytest.mark.parametrize(
    ("arrival", "deadline"),
    [
        (at(2026, 12, 2, 10, 0), at(2026, 12, 1, 10, 0)),  # Wednesday -> Tuesday
        (at(2026, 11, 30, 10, 0), at(2026, 11, 27, 10, 0)),  # Monday -> Friday
        (at(2026, 11, 29, 6, 30), at(2026, 11, 27, 6, 30)),  # Sunday -> Friday
        (at(2026, 4, 7, 9, 0), at(2026, 4, 2, 9, 0)),  # Tuesday after Easter Monday and Good Friday -> Thursday
        (at(2026, 5, 23, 8, 0), at(2026, 5, 21, 8, 0)),  # Saturday after 22 May (abolition of slavery) -> Thursday
    ],
)
def test_one_working_day_skips_weekends_and_holidays(arrival, deadline):
    assert prenotification_deadline(arrival=arrival, short_notice=False) == deadline


def test_short_notice_is_four_hours():
    arrival = at(2026, 11, 30, 10, 0)
    assert prenotification_deadline(arrival=arrival, short_notice=True) == at(2026, 11, 30, 6, 0)


def _arrival_in(hours):
    return (datetime.datetime.now(tz=MQ) + datetime.timedelta(hours=hours)).isoformat()


def test_port_refuses_a_notification_two_hours_before_arrival(importer):
    payload = part_one(as_json=True)
    payload["arrival"]["expected_at"] = _arrival_in(2)
    for language, fragment in (("en", "Too late to pre-notify"), ("fr", "Trop tard pour pré-notifier")):
        response = api_client_for(importer, language).post("/api/v1/consignments/", payload, format="json")
        assert response.status_code == 400
        assert fragment in " ".join(response.json()["arrival"]["expected_at"])


def test_airport_with_short_notice_accepts_five_hours_but_not_three(importer):
    payload = part_one(as_json=True, bcp="FRFDF4", containers=[])
    payload["arrival"].update(transport_mode="air", transport_id="AF 652", expected_at=_arrival_in(5))
    client = api_client_for(importer)
    assert client.post("/api/v1/consignments/", payload, format="json").status_code == 201
    payload["arrival"]["expected_at"] = _arrival_in(3)
    response = client.post("/api/v1/consignments/", payload, format="json")
    assert response.status_code == 400
    assert "4 hours" in " ".join(response.json()["arrival"]["expected_at"])


def test_legal_holidays_are_computed_for_any_year():
    # Martinique's 22 May (abolition of slavery) in a year no table lists: Friday 22 May 2037, so a Monday
    # arrival's deadline is Thursday 21 May.
    assert prenotification_deadline(arrival=at(2037, 5, 25, 9, 0), short_notice=False) == at(2037, 5, 21, 9, 0)
    # 21 July (Victor Schœlcher day), Tuesday in 2043: a Wednesday arrival is due by Monday.
    assert prenotification_deadline(arrival=at(2043, 7, 22, 9, 0), short_notice=False) == at(2043, 7, 20, 9, 0)


def test_a_local_non_working_day_recorded_by_the_post_counts(db):
    from inspection.models import Holiday

    # a cyclone warning closes the post on Tuesday 1 September 2037
    Holiday.objects.create(date=datetime.date(2037, 9, 1), name_fr="Alerte cyclonique", name_en="Cyclone warning")
    assert prenotification_deadline(arrival=at(2037, 9, 2, 9, 0), short_notice=False) == at(2037, 8, 31, 9, 0)


def test_legal_holidays_are_no_longer_rows():
    from inspection.models import Holiday

    assert not Holiday.objects.filter(name_en="Christmas Day").exists()
    assert Holiday.objects.filter(name_en="Good Friday").count() == 2  # 2026 and 2027, local custom
