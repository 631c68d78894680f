"""Reading one value of a CSV file: the parsers every file specification is built from.

A parser takes the text of a cell (already trimmed, never empty: an empty cell is dealt with by the
column) and a `warn` function. It answers the value to store, raises CellError with a message a
receptionist understands when the value cannot be stored, or calls `warn` when the value can be
stored but looks wrong. Messages never guess what a value meant: they say how to write it.
"""

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from carebridge.core import nhs_number as nhs

Warn = Callable[[str], None]
Parser = Callable[[str, Warn], Any]


class CellError(ValueError):
    """The value cannot be stored. The message is shown to the person who made the file."""


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2})")
# What a spreadsheet makes of a long number it thinks is a quantity: 1.23457E+09, 1,23E+09, 7.65e6.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_DECIMAL_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|\.\d+)")
_AMOUNT_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-zµμ%][^\n]*)")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
# The shape of a UK postcode (outward code, space, inward code). The space is optional on import.
_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The everyday address (letters, digits, dots, dashes; a dotted domain) needs no closer look.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)

SPREADSHEET_ADVICE = (
    "A spreadsheet has changed this number and the original digits are lost. Format the "
    "column as Text in the spreadsheet, type the numbers again and save the file once more."
)


def _quoted(value: str) -> str:
    return f"'{value}'"


# A spreadsheet takes a cell starting with one of these for a formula (or, for tab and carriage
# return, hides the character and may still read what follows as one). OWASP's advice for CSV
# injection: prefix such a cell with an apostrophe, which spreadsheets treat as "this is text".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# One or more apostrophes and then a trigger: the only values the export changes. Apostrophes are
# counted in, so that a value that really starts with an apostrophe before a trigger ("'=1") keeps it
# ("''=1" in the file, "'=1" again on import) and every other value is written as stored.
_DEFUSED = re.compile(r"'+[=+\-@\t\r]")


def spreadsheet_safe(value: str) -> str:
    """The value as written to an exported cell: a leading apostrophe added where a spreadsheet
    would otherwise run it as a formula ("+44 121 496 0000" -> "'+44 121 496 0000")."""
    if value.startswith(FORMULA_TRIGGERS) or _DEFUSED.match(value):
        return "'" + value
    return value


def from_spreadsheet_safe(value: str) -> str:
    """The stored value of an imported cell: undoes `spreadsheet_safe` exactly (one apostrophe taken
    off where apostrophes lead to a trigger). A lone leading apostrophe ("'s-Hertogenbosch") stays."""
    if _DEFUSED.match(value):
        return value[1:]
    return value


def text(value: str, warn: Warn) -> str:
    return value


def source_id(value: str, warn: Warn) -> str:
    if len(value) > 32:
        raise CellError(f"{_quoted(value)} is too long for an ID: at most 32 characters.")
    if _CONTROL.search(value):
        raise CellError("This ID contains a control character (perhaps a line break); IDs are plain text.")
    return value


def date(value: str, warn: Warn) -> dt.date:
    match = _DATE.fullmatch(value)
    if match is None:
        if _DATE.match(value):
            raise CellError(f"{_quoted(value)} must be the date alone, written like 2025-09-20.")
        raise CellError(
            f"{_quoted(value)} is not written as year-month-day. Write dates like 2025-09-20: "
            f"Carebridge never guesses whether a date such as 9/10/2025 means September or October."
        )
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(f"{_quoted(value)} is not a real date (check the month and the day).") from None


def time(value: str, warn: Warn) -> dt.time:
    match = _TIME.fullmatch(value)
    if match is None:
        raise CellError(
            f"{_quoted(value)} is not a time written as HH:MM. Write times on the 24-hour clock "
            f"with two-digit hours and minutes, like 09:30 or 14:00."
        )
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise CellError(f"{_quoted(value)} is not a real time: hours go from 00 to 23 and minutes from 00 to 59.")
    return dt.time(hour, minute)


def whole_number(value: str, warn: Warn) -> int:
    if not value.isdigit() or not value.isascii():
        raise CellError(f"{_quoted(value)} is not a whole number: write it with digits only, like 15.")
    return int(value)


def positive_whole_number(value: str, warn: Warn) -> int:
    number = whole_number(value, warn)
    if number == 0:
        raise CellError("This must be more than 0.")
    return number


def _amount(number: str, original: str) -> Decimal:
    whole, _, fraction = number.partition(".")
    # The database keeps up to 8 digits before the point and 4 after (max_digits=12, decimal_places=4).
    if len(whole.lstrip("0")) > 8 or len(fraction) > 4:
        raise CellError(f"{_quoted(original)} has too many digits: at most 8 before the decimal point and 4 after.")
    return Decimal(number)


def amount_with_unit(example: str) -> Parser:
    """'20mg' -> (20, 'mg'); '28 tablets' -> (28, 'tablets'): a quantity always carries its unit."""

    def parse(value: str, warn: Warn) -> tuple[Decimal, str]:
        match = _AMOUNT_WITH_UNIT.fullmatch(value)
        if match is None:
            if _DECIMAL_AMOUNT.fullmatch(value):
                raise CellError(f"{_quoted(value)} has no unit. Write the amount followed by its unit, like {example}.")
            raise CellError(
                f"{_quoted(value)} is not an amount followed by a unit. Write it like {example}, "
                f"with the amount in digits."
            )
        number, unit = match.groups()
        return _amount(number, value), unit.strip()

    return parse


