"""The safety checks that run before a prescription is issued, each with its own plain-English warning.

A warning stops the prescription until the prescriber changes it or overrides it with a stated reason
(prescribing.services); the reason is kept on the prescription and audited. The checks:

  allergy            a recorded allergy to the medicine, its class or a substance in it
  duplicate-therapy  the same medicine or class is already active
  interaction        a known interaction with an active medicine (formulary.INTERACTIONS)
  dose               a dose above the usual daily maximum
  quantity           a quantity implausible for the dose, frequency and duration
  unchecked          a medicine not in the formulary: none of the above could run
"""

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from carebridge.clinical.selectors import allergies_recorded
from carebridge.core import clock
from carebridge.core.prepared import PreparedQuery
from carebridge.patients.models import Patient
from carebridge.prescribing import dosing
from carebridge.prescribing.formulary import (
    CLASS_NAMES,
    MEDICINES,
    MEDICINES_BY_KEY,
    WEEKLY_ONLY,
    Medicine,
    allergy_meets,
    interactions_between,
    medicine_terms,
)
from carebridge.prescribing.models import Course, Prescription, PrescriptionStatus

_BY_NAME = {medicine.name.lower(): medicine for medicine in MEDICINES}


class WarningKind(enum.StrEnum):
    ALLERGY = "allergy"
    DUPLICATE = "duplicate-therapy"
    INTERACTION = "interaction"
    DOSE = "dose"
    QUANTITY = "quantity"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class SafetyWarning:
    kind: WarningKind
    message: str


def medicine_for(name_or_key: str) -> Medicine | None:
    """The formulary's medicine for a key or a name as written ("Amoxicillin"), or None (free text)."""
    text = name_or_key.strip().lower()
    return MEDICINES_BY_KEY.get(text) or _BY_NAME.get(text)


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def _free_text_mentions(text: str, vocabulary: frozenset[str]) -> bool:
    # An allergy written as free text ("Penicillin - rash") still counts when it names the medicine, its
    # class or a substance in it, singular or plural, as whole words ("nystatin" is not a statin).
    words = {_singular(word) for word in re.findall(r"[a-z][a-z-]*", text.lower())}
    return any(_singular(term) in words for term in vocabulary if " " not in term) or any(
        term in text.lower() for term in vocabulary if " " in term
    )


# Every prescription's safety check and every arrival pack asks it: compiled once per process
# (carebridge/core/prepared.py).
_NOT_CANCELLED = PreparedQuery(
    lambda patient_id: Prescription.objects.filter(patient_id=patient_id).exclude(status=PrescriptionStatus.CANCELLED),
    patient_id=int,
)


def active_prescriptions(patient: Patient, *, excluding: Prescription | None = None) -> list[Prescription]:
    """Medicines the patient is taking now: not cancelled, and within their course, or the latest issue
    of a repeat that has issues left (the patient will ask for the next)."""
    today = clock.today()
    prescriptions = _NOT_CANCELLED.all(patient_id=patient.pk)
    superseded = {prescription.previous_id for prescription in prescriptions}
    current = []
    for prescription in prescriptions:
        if excluding is not None and prescription.pk == excluding.pk:
            continue
        within_course = prescription.prescribed_on + dt.timedelta(days=prescription.duration_days) >= today
        repeat_goes_on = (
            prescription.course != Course.ACUTE
            and prescription.issue_number < prescription.issues_allowed
            and prescription.pk not in superseded
        )
        if within_course or repeat_goes_on:
            current.append(prescription)
    return current


def _medicine_of(prescription: Prescription) -> Medicine | None:
    return medicine_for(prescription.medicine_key or prescription.medication_name)


def check(
    *,
    patient: Patient,
    medicine: Medicine | None,
    name: str,
    dose_value: Decimal,
    dose_unit: str,
    frequency: str,
    duration_days: int,
    quantity_value: Decimal,
    replacing: Prescription | None = None,
) -> list[SafetyWarning]:
    """Every warning a prescription of `medicine` (None: free text `name`) for `patient` raises."""
    if medicine is None:
        return [
            SafetyWarning(
                WarningKind.UNCHECKED,
                f"{name} is not in the formulary, so no safety checks could run on it: check allergies, other "
                "medicines and the dose yourself.",
            )
        ]
    warnings: list[SafetyWarning] = []
    warnings += _allergies(patient, medicine)
    active = [
        (prescription, _medicine_of(prescription))
        for prescription in active_prescriptions(patient, excluding=replacing)
    ]
    warnings += _duplicates(medicine, active)
    warnings += _interactions(medicine, active)
    warnings += _dose(medicine, dose_value, dose_unit, frequency)
    warnings += _quantity(medicine, dose_value, dose_unit, frequency, duration_days, quantity_value)
    return warnings


