"""Reading single values: what is accepted, and what is refused with which words."""

import datetime as dt
from decimal import Decimal

import pytest

from carebridge.csvio import cells, opening_hours
from carebridge.csvio.cells import CellError


def _no_warning(message: str) -> None:
    raise AssertionError(f"unexpected warning: {message}")


@pytest.mark.parametrize("text", ["9/10/2025", "10/09/2025", "2025/09/20", "20-09-2025", "2025-9-20", "Sept 20"])
def test_dates_not_year_month_day_are_refused(text):
    with pytest.raises(CellError, match="Write dates like 2025-09-20"):
        cells.date(text, _no_warning)


def test_date():
    assert cells.date("2025-09-20", _no_warning) == dt.date(2025, 9, 20)


@pytest.mark.parametrize("text", ["9:00", "09:00:00", "9am", "0900", "09.00"])
def test_times_not_hh_mm_are_refused(text):
    with pytest.raises(CellError, match="HH:MM"):
        cells.time(text, _no_warning)


def test_time_out_of_range():
    with pytest.raises(CellError, match="not a real time"):
        cells.time("24:00", _no_warning)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20mg", (Decimal("20"), "mg")),
        ("100units/ml", (Decimal("100"), "units/ml")),
        ("400mcg", (Decimal("400"), "mcg")),
        ("2.5 mg", (Decimal("2.5"), "mg")),
        ("1 spray bottle", (1, "spray bottle")),
    ],
)
def test_amounts_with_units(text, expected):
    assert cells.amount_with_unit("20mg")(text, _no_warning) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("mg", "not an amount followed by a unit"),
        ("20", "has no unit"),
        ("1,000mg", "not an amount"),
        ("123456789mg", "too many digits"),
        ("0.12345mg", "too many digits"),
    ],
)
def test_unreadable_amounts(text, words):
    with pytest.raises(CellError, match=words):
        cells.amount_with_unit("20mg")(text, _no_warning)


def test_nhs_number_with_spaces_is_stored_as_ten_digits():
    assert cells.nhs_number("943 476 5919", _no_warning) == "9434765919"


def test_nhs_number_failing_the_check_is_a_warning():
    warnings: list[str] = []
    assert cells.nhs_number("1234567890", warnings.append) == "1234567890"
    assert "fails the NHS number check" in warnings[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("9.43477E+09", "A spreadsheet has changed this number"),
        ("1,23E+09", "A spreadsheet"),
        ("123456789", "has 9 digits"),
        ("12345678901", "has 11 digits"),
        ("943476591X", "10 digits and nothing else"),
    ],
)
def test_nhs_numbers_refused(text, words):
    with pytest.raises(CellError, match=words):
        cells.nhs_number(text, _no_warning)


@pytest.mark.parametrize("text", ["07123456789", "0121-123-4567", "+44 121 123 4567", "(0113) 200 1000"])
def test_phone_numbers(text):
    assert cells.phone(text, _no_warning) == text


@pytest.mark.parametrize(("text", "words"), [("7.1234E+09", "A spreadsheet"), ("7123456789", "leading 0")])
def test_phone_numbers_refused(text, words):
    with pytest.raises(CellError, match=words):
        cells.phone(text, _no_warning)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. David", ("Dr.", "David")),
        ("Sister Mary", ("Sister", "Mary")),
        ("Nurse Jane", ("Nurse", "Jane")),
        ("Prof. Ann Marie", ("Prof.", "Ann Marie")),
        ("Dr Helen", ("Dr", "Helen")),
        ("David", ("", "David")),
        ("Drew", ("", "Drew")),
        ("Dr.", ("", "Dr.")),
    ],
)
def test_honorific_is_split_off(text, expected):
    assert cells.name_with_honorific(text, _no_warning) == expected


@pytest.mark.parametrize("text", ["7654321", "N654321", "n654321"])
def test_registration_numbers(text):
    assert cells.registration_number(text, _no_warning) == text.upper()


@pytest.mark.parametrize(
    ("text", "words"), [("654321", "has 6 digits"), ("7.65E+06", "A spreadsheet"), ("N65432", "not a GMC")]
)
def test_registration_numbers_refused(text, words):
    with pytest.raises(CellError, match=words):
        cells.registration_number(text, _no_warning)


def test_vocabulary_ignores_case_and_punctuation():
    parse = cells.choice("a status", {"In Progress": "in_progress"}, ("In Progress",))
    assert parse("in-progress", _no_warning) == "in_progress"
    with pytest.raises(CellError, match="'Started' is not a status Carebridge knows. Use In Progress."):
        parse("Started", _no_warning)


@pytest.mark.parametrize(
    ("text", "open_days"),
    [
        ("Mon-Fri: 8:00-18:00, Sat: 8:00-12:00", {0, 1, 2, 3, 4, 5}),
        ("Mon-Fri: 8:30-17:30, Sat: 9:00-13:00, Sun: Closed", {0, 1, 2, 3, 4, 5}),
        ("Monday to Friday 08.00 - 18.30", {0, 1, 2, 3, 4}),
        ("Fri-Mon 9-17", {4, 5, 6, 0}),
    ],
)
def test_opening_hours_days(text, open_days):
    hours = opening_hours.parse(text)
    assert {day for day in range(7) if hours.is_open_on(day)} == open_days


def test_opening_hours_24_7_is_always_open():
    hours = opening_hours.parse("24/7 Emergency, Outpatients: Mon-Fri 8:00-17:00")
    assert hours.always_open and hours.is_open_on(6)


def test_opening_hours_times():
    hours = opening_hours.parse("Mon-Fri: 8:00-18:00, Sat: 8:00-12:00")
    assert hours.covers(5, dt.time(9), dt.time(9, 30)) is True
    assert hours.covers(5, dt.time(11, 45), dt.time(12, 15)) is False


def test_opening_hours_that_cannot_be_read():
    assert opening_hours.parse("By appointment only") is None
    assert opening_hours.parse("Monthly clinic") is None
