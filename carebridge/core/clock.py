"""The one clock. Everything that needs 'now' or 'today' asks here, so tests can freeze time."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

LONDON = ZoneInfo("Europe/London")

_frozen_at: dt.datetime | None = None


def now() -> dt.datetime:
    """The current moment, timezone-aware (UTC)."""
    if _frozen_at is not None:
        return _frozen_at
    return timezone.now()


def today() -> dt.date:
    """Today's date in the UK, which is what a receptionist means by 'today'."""
    return now().astimezone(LONDON).date()


def freeze(moment: dt.datetime | None) -> None:
    """Tests only: stop the clock at `moment` (aware), or restart it with None."""
    global _frozen_at
    if moment is not None and timezone.is_naive(moment):
        raise ValueError("freeze() needs an aware datetime")
    # Kept in UTC, as now() promises: arithmetic on a London time would move by wall-clock days.
    _frozen_at = moment.astimezone(dt.UTC) if moment is not None else None


def shift_process_clock(seconds: float) -> None:
    """Multi-instance tests only (carebridge/testing/instances.py): run this whole process `seconds` away
    from the system clock, time still moving, so that its "today" is the tests' base day on any day.

    Django's own clock moves with it, not only this module's: the outbox schedules a retry by now() and
    django-tasks-db decides that it is due by timezone.now(), and the two must agree. The settings call
    this, before any app is loaded, when CAREBRIDGE_CLOCK_SHIFT_SECONDS is set.
    """
    shift = dt.timedelta(seconds=seconds)
    system_now = timezone.now
    setattr(timezone, "now", lambda: system_now() + shift)  # noqa: B010 (mypy refuses assigning to a function)


# The dates Carebridge works with: births since 1800, appointments and schedules until 2999. Outside
# them Python's own limits (year 1 to 9999) are near enough that a day's end or a change of zone
# overflows, so every edge refuses such a date as bad input (400) before it becomes a datetime.
FIRST_DAY = dt.date(1800, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class DateOutOfRange(ValueError):
    """A date outside FIRST_DAY..LAST_DAY; the message says so in words, for the person who sent it."""


def supported_day(day: dt.date) -> dt.date:
    """`day`, if Carebridge works with it; DateOutOfRange otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DateOutOfRange(
            f"{day.isoformat()} is outside the dates Carebridge works with: give a date between "
            f"{FIRST_DAY:%d/%m/%Y} and {LAST_DAY:%d/%m/%Y}."
        )
    return day


def london_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock date and time at a UK facility, as an aware datetime (DateOutOfRange beyond the
    supported dates)."""
    return dt.datetime.combine(supported_day(day), time, tzinfo=LONDON)
