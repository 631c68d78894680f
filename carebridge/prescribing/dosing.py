"""Doses, frequencies and quantities: the arithmetic of a prescription, in units people write.

"500 mg three times daily for 7 days" of 500 mg capsules is 21 capsules; "1 g four times daily" of
500 mg tablets is 2 tablets a dose. Quantities are worked out where the formulary knows the strengths,
and the prescriber may change them; the safety checks compare what was written with what it works out to.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from carebridge.prescribing.formulary import Medicine

# How many doses a day each frequency means. None: as required, so no daily count can be worked out.
# The first four are the coursework's; the rest are the other usual ones on UK prescriptions.
FREQUENCIES: dict[str, Decimal | None] = {
    "Once daily": Decimal(1),
    "Twice daily": Decimal(2),
    "Three times daily": Decimal(3),
    "As required": None,
    "Four times daily": Decimal(4),
    "Every morning": Decimal(1),
    "At night": Decimal(1),
    "Every 4 hours": Decimal(6),
    "Every 6 hours": Decimal(4),
    "Every 8 hours": Decimal(3),
    "Once weekly": Decimal(1) / Decimal(7),
}

# The longest course one prescription may cover. A repeat is re-issued, never written for years.
MAX_DURATION_DAYS = 365

# Masses convert; other units (ml, puff, application) compare only with themselves.
_MILLIGRAMS_PER = {"g": Decimal(1000), "mg": Decimal(1), "microgram": Decimal("0.001"), "micrograms": Decimal("0.001")}


def in_unit(value: Decimal, unit: str, wanted: str) -> Decimal | None:
    """`value` `unit` expressed in `wanted`, or None where the two cannot be compared."""
    if unit == wanted:
        return value
    if unit in _MILLIGRAMS_PER and wanted in _MILLIGRAMS_PER:
        return value * _MILLIGRAMS_PER[unit] / _MILLIGRAMS_PER[wanted]
    return None


def doses_per_day(frequency: str) -> Decimal | None:
    return FREQUENCIES.get(frequency)


@dataclass(frozen=True)
class Supply:
    """What a course works out to: form units a dose, and in all."""

    units_per_dose: Decimal
    quantity: Decimal  # in the medicine's form unit
    unit: str


def units_per_dose(medicine: Medicine, dose_value: Decimal, dose_unit: str) -> Decimal | None:
    """How many form units (tablets, ml, puffs) one dose takes, using the strength that fits it best:
    whole units where a strength divides the dose, else the smallest strength's fraction."""
    candidates = []
    for strength in medicine.strengths:
        dose = in_unit(dose_value, dose_unit, strength.unit)
        if dose is None or strength.value <= 0:
            continue
        units = dose / strength.value
        candidates.append((units != units.to_integral_value(), units))
    if not candidates:
        return None
    return min(candidates)[1]


def supply_for(
    medicine: Medicine, dose_value: Decimal, dose_unit: str, frequency: str, duration_days: int
) -> Supply | None:
    """The quantity a course needs, or None where it cannot be worked out (as required, unknown units)."""
    per_day = doses_per_day(frequency)
    per_dose = units_per_dose(medicine, dose_value, dose_unit)
    if per_day is None or per_dose is None:
        return None
    total = per_dose * per_day * duration_days
    # Whole tablets and capsules: round up, so the course is never short. Liquids to the ml.
    return Supply(units_per_dose=per_dose, quantity=Decimal(math.ceil(total)), unit=medicine.form_unit)


def daily_dose(dose_value: Decimal, frequency: str) -> Decimal | None:
    per_day = doses_per_day(frequency)
    return None if per_day is None else dose_value * per_day
