"""Just enough reading of the coursework's opening-hours text to tell when a facility is open.

The text is free-form: "Mon-Fri: 8:00-18:00, Sat: 8:00-12:00" at a surgery, "24/7 Emergency,
Outpatients: Mon-Fri 8:00-17:00" at a hospital. It is kept as written on the facility; the importer
only needs to know which weekdays are open (and, where it is written, between which times) to warn about
appointments booked when the doors are shut. Anything that says 24/7 is always open.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A day name, short or long, as a whole word ("Mon", "Tues", "Thursday"; not "Month").
_DAY = (
    r"(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)\b\.?"
)
_CLOCK = r"\d{1,2}(?:[:.]\d{2})?"
_SEGMENT = re.compile(
    rf"\b{_DAY}(?:\s*(?:-|–|to)\s*{_DAY})?\s*:?\s*"
    rf"(?:(?P<open>{_CLOCK})\s*(?:-|–|to)\s*(?P<close>{_CLOCK})|(?P<closed>closed))?",
    re.IGNORECASE,
)
_ALWAYS = re.compile(r"24\s*/\s*7|24\s*hours|24hrs", re.IGNORECASE)
_DAY_INDEX = {name[:3].lower(): index for index, name in enumerate(DAY_NAMES)}

Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class OpeningHours:
    always_open: bool
    # weekday (0 = Monday) -> the times open that day, or None when the day is open at times not written.
    days: dict[int, tuple[Interval, ...] | None]

    def is_open_on(self, weekday: int) -> bool:
        return self.always_open or weekday in self.days

    def covers(self, weekday: int, start: dt.time, end: dt.time) -> bool | None:
        """Whether start..end falls in the day's opening times; None when the times are not known."""
        if self.always_open:
            return True
        intervals = self.days.get(weekday)
        if intervals is None:
            return None
        return any(opens <= start and end <= closes for opens, closes in intervals)


def _clock(text: str) -> dt.time | None:
    hour, _, minute = text.replace(".", ":").partition(":")
    hour_number, minute_number = int(hour), int(minute or 0)
    if hour_number == 24 and minute_number == 0:
        return dt.time(23, 59)
    if hour_number > 23 or minute_number > 59:
        return None
    return dt.time(hour_number, minute_number)


@lru_cache(maxsize=256)
def parse(text: str) -> OpeningHours | None:
    """The opening hours written in `text`, or None when no day or 24/7 can be found in it."""
    if _ALWAYS.search(text):
        return OpeningHours(always_open=True, days={})
    return _written_days(text)


ALL_DAY: Interval = (dt.time(0, 0), dt.time(23, 59))


def weekly_times(text: str) -> dict[int, list[Interval]] | None:
    """The structured weekly hours for bookable clinics: weekday -> open intervals.

    Days written with their times win over "24/7" (a hospital's "24/7 Emergency, Outpatients: Mon-Fri
    8:00-17:00" books outpatients Monday to Friday, 8 to 5); 24/7 alone is every day, all day. Days
    said to be open without times are left out, since no slot can be placed in them. None when nothing
    usable is written.
    """
    written = _written_days(text)
    if written is not None:
        times = {weekday: list(intervals) for weekday, intervals in written.days.items() if intervals}
        if times:
            return times
    if _ALWAYS.search(text):
        return {weekday: [ALL_DAY] for weekday in range(7)}
    return None


def _written_days(text: str) -> OpeningHours | None:
    days: dict[int, tuple[Interval, ...] | None] = {}
    found = False
    for match in _SEGMENT.finditer(text):
        found = True
        first = _DAY_INDEX[match.group(1).lower()[:3]]
        last = _DAY_INDEX[match.group(2).lower()[:3]] if match.group(2) else first
        span = [(first + step) % 7 for step in range((last - first) % 7 + 1)]
        if match.group("closed"):
            for weekday in span:
                days.pop(weekday, None)
            continue
        interval: Interval | None = None
        if match.group("open"):
            opens, closes = _clock(match.group("open")), _clock(match.group("close"))
            if opens is not None and closes is not None and opens < closes:
                interval = (opens, closes)
        for weekday in span:
            # A day said to be open without times anywhere in the text: its times are unknown.
            if interval is None or (weekday in days and days[weekday] is None):
                days[weekday] = None
            else:
                days[weekday] = (*(days.get(weekday) or ()), interval)
    if not found:
        return None
    return OpeningHours(always_open=False, days=days)