def nhs_number_checked(value: str, warn: Warn) -> tuple[str, bool]:
    """The NHS number as 10 digits, and whether it passes the modulus-11 check (failing is a warning)."""
    if _SCIENTIFIC.fullmatch(value):
        raise CellError(f"{_quoted(value)} is not an NHS number. " + SPREADSHEET_ADVICE)
    digits = nhs.normalise(value)
    if not digits.isdigit() or not digits.isascii():
        raise CellError(f"{_quoted(value)} is not an NHS number: an NHS number has 10 digits and nothing else.")
    if len(digits) == 9:
        raise CellError(
            f"{_quoted(value)} has 9 digits; an NHS number has 10. A spreadsheet probably removed a "
            f"leading 0. Format the column as Text, type the number again with its 0, and save."
        )
    if len(digits) != 10:
        raise CellError(f"{_quoted(value)} has {len(digits)} digits; an NHS number has 10.")
    verified = nhs.is_valid(digits)
    if not verified:
        warn(
            f"NHS number {nhs.formatted(digits)} fails the NHS number check (its last digit does not match). "
            f"The patient is imported with the number marked as not verified; trace the correct number."
        )
    return digits, verified


def nhs_number(value: str, warn: Warn) -> str:
    return nhs_number_checked(value, warn)[0]


def phone(value: str, warn: Warn) -> str:
    if _SCIENTIFIC.fullmatch(value):
        raise CellError(f"{_quoted(value)} is not a phone number. " + SPREADSHEET_ADVICE)
    digits = _PHONE_PUNCTUATION.sub("", value)
    international = digits.startswith("+")
    digits = digits.removeprefix("+")
    if digits.isdigit() and digits.isascii():
        if not international and not digits.startswith("0") and len(digits) >= 9:
            raise CellError(
                f"{_quoted(value)} does not start with 0: a spreadsheet probably removed the leading 0 "
                f"of this phone number. Format the column as Text, type the number again, and save."
            )
        if not 9 <= len(digits) <= 15:
            warn(f"{_quoted(value)} does not look like a phone number (it has {len(digits)} digits). Kept as written.")
    else:
        warn(f"{_quoted(value)} does not look like a phone number. Kept as written.")
    return value


def email(value: str, warn: Warn) -> str:
    """A doubtful address is a warning, never a refusal. Everyday addresses pass a quick pattern;
    only the others go through Django's full validator, which is too slow to run on every row."""
    if _PLAIN_EMAIL.fullmatch(value):
        return value
    try:
        validate_email(value)
    except ValidationError:
        warn(f"{_quoted(value)} does not look like an email address. Kept as written.")
    return value


def postcode(value: str, warn: Warn) -> str:
    if not _POSTCODE.fullmatch(value):
        warn(f"{_quoted(value)} does not look like a UK postcode. Kept as written.")
    return value


def pipe_list(value: str, warn: Warn) -> list[str]:
    """'Echocardiogram|ECG' -> ['Echocardiogram', 'ECG']."""
    return [item.strip() for item in value.split("|") if item.strip()]


def _vocabulary_key(word: str) -> str:
    # "Full-time", "full time" and "FULL_TIME" are the same word to a person reading them.
    return "".join(character for character in word.lower() if character.isalnum())


def choice(what: str, words: Mapping[str, str], shown: tuple[str, ...]) -> Parser:
    """A value from a fixed vocabulary. `words` maps every accepted spelling to the stored value;
    `shown` is the list offered in the message (the coursework's own words)."""
    lookup = {_vocabulary_key(word): stored for word, stored in words.items()}
    exact = dict(words)  # most files spell every value the same way: try that first
    offered = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]

    def parse(value: str, warn: Warn) -> str:
        stored = exact.get(value)
        if stored is None:
            stored = lookup.get(_vocabulary_key(value))
        if stored is None:
            raise CellError(f"{_quoted(value)} is not {what} Carebridge knows. Use {offered}.")
        return stored

    return parse


# Titles people put in front of a clinician's first name. Longest first so "Prof." wins over "Prof".
HONORIFICS = (
    "Professor",
    "Sister",
    "Nurse",
    "Prof.",
    "Prof",
    "Miss",
    "Mrs.",
    "Mrs",
    "Dr.",
    "Dr",
    "Mr.",
    "Mr",
    "Ms.",
    "Ms",
    "Mx.",
    "Mx",
)
_HONORIFIC = re.compile(r"(" + "|".join(re.escape(word) for word in HONORIFICS) + r")\s+(\S.*)", re.IGNORECASE)


def name_with_honorific(value: str, warn: Warn) -> tuple[str, str]:
    """'Dr. David' -> ('Dr.', 'David'); 'David' -> ('', 'David')."""
    match = _HONORIFIC.fullmatch(value)
    if match is None:
        return "", value
    return match.group(1), match.group(2)


def registration_number(value: str, warn: Warn) -> str:
    if _SCIENTIFIC.fullmatch(value):
        raise CellError(f"{_quoted(value)} is not a GMC or NMC number. " + SPREADSHEET_ADVICE)
    number = value.upper()
    if re.fullmatch(r"\d{7}|N\d{6}", number):
        return number
    if re.fullmatch(r"\d{6}", number):
        raise CellError(
            f"{_quoted(value)} has 6 digits; a GMC number has 7. If it started with 0, a spreadsheet "
            f"removed it: format the column as Text, type the number again, and save."
        )
    raise CellError(
        f"{_quoted(value)} is not a GMC or nurse registration number: a GMC number has 7 digits "
        f"(like 7654321) and a nurse's is N followed by 6 digits (like N654321)."
    )
