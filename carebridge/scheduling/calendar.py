"""iCalendar (RFC 5545) invitations for appointments, so they land in the patient's own calendar.

One event per appointment, always with the same UID. Each change carries a higher SEQUENCE, which
is how calendar programs know to update the event they hold rather than add a second one (RFC 5546:
METHOD:REQUEST to add or update, METHOD:CANCEL to remove). Times are written in UTC, so no time-zone
definitions are needed and the event shows at the right local time everywhere.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Method = Literal["REQUEST", "CANCEL"]

PRODUCT_ID = "-//Carebridge//Appointments//EN"
# RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
MAX_LINE_OCTETS = 75


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    location: str
    description: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str
    # When this version of the event was written (DTSTAMP).
    stamp: dt.datetime


def calendar_document(event: CalendarEvent, method: Method) -> str:
    """The whole .ics text: CRLF line endings, long lines folded."""
    cancelled = method == "CANCEL"
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODUCT_ID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{_text(event.uid)}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{_text(event.summary)}",
        f"LOCATION:{_text(event.location)}",
        f"DESCRIPTION:{_text(event.description)}",
        f"ORGANIZER;CN={_param(event.organizer_name)}:mailto:{event.organizer_email}",
        # The patient booked it (or had it booked for them), so they have accepted it; no reply wanted.
        f"ATTENDEE;CN={_param(event.attendee_name)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:"
        f"mailto:{event.attendee_email}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def utc_stamp(moment: dt.datetime) -> str:
    """A DATE-TIME in UTC form, 20261130T090000Z."""
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    # RFC 5545 3.3.11: backslash, semicolon and comma are escaped; a line break becomes \n.
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _param(value: str) -> str:
    # RFC 5545 3.2: a parameter value holding : ; or , is quoted; a double quote cannot appear at all.
    value = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{value}"' if any(mark in value for mark in ":;,") else value


def fold(line: str) -> str:
    """Break a content line into pieces of at most 75 octets, each after the first led by a space.

    Counted in UTF-8 octets, and never inside a character: a name like Siân must not be split
    between the two bytes of its â.
    """
    if len(line.encode("utf-8")) <= MAX_LINE_OCTETS:
        return line  # most lines: nothing to fold, and no need to walk them a character at a time
    pieces: list[str] = []
    current = ""
    current_octets = 0
    limit = MAX_LINE_OCTETS
    for character in line:
        size = len(character.encode("utf-8"))
        if current_octets + size > limit:
            pieces.append(current)
            # A continuation line starts with one space, which counts towards its 75 octets.
            current, current_octets, limit = "", 0, MAX_LINE_OCTETS - 1
        current += character
        current_octets += size
    pieces.append(current)
    return "\r\n ".join(pieces)
