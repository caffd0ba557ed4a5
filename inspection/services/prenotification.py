"""The pre-notification deadline (Implementing Regulation (EU) 2019/1013, art. 1)."""

import datetime

from django.utils import timezone

from inspection.working_days import previous_working_day


def prenotification_deadline(*, arrival: datetime.datetime, short_notice: bool) -> datetime.datetime:
    """The latest time Part I may be submitted for a consignment arriving at `arrival`.

    The rule: at least one working day before the expected arrival, i.e. no later than the same local time on
    the previous working day (weekends, Martinique's public holidays and the post's local non-working days
    are not: `inspection.working_days`). A BCP may allow 4 hours for some CHED types (art. 1(2)); that is the
    `short_notice` of its approval.
    """
    if short_notice:
        return arrival - datetime.timedelta(hours=4)
    local = timezone.localtime(arrival)
    day = previous_working_day(local.date())
    return local.replace(year=day.year, month=day.month, day=day.day)
