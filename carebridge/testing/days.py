"""The suite's "today", and dates written the way the pages and emails write them.

Every test starts with `carebridge.core.clock` frozen at BASE_MOMENT (the autouse fixture in
fixtures.py), before any test data is built, so nothing a test sees depends on the day it runs.
The base day is Monday 30 November 2026 unless CAREBRIDGE_TEST_TODAY=YYYY-MM-DD moves it; `make
test-another-day` runs the suite a year later to show no test leans on the default.

Tests compute the dates they expect from these values rather than writing "Tuesday 1 December 2026".
The formatting here is written out independently of the app's own, so a test can still catch the app
writing a date wrongly.
"""

import datetime as dt
import os

from carebridge.core import clock

DEFAULT_BASE_DAY = dt.date(2026, 11, 30)
# Before any surgery opens, so every slot of the base day is still ahead.
BASE_TIME = dt.time(7, 0)


def _base_day() -> dt.date:
    raw = os.environ.get("CAREBRIDGE_TEST_TODAY", "").strip()
    if not raw:
        return DEFAULT_BASE_DAY
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"CAREBRIDGE_TEST_TODAY must be a date as YYYY-MM-DD, not {raw!r}") from None


BASE_DAY = _base_day()
BASE_MOMENT = clock.london_datetime(BASE_DAY, BASE_TIME)


def monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def long_day(day: dt.date | dt.datetime, *, year: bool = True) -> str:
    """'Tuesday 1 December 2026', or 'Tuesday 1 December' (a datetime is read in London)."""
    if isinstance(day, dt.datetime):
        day = day.astimezone(clock.LONDON).date()
    return f"{day:%A} {day.day} {day:%B}" + (f" {day.year}" if year else "")


def date_boxes(name: str, day: dt.date) -> dict[str, str]:
    """An NHS date input's three boxes for the form field `name`, as a person types them."""
    return {f"{name}_day": str(day.day), f"{name}_month": str(day.month), f"{name}_year": str(day.year)}


def day_month_year(day: dt.date) -> str:
    """'1 December 2026'."""
    return f"{day.day} {day:%B %Y}"


def short_day(day: dt.date | dt.datetime) -> str:
    """'03 Dec 2026' (a datetime is read in London), as a review note dates its entries."""
    if isinstance(day, dt.datetime):
        day = day.astimezone(clock.LONDON).date()
    return f"{day.day:02d} {day:%b} {day.year}"


def short_when(moment: dt.datetime) -> str:
    """'Wed 2 Dec 2026, 09:00' in London, as the schedule pages list leave and rebooking."""
    local = moment.astimezone(clock.LONDON)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def when(moment: dt.datetime, *, year: bool = True) -> str:
    """'Tuesday 1 December 2026 at 09:00' (or without the year) in London."""
    return f"{long_day(moment, year=year)} at {moment.astimezone(clock.LONDON):%H:%M}"


def ics_stamp(moment: dt.datetime) -> str:
    """An iCalendar UTC date-time: '20261130T070000Z'."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
