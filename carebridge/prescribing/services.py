"""Prescribing: issue (after the safety checks), re-issue a repeat, cancel, record supply, repeat requests.

One transaction each, with its audit row. Who may prescribe is the access layer's rule (doctors, and
nurses registered as prescribers, for patients they may see); the safety checks are prescribing.safety.
A warning stops a prescription unless the prescriber overrides it with a reason, which is kept.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from carebridge.access.rules import Action, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.clinical.models import Condition, ConditionStatus, Consultation
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, full_clean_or_refuse
from carebridge.organisations.models import Clinician
from carebridge.patients.models import Patient
from carebridge.prescribing import dosing
from carebridge.prescribing.models import (
    Course,
    Prescription,
    PrescriptionStatus,
    RepeatRequest,
    RepeatRequestStatus,
    SafetyOverride,
)
from carebridge.prescribing.safety import SafetyWarning, check, medicine_for

MAX_ISSUES = 12  # a repeat is reviewed at least after a year of monthly issues
# What the service has fetched or checked itself before saving a prescription, so full_clean need not ask
# the database again: the related records (fetched and checked above), and its status, course and issue
# number (set here from checked values; the database's constraints still hold them).
_CHECKED_HERE = ("patient", "prescriber", "appointment", "condition", "consultation", "previous")


class SafetyWarnings(Invalid):
    """The checks found something the prescriber has not overridden: nothing was issued (422)."""

    code = "safety-warning"

    def __init__(self, warnings: list[SafetyWarning]):
        super().__init__(" ".join(warning.message for warning in warnings))
        self.warnings = warnings


@dataclass(frozen=True)
class Order:
    """What the prescriber writes: the medicine (a formulary key or name, or free text) and how to take it."""

    medicine: str
    dose_value: Decimal
    dose_unit: str
    frequency: str
    duration_days: int
    quantity_value: Decimal | None = None  # None: worked out from the dose, frequency and duration
    quantity_unit: str = ""
    instructions: str = ""


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, fields={name: message})


def _checked_order(order: Order) -> tuple[Order, str, str]:
    """The order with its quantity worked out where it can be, and the medicine's name and formulary key.
    Nonsense (no dose, zero days, a hundred years' supply) is refused outright, not warned about."""
    medicine = medicine_for(order.medicine)
    name = medicine.name if medicine else order.medicine.strip()
    if not name:
        raise _field("medicine", "Choose the medicine, or write its name.")
    if not isinstance(order.dose_value, Decimal) or order.dose_value <= 0:
        raise _field("dose_value", "Give the dose as a number above zero.")
    if not order.dose_unit.strip():
        raise _field("dose_unit", "Give the dose's unit, such as mg.")
    if order.frequency not in dosing.FREQUENCIES:
        raise _field("frequency", "Choose how often it is taken.")
    if not 1 <= order.duration_days <= dosing.MAX_DURATION_DAYS:
        raise _field(
            "duration_days", f"A course lasts from 1 to {dosing.MAX_DURATION_DAYS} days; re-issue a repeat for longer."
        )
    quantity, unit = order.quantity_value, order.quantity_unit.strip()
    if quantity is None:
        supply = (
            dosing.supply_for(medicine, order.dose_value, order.dose_unit, order.frequency, order.duration_days)
            if medicine
            else None
        )
        if supply is None:
            raise _field(
                "quantity_value", "Give the quantity to supply: it cannot be worked out for this medicine or frequency."
            )
        quantity, unit = supply.quantity, supply.unit
    if quantity <= 0:
        raise _field("quantity_value", "Give a quantity above zero.")
    unit = unit or (medicine.form_unit if medicine else "")
    if not unit:
        raise _field("quantity_unit", "Give the quantity's unit, such as tablets.")
    checked = Order(
        medicine=order.medicine,
        dose_value=order.dose_value,
        dose_unit=order.dose_unit.strip(),
        frequency=order.frequency,
        duration_days=order.duration_days,
        quantity_value=quantity,
        quantity_unit=unit,
        instructions=order.instructions.strip(),
    )
    return checked, name, medicine.key if medicine else ""


def _settle_warnings(warnings: list[SafetyWarning], overrides: Mapping[str, str]) -> list[tuple[SafetyWarning, str]]:
    """Each warning with the prescriber's reason for going ahead; SafetyWarnings if any lacks one."""
    unanswered = [warning for warning in warnings if not overrides.get(warning.kind, "").strip()]
    if unanswered:
        raise SafetyWarnings(unanswered)
    return [(warning, overrides[warning.kind].strip()) for warning in warnings]


def _keep_overrides(
    actor: Actor, prescription: Prescription, settled: list[tuple[SafetyWarning, str]], prescriber: Clinician
) -> None:
    now = clock.now()
    SafetyOverride.objects.bulk_create(
        [
            SafetyOverride(
                prescription=prescription,
                kind=warning.kind,
                message=warning.message,
                reason=reason,
                overridden_by=prescriber,
                overridden_at=now,
            )
            for warning, reason in settled
        ]
    )


@refusals_audited(AuditObject.PRESCRIPTION)
@transaction.atomic
def prescription_issue(
    *,
    actor: Actor,
    patient: Patient,
    condition: Condition | None,
    order: Order,
    pharmacy: str | None = None,
    course: str = Course.ACUTE,
    issues_allowed: int = 1,
    review_date: dt.date | None = None,
    consultation: Consultation | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Prescription:
    """Issue a prescription for the condition it treats, after the safety checks.

    `overrides` maps a warning's kind to the prescriber's reason for going ahead despite it; a warning
    without one refuses the prescription with SafetyWarnings (422), naming each warning.
    """
    require(actor=actor, action=Action.PRESCRIBE, patient=patient)
    assert actor.user is not None
    prescriber = actor.user.clinician
    if condition is None:
        raise _field("condition", "Say which condition this prescription treats.")
    if condition.patient_id != patient.pk or condition.status != ConditionStatus.ACTIVE:
        raise _field("condition", "Choose one of the patient's active problems.")
    if consultation is not None and consultation.patient_id != patient.pk:
        raise Invalid("That consultation is another patient's.")
    if course not in Course.values:
        raise _field("course", "Choose acute or repeat.")
    if course == Course.ACUTE:
        issues_allowed, review_date = 1, None
    elif not 2 <= issues_allowed <= MAX_ISSUES:
        raise _field("issues_allowed", f"A repeat has from 2 to {MAX_ISSUES} issues.")
    elif review_date is None or review_date <= clock.today():
        raise _field("review_date", "Give a review date after today.")
    order, name, key = _checked_order(order)
    assert order.quantity_value is not None
    warnings = check(
        patient=patient,
        medicine=medicine_for(order.medicine),
        name=name,
        dose_value=order.dose_value,
        dose_unit=order.dose_unit,
        frequency=order.frequency,
        duration_days=order.duration_days,
        quantity_value=order.quantity_value,
    )
    settled = _settle_warnings(warnings, overrides or {})
    today = clock.today()
    prescription = Prescription(
        patient=patient,
        prescriber=prescriber,
        appointment=consultation.appointment if consultation else None,
        prescribed_on=today,
        medication_name=name,
        medicine_key=key,
        dose_value=order.dose_value,
        dose_unit=order.dose_unit,
        frequency=order.frequency,
        duration_days=order.duration_days,
        quantity_value=order.quantity_value,
        quantity_unit=order.quantity_unit,
        instructions=order.instructions,
        pharmacy_name=(patient.nominated_pharmacy if pharmacy is None else pharmacy.strip())[:200],
        status=PrescriptionStatus.ISSUED,
        issue_date=today,
        condition=condition,
        consultation=consultation,
        course=course,
        issues_allowed=issues_allowed,
        issue_number=1,
        review_date=review_date,
    )
    full_clean_or_refuse(prescription, exclude=_CHECKED_HERE, database_checks=False)
    prescription.save()
    _keep_overrides(actor, prescription, settled, prescriber)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PRESCRIPTION,
        object_id=str(prescription.public_id),
        patient_id=patient.pk,
        detail={
            "medicine": name,
            "formulary": bool(key),
            "course": course,
            "overridden": [warning.kind.value for warning, _ in settled],
        },
    )
    return prescription


def _reissue(actor: Actor, previous: Prescription, overrides: Mapping[str, str]) -> Prescription:
    """The next issue of a repeat: the same order, checked again (without itself as a duplicate)."""
    assert actor.user is not None
    prescriber = actor.user.clinician
    if previous.course == Course.ACUTE:
        raise Invalid("An acute prescription is not repeated: write a new one.")
    if previous.status == PrescriptionStatus.CANCELLED:
        raise Invalid("This prescription was cancelled.")
    if previous.issue_number >= previous.issues_allowed:
        raise Invalid("Every issue of this repeat has been used: the prescriber must review it.")
    if previous.review_date is not None and previous.review_date < clock.today():
        raise Invalid(f"This repeat was due for review on {previous.review_date:%-d %B %Y}: review it first.")
    if Prescription.objects.filter(previous=previous).exists():
        raise Invalid("The next issue of this repeat has already been made.")
    medicine = medicine_for(previous.medicine_key or previous.medication_name) if previous.medicine_key else None
    warnings = check(
        patient=previous.patient,
        medicine=medicine,
        name=previous.medication_name,
        dose_value=previous.dose_value,
        dose_unit=previous.dose_unit,
        frequency=previous.frequency,
        duration_days=previous.duration_days,
        quantity_value=previous.quantity_value,
        replacing=previous,
    )
    settled = _settle_warnings(warnings, overrides)
    today = clock.today()
    issued = Prescription(
        patient=previous.patient,
        prescriber=prescriber,
        prescribed_on=today,
        medication_name=previous.medication_name,
        medicine_key=previous.medicine_key,
        dose_value=previous.dose_value,
        dose_unit=previous.dose_unit,
        frequency=previous.frequency,
        duration_days=previous.duration_days,
        quantity_value=previous.quantity_value,
        quantity_unit=previous.quantity_unit,
        instructions=previous.instructions,
        pharmacy_name=previous.patient.nominated_pharmacy or previous.pharmacy_name,
        status=PrescriptionStatus.ISSUED,
        issue_date=today,
        condition=previous.condition,
        course=previous.course,
        issues_allowed=previous.issues_allowed,
        issue_number=previous.issue_number + 1,
        review_date=previous.review_date,
        previous=previous,
    )
    full_clean_or_refuse(issued, exclude=_CHECKED_HERE, database_checks=False)
    issued.save()
    _keep_overrides(actor, issued, settled, prescriber)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PRESCRIPTION,
        object_id=str(issued.public_id),
        patient_id=issued.patient_id,
        detail={
            "repeat_of": str(previous.public_id),
            "issue": issued.issue_number,
            "overridden": [warning.kind.value for warning, _ in settled],
        },
    )
    return issued


