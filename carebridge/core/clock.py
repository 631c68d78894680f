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


def london_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock date and time at a UK facility, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=LONDON)
