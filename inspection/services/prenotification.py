"""The pre-notification deadline (Implementing Regulation (EU) 2019/1013, art. 1)."""

import datetime

from django.utils import timezone

from inspection.models import Holiday


def prenotification_deadline(*, arrival: datetime.datetime, short_notice: bool) -> datetime.datetime:
    """The latest time Part I may be submitted for a consignment arriving at `arrival`.

    The rule: at least one working day before the expected arrival, i.e. no later than the same local time on
    the previous working day (weekends and Martinique's public holidays are not working days). A BCP may allow
    4 hours for some CHED types (art. 1(2)); that is the `short_notice` of its approval.
    """
    if short_notice:
        return arrival - datetime.timedelta(hours=4)
    local = timezone.localtime(arrival)
    window_start = local.date() - datetime.timedelta(days=31)
    holidays = set(Holiday.objects.filter(date__range=(window_start, local.date())).values_list("date", flat=True))
    day = local.date() - datetime.timedelta(days=1)
    while day.weekday() >= 5 or day in holidays:
        day -= datetime.timedelta(days=1)
    return local.replace(year=day.year, month=day.month, day=day.day)