@refusals_audited(AuditObject.PRESCRIPTION)
@transaction.atomic
def prescription_reissue(
    *, actor: Actor, prescription: Prescription, overrides: Mapping[str, str] | None = None
) -> Prescription:
    """A prescriber issues the next supply of a repeat (the same checks run again)."""
    previous = Prescription.objects.select_for_update(of=("self",)).select_related("patient").get(pk=prescription.pk)
    require(actor=actor, action=Action.PRESCRIBE, patient=previous.patient)
    return _reissue(actor, previous, overrides or {})


@refusals_audited(AuditObject.PRESCRIPTION)
@transaction.atomic
def prescription_cancel(*, actor: Actor, prescription: Prescription, reason: str) -> Prescription:
    """Cancel with a reason, only before it is dispensed or collected."""
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "prescriber")
        .get(pk=prescription.pk)
    )
    require(
        actor=actor,
        action=Action.RECORD_SUPPLY,
        patient=prescription.patient,
        facility_id=prescription.prescriber.workplace_id,
    )
    if prescription.status != PrescriptionStatus.ISSUED:
        raise Invalid(
            f"This prescription has been {prescription.get_status_display().lower()}, so it can no longer be cancelled."
        )
    if not reason.strip():
        raise _field("reason", "Say why the prescription is cancelled.")
    prescription.status = PrescriptionStatus.CANCELLED
    prescription.cancellation_reason = reason.strip()
    prescription.save(update_fields=["status", "cancellation_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PRESCRIPTION,
        object_id=str(prescription.public_id),
        patient_id=prescription.patient_id,
        reason=reason.strip(),
        detail={"status": PrescriptionStatus.CANCELLED},
    )
    return prescription


@refusals_audited(AuditObject.PRESCRIPTION)
@transaction.atomic
def prescription_record_supply(
    *, actor: Actor, prescription: Prescription, status: str, on: dt.date | None = None
) -> Prescription:
    """The pharmacy dispensed it, or the patient collected it, on a day (default today)."""
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "prescriber")
        .get(pk=prescription.pk)
    )
    require(
        actor=actor,
        action=Action.RECORD_SUPPLY,
        patient=prescription.patient,
        facility_id=prescription.prescriber.workplace_id,
    )
    if status not in (PrescriptionStatus.DISPENSED, PrescriptionStatus.COLLECTED):
        raise _field("status", "Record it as dispensed or collected.")
    allowed_from = {
        PrescriptionStatus.DISPENSED: (PrescriptionStatus.ISSUED,),
        PrescriptionStatus.COLLECTED: (PrescriptionStatus.ISSUED, PrescriptionStatus.DISPENSED),
    }[PrescriptionStatus(status)]
    if prescription.status not in allowed_from:
        raise Invalid(
            f"This prescription is {prescription.get_status_display().lower()}, so it cannot be recorded as "
            f"{PrescriptionStatus(status).label.lower()}."
        )
    on = on or clock.today()
    if on > clock.today() or on < prescription.prescribed_on:
        raise _field("on", "Give a date between the prescription's date and today.")
    prescription.status = status
    prescription.collection_date = on
    prescription.save(update_fields=["status", "collection_date"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PRESCRIPTION,
        object_id=str(prescription.public_id),
        patient_id=prescription.patient_id,
        detail={"status": status, "on": on.isoformat()},
    )
    return prescription


# --- Repeat requests ------------------------------------------------------------------------------------


@refusals_audited(AuditObject.REPEAT_REQUEST)
@transaction.atomic
def repeat_request_create(*, actor: Actor, prescription: Prescription, note: str = "") -> RepeatRequest:
    """The patient asks for the next issue of a repeat; it waits in their surgery's queue."""
    prescription = Prescription.objects.select_related("patient").get(pk=prescription.pk)
    require(actor=actor, action=Action.REQUEST_REPEAT, patient=prescription.patient)
    if prescription.course == Course.ACUTE:
        raise Invalid("This medicine was prescribed once, not as a repeat: book an appointment to ask about it.")
    if (
        prescription.status == PrescriptionStatus.CANCELLED
        or Prescription.objects.filter(previous=prescription).exists()
    ):
        raise Invalid("This is not your current prescription for this medicine.")
    if prescription.issue_number >= prescription.issues_allowed:
        raise Invalid("You have had every issue of this repeat: your GP needs to review it. Book an appointment.")
    request = RepeatRequest(
        prescription=prescription,
        patient=prescription.patient,
        surgery_id=prescription.patient.registered_surgery_id,
        note=note.strip()[:300],
        requested_at=clock.now(),
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise Invalid("You have already asked for this repeat: it is waiting for the surgery.") from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.REPEAT_REQUEST,
        object_id=str(request.public_id),
        patient_id=request.patient_id,
        detail={"prescription": str(prescription.public_id)},
    )
    return request


def _pending(request: RepeatRequest) -> RepeatRequest:
    request = (
        RepeatRequest.objects.select_for_update(of=("self",))
        .select_related("patient", "prescription")
        .get(pk=request.pk)
    )
    return request


@refusals_audited(AuditObject.REPEAT_REQUEST)
@transaction.atomic
def repeat_request_approve(
    *, actor: Actor, request: RepeatRequest, overrides: Mapping[str, str] | None = None
) -> Prescription:
    """A prescriber at the patient's surgery issues the repeat asked for (the checks run again)."""
    request = _pending(request)
    require(actor=actor, action=Action.PRESCRIBE, patient=request.patient, facility_id=request.surgery_id)
    if request.status != RepeatRequestStatus.PENDING:
        raise Invalid(f"This request has already been {request.get_status_display().lower()}.")
    previous = (
        Prescription.objects.select_for_update(of=("self",)).select_related("patient").get(pk=request.prescription_id)
    )
    issued = _reissue(actor, previous, overrides or {})
    assert actor.user is not None
    request.status = RepeatRequestStatus.APPROVED
    request.decided_by = actor.user.clinician
    request.decided_at = clock.now()
    request.issued = issued
    request.save(update_fields=["status", "decided_by", "decided_at", "issued"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.REPEAT_REQUEST,
        object_id=str(request.public_id),
        patient_id=request.patient_id,
        detail={"status": RepeatRequestStatus.APPROVED, "issued": str(issued.public_id)},
    )
    return issued


@refusals_audited(AuditObject.REPEAT_REQUEST)
@transaction.atomic
def repeat_request_refuse(*, actor: Actor, request: RepeatRequest, reason: str) -> RepeatRequest:
    """A prescriber at the patient's surgery refuses the request, saying why (the patient sees it)."""
    request = _pending(request)
    require(actor=actor, action=Action.PRESCRIBE, patient=request.patient, facility_id=request.surgery_id)
    if request.status != RepeatRequestStatus.PENDING:
        raise Invalid(f"This request has already been {request.get_status_display().lower()}.")
    if not reason.strip():
        raise _field("reason", "Say why, in words the patient will read.")
    assert actor.user is not None
    request.status = RepeatRequestStatus.REFUSED
    request.decided_by = actor.user.clinician
    request.decided_at = clock.now()
    request.refusal_reason = reason.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.REPEAT_REQUEST,
        object_id=str(request.public_id),
        patient_id=request.patient_id,
        reason=reason.strip(),
        detail={"status": RepeatRequestStatus.REFUSED},
    )
    return request


@refusals_audited(AuditObject.PATIENT)
@transaction.atomic
def pharmacy_nominate(*, actor: Actor, patient: Patient, pharmacy: str) -> Patient:
    """The patient (or reception at their surgery, for them) names the pharmacy their prescriptions go to."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    require(actor=actor, action=Action.NOMINATE_PHARMACY, patient=patient, facility_id=patient.registered_surgery_id)
    before = patient.nominated_pharmacy
    patient.nominated_pharmacy = pharmacy.strip()[:200]
    patient.updated_at = clock.now()
    patient.save(update_fields=["nominated_pharmacy", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail={"nominated_pharmacy": {"before": before, "after": patient.nominated_pharmacy}},
    )
    return patient
