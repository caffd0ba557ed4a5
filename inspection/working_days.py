"""Martinique's working calendar: which days the post and the pre-notification deadline count as working.

A day is not a working day when it is a Saturday or a Sunday, a legal public holiday in Martinique, or a local
non-working day recorded in the `Holiday` table. The legal holidays are computed for any year by the
`holidays` package (subdivision FR-972): the eleven national days of the Code du travail, art. L3133-1, and
Martinique's own, 22 May (abolition of slavery, loi n° 83-550 and décret n° 83-1003) and 21 July (Victor
Schœlcher day). Days that local custom or a prefectoral order closes (Good Friday, carnival days, a cyclone
warning) are not in any national text: the post records them in the admin (docs/regulation.md)."""

import datetime
from functools import lru_cache

import holidays

from inspection.models import Holiday

SUBDIVISION = "972"  # Martinique, in the `holidays` package's French subdivisions


@lru_cache(maxsize=64)
def _legal_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("FR", subdiv=SUBDIVISION, years=year))


def non_working_days(start: datetime.date, end: datetime.date) -> set[datetime.date]:
    """The public holidays and local non-working days from `start` to `end` (both included). One query (the
    local days); weekends are not listed."""
    days = {day for year in range(start.year, end.year + 1) for day in _legal_holidays(year) if start <= day <= end}
    days.update(Holiday.objects.filter(date__range=(start, end)).values_list("date", flat=True))
    return days


def previous_working_day(day: datetime.date) -> datetime.date:
    """The last working day strictly before `day`."""
    closed = non_working_days(day - datetime.timedelta(days=31), day)
    day -= datetime.timedelta(days=1)
    while day.weekday() >= 5 or day in closed:
        day -= datetime.timedelta(days=1)
    return day
