"""The .ics generator: what calendar programs need to read it, byte for byte (RFC 5545)."""

import datetime as dt

from carebridge.core import clock
from carebridge.delivery.tests.mail_testing import parse_ics
from carebridge.scheduling.calendar import CalendarEvent, calendar_document, fold, utc_stamp

EVENT = CalendarEvent(
    uid="0b1e3a52-5d3c-4a0e-9d0b-6f1f2b0c9a11@carebridge",
    sequence=3,
    starts_at=clock.london_datetime(dt.date(2026, 6, 1), dt.time(9, 0)),
    ends_at=clock.london_datetime(dt.date(2026, 6, 1), dt.time(9, 15)),
    summary="Appointment at St. Siân's Surgery, Llanfair; upstairs",
    location="St. Siân's Surgery, 1 Ffordd y Môr, Llanfairpwllgwyngyll, LL61 5UJ",
    description="Follow-up with Dr. Grace Patel.\nBring your inhaler, please. Back\\slash.",
    organizer_name="St. Siân's Surgery, Llanfair",
    organizer_email="reception@stsians.example",
    attendee_name='Alice "Ali" Archer',
    attendee_email="alice@example.com",
    stamp=dt.datetime(2026, 5, 20, 14, 3, 9, tzinfo=dt.UTC),
)


def test_times_are_written_in_utc_so_summer_time_is_right():
    # 09:00 in London in June is 08:00 UTC.
    assert utc_stamp(EVENT.starts_at) == "20260601T080000Z"
    assert utc_stamp(clock.london_datetime(dt.date(2026, 12, 1), dt.time(9, 0))) == "20261201T090000Z"


def test_a_request_reads_back_with_every_field_intact():
    calendar = parse_ics(calendar_document(EVENT, "REQUEST").encode())
    assert calendar.value("METHOD") == "REQUEST"
    event = calendar.component("VEVENT")
    assert event.value("UID") == EVENT.uid
    assert event.value("SEQUENCE") == "3"
    assert event.value("DTSTART") == "20260601T080000Z"
    assert event.value("DTEND") == "20260601T081500Z"
    assert event.value("DTSTAMP") == "20260520T140309Z"
    assert event.value("STATUS") == "CONFIRMED"
    # Commas, semicolons, backslashes and line breaks survive the escaping.
    assert event.text("SUMMARY") == EVENT.summary
    assert event.text("LOCATION") == EVENT.location
    assert event.text("DESCRIPTION") == EVENT.description
    organizer = event.one("ORGANIZER")
    assert organizer.value == "mailto:reception@stsians.example"
    assert organizer.params["CN"] == "St. Siân's Surgery, Llanfair"
    attendee = event.one("ATTENDEE")
    assert attendee.value == "mailto:alice@example.com"
    assert attendee.params == {
        "CN": "Alice 'Ali' Archer",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "ACCEPTED",
        "RSVP": "FALSE",
    }


def test_a_cancellation_says_so_twice():
    calendar = parse_ics(calendar_document(EVENT, "CANCEL").encode())
    assert calendar.value("METHOD") == "CANCEL"
    assert calendar.component("VEVENT").value("STATUS") == "CANCELLED"


def test_lines_end_crlf_and_long_ones_fold_at_75_octets_between_characters():
    document = calendar_document(EVENT, "REQUEST")
    assert "\n" not in document.replace("\r\n", "")
    lines = document.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines), "the long LOCATION should have been folded"
    # Two-byte characters at every position around the limit: pieces never split a character and
    # join back to the original.
    for prefix in range(70, 78):
        line = "X" * prefix + "ââââ" + "y" * 100
        folded = fold(line)
        pieces = folded.split("\r\n ")
        assert all(len(piece.encode()) <= 75 for piece in pieces[:1])
        assert all(len(piece.encode()) <= 74 for piece in pieces[1:])
        assert "".join(pieces) == line


def test_a_short_line_is_left_alone():
    assert fold("SEQUENCE:1") == "SEQUENCE:1"
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"
