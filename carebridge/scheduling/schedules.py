"""From weekly sessions, opening hours and exceptions to the slots a clinician offers. Pure functions."""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from carebridge.core.clock import london_datetime


@dataclass(frozen=True)
class SessionPattern:
    session_id: int | None
    weekday: int
    start_time: dt.time
    end_time: dt.time
    slot_minutes: int
    appointment_types: tuple[str, ...]
    valid_from: dt.date
    valid_until: dt.date | None


@dataclass(frozen=True)
class PlannedSlot:
    session_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    appointment_types: tuple[str, ...]


Interval = tuple[dt.datetime, dt.datetime]


def planned_slots(
    *,
    sessions: Iterable[SessionPattern],
    opening: dict[int, list[tuple[dt.time, dt.time]]],
    exceptions: list[Interval],
    first_day: dt.date,
    last_day: dt.date,
) -> Iterator[PlannedSlot]:
    """Every slot the sessions yield between two dates, inside opening hours, outside exceptions.

    Times are wall-clock times at the facility (Europe/London), so a 09:00 session stays at 09:00
    across the change to and from summer time.
    """
    sessions = list(sessions)
    day = first_day
    while day <= last_day:
        for session in sessions:
            if session.weekday != day.weekday() or day < session.valid_from:
                continue
            if session.valid_until is not None and day > session.valid_until:
                continue
            start = dt.datetime.combine(day, session.start_time)
            end_of_session = dt.datetime.combine(day, session.end_time)
            length = dt.timedelta(minutes=session.slot_minutes)
            while start + length <= end_of_session:
                slot_start, slot_end = start.time(), (start + length).time()
                if _within_opening(opening.get(day.weekday(), []), slot_start, slot_end):
                    starts_at = london_datetime(day, slot_start)
                    ends_at = london_datetime(day, slot_end)
                    if not any(starts_at < until and since < ends_at for since, until in exceptions):
                        yield PlannedSlot(session.session_id, starts_at, ends_at, session.appointment_types)
                start += length
        day += dt.timedelta(days=1)


def _within_opening(intervals: list[tuple[dt.time, dt.time]], start: dt.time, end: dt.time) -> bool:
    return any(opens <= start and end <= closes for opens, closes in intervals)


def sessions_overlap(first: SessionPattern, second: SessionPattern) -> bool:
    if first.weekday != second.weekday:
        return False
    times_overlap = first.start_time < second.end_time and second.start_time < first.end_time
    first_last = first.valid_until or dt.date.max
    second_last = second.valid_until or dt.date.max
    dates_overlap = first.valid_from <= second_last and second.valid_from <= first_last
    return times_overlap and dates_overlap
