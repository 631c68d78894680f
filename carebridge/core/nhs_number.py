"""NHS numbers: 10 digits, the last a modulus-11 check digit, shown 3-3-4."""

import re

_NON_DIGITS = re.compile(r"[\s-]")
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def normalise(raw: str) -> str:
    """Drop the spaces and dashes people type between the groups."""
    return _NON_DIGITS.sub("", raw or "")


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid number can start with them."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid(number: str) -> bool:
    number = normalise(number)
    if len(number) != 10 or not number.isdigit():
        return False
    return check_digit(number[:9]) == int(number[9])


def problem(number: str) -> str | None:
    """Why a typed NHS number is not valid, in words for the person who typed it; None when it is."""
    digits = normalise(number)
    if not digits.isdigit():
        return "An NHS number must contain only digits."
    if len(digits) != 10:
        return f"An NHS number has 10 digits; this one has {len(digits)}."
    if not is_valid(digits):
        return "This is not a valid NHS number: the last digit does not match. Check it for a typing mistake."
    return None


def formatted(number: str | None) -> str:
    """3-3-4, the way NHS numbers are shown to people."""
    if not number:
        return ""
    digits = normalise(number)
    if len(digits) != 10:
        return number
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