def _allergies(patient: Patient, medicine: Medicine) -> Iterable[SafetyWarning]:
    vocabulary = medicine_terms(medicine)
    for allergy in allergies_recorded(patient):
        if allergy.coded:
            why = allergy_meets(allergy.substance, medicine)
        elif _free_text_mentions(allergy.display, vocabulary):
            why = f"{medicine.name} may be what it names (it was recorded as free text)"
        else:
            why = None
        if why is None:
            continue
        reaction = f" (reaction: {allergy.reaction})" if allergy.reaction else ""
        yield SafetyWarning(WarningKind.ALLERGY, f"The patient is allergic to {allergy.display}{reaction}: {why}.")


def _duplicates(medicine: Medicine, active: list[tuple[Prescription, Medicine | None]]) -> Iterable[SafetyWarning]:
    for prescription, other in active:
        if other is None:
            continue
        if other.key == medicine.key:
            yield SafetyWarning(
                WarningKind.DUPLICATE,
                f"The patient already has {prescription.medication_name} {prescription.dose_display} "
                f"(prescribed {prescription.prescribed_on:%-d %B %Y}).",
            )
        elif other.drug_class == medicine.drug_class:
            yield SafetyWarning(
                WarningKind.DUPLICATE,
                f"The patient already takes {prescription.medication_name}, another of the "
                f"{CLASS_NAMES.get(medicine.drug_class, medicine.drug_class)}: "
                f"two at once is duplicate therapy.",
            )


def _interactions(medicine: Medicine, active: list[tuple[Prescription, Medicine | None]]) -> Iterable[SafetyWarning]:
    for prescription, other in active:
        if other is None:
            continue
        for interaction in interactions_between(medicine, other)[:1]:
            yield SafetyWarning(
                WarningKind.INTERACTION, f"{medicine.name} with {prescription.medication_name}: {interaction.advice}"
            )


def _dose(medicine: Medicine, dose_value: Decimal, dose_unit: str, frequency: str) -> Iterable[SafetyWarning]:
    if medicine.key in WEEKLY_ONLY and frequency != "Once weekly":
        # Taken daily by mistake, a weekly medicine such as methotrexate kills: no daily dose is usual.
        yield SafetyWarning(WarningKind.DOSE, f"{medicine.name} is taken once a week, not {frequency.lower()}.")
        return
    if medicine.max_daily_dose is None:
        return
    # As required: at least one dose a day, so a single dose above the daily maximum is still caught.
    per_day = dosing.daily_dose(dose_value, frequency) or dose_value
    daily = dosing.in_unit(per_day, dose_unit, medicine.dose_unit)
    if daily is not None and daily > medicine.max_daily_dose:
        yield SafetyWarning(
            WarningKind.DOSE,
            f"{_number(daily)} {medicine.dose_unit} a day is above the usual maximum of "
            f"{_number(medicine.max_daily_dose)} {medicine.dose_unit} a day for {medicine.name}.",
        )


def _quantity(
    medicine: Medicine,
    dose_value: Decimal,
    dose_unit: str,
    frequency: str,
    duration_days: int,
    quantity_value: Decimal,
) -> Iterable[SafetyWarning]:
    supply = dosing.supply_for(medicine, dose_value, dose_unit, frequency, duration_days)
    if supply is None or supply.quantity <= 0:
        return
    # A pack rounds up, and a few days over is ordinary; half or double what the course needs is not.
    if quantity_value > supply.quantity * 2 or quantity_value * 2 < supply.quantity:
        yield SafetyWarning(
            WarningKind.QUANTITY,
            f"{_number(quantity_value)} {supply.unit} does not fit {duration_days} days of this dose, which needs "
            f"{_number(supply.quantity)} {supply.unit}.",
        )


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")
