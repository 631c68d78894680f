"""Referrals: made at a GP surgery, triaged, booked and seen at a hospital, the outcome back to the GP.

Each service is one transaction that checks access itself (carebridge.access.rules), writes its audit
row and its history step (ReferralEvent), keeps the care relationships in step, and queues what must
travel, in the same transaction (carebridge.delivery): the email to the hospital's inbox with the letter,
the patient's email, and, where the other organisation's own system is set, the FHIR message to it.

Two Carebridges: the surgery's sends the referral to the hospital's (`referral_receive` there), whose
triage, booking and outcome travel back as Task updates (`referral_status_receive` here). One
Carebridge holding both facilities needs neither: the same row is the referral on both sides.
"""

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from carebridge.access.rules import Action, may_deliver_referral_updates, may_deliver_referrals, require
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.clinical.models import Consultation
from carebridge.clinical.selectors import active_problems, allergies_recorded
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, NotPermitted
from carebridge.core.fields import new_public_id
from carebridge.delivery.remote import fhir_enqueue
from carebridge.delivery.services import email_is_valid_address
from carebridge.organisations.models import Clinician, Facility
from carebridge.organisations.services import facility_by_code, facility_endpoint
from carebridge.patients.models import Gender, Patient
from carebridge.prescribing.safety import active_prescriptions
from carebridge.referrals import notifications
from carebridge.referrals.attachments import CheckedAttachment, Upload, checked_uploads
from carebridge.referrals.letter import (
    ClinicLetter,
    LetterParty,
    LetterPatient,
    ReferralLetter,
    clinic_letter_pdf,
    referral_letter_pdf,
)
from carebridge.referrals.models import (
    CLOSED_STATUSES,
    DocumentKind,
    Referral,
    ReferralDocument,
    ReferralEvent,
    ReferralPriority,
    ReferralStatus,
    status_for_task,
)
from carebridge.referrals.relationships import referral_relationships_refresh
from carebridge.scheduling.models import AppointmentStatus, Slot
from carebridge.scheduling.notifications import spoken_time
from carebridge.scheduling.services import appointment_book

MAX_REASON = 300
MAX_TRIAGE_TEXT = 2000
MAX_SUMMARY = 20_000
MAX_INVESTIGATIONS = 20
MAX_INVESTIGATION = 200
# What a referral may be made with today: the coursework's "Non-urgent" is imported, never chosen.
PRIORITIES_TO_CHOOSE = (ReferralPriority.ROUTINE, ReferralPriority.URGENT, ReferralPriority.TWO_WEEK_WAIT)
# The FHIR payload kinds (carebridge.fhir registers a builder for each with carebridge.delivery.remote).
SERVICE_REQUEST_PAYLOAD = "referral-service-request"
TASK_PAYLOAD = "referral-task"


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, fields={name: message})


def _new_ubrn() -> str:
    """12 random digits, not starting with 0 (so it never loses a digit in a spreadsheet)."""
    while True:
        ubrn = str(secrets.randbelow(9 * 10**11) + 10**11)
        if not Referral.objects.filter(ubrn=ubrn).exists():
            return ubrn


def _event(referral: Referral, words: str, *, by: str, comment: str = "") -> None:
    ReferralEvent.objects.create(
        referral=referral,
        at=clock.now(),
        status=referral.status,
        words=words,
        comment=comment,
        by=by,
        version=referral.version + referral.task_version,
    )


def _actor_name(actor: Actor) -> str:
    user = actor.user
    if user is None:
        return "Carebridge"
    clinician = getattr(user, "clinician", None)
    if clinician is not None:
        return f"{clinician.display_name}, {clinician.workplace.name}"
    return user.get_full_name() or user.username


def _audit(actor: Actor, referral: Referral, action: AuditAction, **detail: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=AuditObject.REFERRAL,
        object_id=str(referral.public_id),
        patient_id=referral.patient_id,
        detail={"ubrn": referral.ubrn or "", "status": referral.status, **detail},
    )


def _keep_document(referral: Referral, kind: DocumentKind, checked: CheckedAttachment) -> ReferralDocument:
    existing = ReferralDocument.objects.filter(referral=referral, kind=kind, sha256=checked.sha256).first()
    if existing is not None:
        return existing
    return ReferralDocument.objects.create(
        public_id=new_public_id(),
        referral=referral,
        kind=kind,
        filename=checked.filename,
        content_type=checked.content_type,
        content=checked.content,
        size=checked.size,
        sha256=checked.sha256,
        created_at=clock.now(),
    )


def _pdf(filename: str, content: bytes) -> CheckedAttachment:
    return CheckedAttachment(
        filename=filename,
        content_type="application/pdf",
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


# --- The letter ------------------------------------------------------------------------------------------


def _letter_patient(patient: Patient) -> LetterPatient:
    return LetterPatient(
        full_name=f"{patient.first_name} {patient.last_name}",
        date_of_birth=patient.date_of_birth,
        nhs_number=nhs_number.formatted(patient.nhs_number) or "not known",
        gender=patient.get_gender_display(),
        address=patient.address,
        postcode=patient.postcode,
        phone=patient.phone_number,
        email=patient.email,
    )


def _facility_party(facility: Facility, name: str = "") -> LetterParty:
    return LetterParty(
        name=name or facility.name,
        organisation=facility.name,
        address=", ".join(part for part in (facility.address, facility.postcode) if part),
        phone=facility.phone_number,
        email=facility.referral_address,
        code=facility.ods_code,
    )


def _clinician_party(clinician: Clinician) -> LetterParty:
    return LetterParty(
        name=clinician.display_name,
        role_or_speciality=clinician.speciality or clinician.get_title_display(),
        organisation=clinician.workplace.name,
        phone=clinician.phone_number,
        email=clinician.email,
        code=f"{'NMC PIN' if clinician.is_nurse else 'GMC number'} {clinician.registration_number}",
    )


def _referral_letter(referral: Referral, attachment_names: Sequence[str]) -> bytes:
    patient = referral.patient
    medicines = [
        f"{p.medication_name} {p.dose_display}, {p.frequency}".strip(", ") for p in active_prescriptions(patient)
    ]
    allergies = [
        f"{allergy.display}" + (f" ({allergy.reaction})" if allergy.reaction else "")
        for allergy in allergies_recorded(patient)
    ]
    problems = [condition.display for condition in active_problems(patient)]
    referrer = referral.referring_clinician
    return referral_letter_pdf(
        ReferralLetter(
            ubrn=referral.ubrn or "",
            date=referral.referral_date,
            priority_words=referral.get_priority_display(),
            speciality=referral.speciality,
            patient=_letter_patient(patient),
            referrer=_clinician_party(referrer) if referrer else LetterParty(name=referral.referrer_name),
            surgery=_facility_party(referral.referring_facility),
            receiving=_facility_party(referral.receiving_facility),
            named_consultant=referral.receiving_clinician.display_name if referral.receiving_clinician else "",
            reason=referral.reason,
            clinical_summary=referral.clinical_summary,
            investigations=list(referral.requested_investigations),
            medicines=medicines,
            allergies=allergies,
            problems=problems,
            attachments=list(attachment_names),
        )
    )


# --- Sending -------------------------------------------------------------------------------------------


def _send_to_hospital(referral: Referral, *, update: bool) -> None:
    """Both channels, in this transaction: the hospital's inbox, and its own system where it is set."""
    notifications.referral_to_hospital(referral, notifications.letters_and_attachments(referral), update=update)
    endpoint = facility_endpoint(referral.receiving_facility)
    if endpoint is not None:
        fhir_enqueue(
            endpoint=endpoint,
            kind=SERVICE_REQUEST_PAYLOAD,
            object_id=str(referral.public_id),
            version=referral.version,
            description=f"Referral {referral.ubrn} to {referral.receiving_facility.name}",
            patient_id=referral.patient_id,
        )


def _report_to_referrer(referral: Referral) -> None:
    """The hospital's progress back to the referring surgery's own system, where it is set (one
    Carebridge holding both needs nothing: the GP reads the same row)."""
    endpoint = facility_endpoint(referral.referring_facility)
    if endpoint is not None:
        fhir_enqueue(
            endpoint=endpoint,
            kind=TASK_PAYLOAD,
            object_id=str(referral.public_id),
            version=referral.task_version,
            description=f"Referral {referral.ubrn}: {referral.staff_words.lower()}",
            patient_id=referral.patient_id,
        )


# --- Making a referral ----------------------------------------------------------------------------------


def _checked_investigations(investigations: Sequence[str]) -> list[str]:
    cleaned = [item.strip() for item in investigations if item and item.strip()]
    if len(cleaned) > MAX_INVESTIGATIONS:
        raise _field("investigations", f"Ask for at most {MAX_INVESTIGATIONS} investigations.")
    if any(len(item) > MAX_INVESTIGATION for item in cleaned):
        raise _field("investigations", f"Describe each investigation in at most {MAX_INVESTIGATION} characters.")
    return cleaned


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_make(
    *,
    actor: Actor,
    patient: Patient,
    receiving_facility: Facility,
    speciality: str,
    priority: str,
    reason: str,
    clinical_summary: str = "",
    investigations: Sequence[str] = (),
    attachments: Sequence[Upload] = (),
    receiving_clinician: Clinician | None = None,
    consultation: Consultation | None = None,
) -> Referral:
    """A GP (or another clinician at a GP surgery) refers the patient to a hospital service."""
    require(actor=actor, action=Action.REFER, patient=patient)
    referrer: Clinician = actor.user.clinician  # type: ignore[union-attr]
    errors: dict[str, str] = {}
    speciality = speciality.strip()
    offered = {name.lower(): name for name in receiving_facility.specialities_offered or []}
    if not receiving_facility.is_hospital:
        errors["receiving_facility"] = "Choose a hospital to refer to."
    elif speciality.lower() not in offered:
        errors["speciality"] = f"Choose a service {receiving_facility.name} offers."
    else:
        speciality = offered[speciality.lower()]
    if receiving_clinician is not None and receiving_clinician.workplace_id != receiving_facility.pk:
        errors["receiving_clinician"] = (
            f"{receiving_clinician.display_name} does not work at {receiving_facility.name}."
        )
    if priority not in PRIORITIES_TO_CHOOSE:
        errors["priority"] = "Choose the priority: routine, urgent or two-week wait."
    reason = reason.strip()
    if not reason:
        errors["reason"] = "Give the reason for referral."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"Give the reason in at most {MAX_REASON} characters; the summary can say more."
    if len(clinical_summary) > MAX_SUMMARY:
        errors["clinical_summary"] = f"Keep the clinical summary within {MAX_SUMMARY:,} characters; attach the rest."
    if not (patient.nhs_number and patient.nhs_number_verified):
        # The hospital matches the patient by NHS number (e-RS needs a verified one): without it the
        # referral could reach the wrong person's record, or none.
        errors["patient"] = "This patient has no verified NHS number: trace it before referring."
    if consultation is not None and consultation.patient_id != patient.pk:
        errors["consultation"] = "That consultation is not this patient's."
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    cleaned_investigations = _checked_investigations(investigations)
    checked = checked_uploads(attachments)
    now = clock.now()
    referral = Referral(
        patient=patient,
        referring_clinician=referrer,
        referring_facility=referrer.workplace,
        receiving_facility=receiving_facility,
        receiving_clinician=receiving_clinician,
        speciality=speciality,
        ubrn=_new_ubrn(),
        referral_date=clock.today(),
        priority=priority,
        reason=reason,
        clinical_summary=clinical_summary.strip(),
        requested_investigations=cleaned_investigations,
        status=ReferralStatus.NEW,
        notes=f"Made from the consultation of {consultation.started_at:%-d %B %Y}" if consultation else "",
        created_at=now,
        updated_at=now,
    )
    referral.save()
    for attachment in checked:
        _keep_document(referral, DocumentKind.ATTACHMENT, attachment)
    letter = _referral_letter(referral, [attachment.filename for attachment in checked])
    _keep_document(referral, DocumentKind.LETTER, _pdf(f"referral-{referral.ubrn}.pdf", letter))
    _event(referral, "Referral made and sent", by=_actor_name(actor))
    referral_relationships_refresh([referral])
    _send_to_hospital(referral, update=False)
    notifications.referral_to_patient(referral)
    _audit(
        actor,
        referral,
        AuditAction.CREATE,
        receiving_facility=receiving_facility.name,
        speciality=speciality,
        priority=priority,
        attachments=len(checked),
    )
    return referral


def _locked(referral: Referral) -> Referral:
    """The referral re-read under a row lock: two people acting at once act one after the other."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related(
            "patient",
            "referring_facility",
            "receiving_facility",
            "referring_clinician__workplace",
            "receiving_clinician",
        )
        .get(pk=referral.pk)
    )


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_add_information(
    *, actor: Actor, referral: Referral, information: str, attachments: Sequence[Upload] = ()
) -> Referral:
    """The referrer answers the hospital's request for more information (or adds to an open referral):
    the referral goes back to the hospital for triage, by both channels."""
    referral = _locked(referral)
    require(actor=actor, action=Action.REFER, patient=referral.patient, facility_id=referral.referring_facility_id)
    if referral.status not in (ReferralStatus.NEW, ReferralStatus.INFO_REQUESTED):
        raise Conflict(f"This referral is {referral.staff_words.lower()}: it can no longer be added to.")
    information = information.strip()
    if not information:
        raise _field("information", "Write the information the hospital asked for.")
    checked = checked_uploads(attachments)
    stamp = f"Further information, {clock.today():%-d %B %Y}, {_actor_name(actor)}:"
    referral.clinical_summary = f"{referral.clinical_summary}\n\n{stamp}\n{information}".strip()
    if len(referral.clinical_summary) > MAX_SUMMARY * 2:
        raise _field("information", "The referral is too long to add to: attach the information as a document.")
    referral.status = ReferralStatus.NEW
    referral.version += 1
    referral.updated_at = clock.now()
    referral.save()
    for attachment in checked:
        _keep_document(referral, DocumentKind.ATTACHMENT, attachment)
    names = [d.filename for d in referral.documents.filter(kind=DocumentKind.ATTACHMENT)]
    letter = _referral_letter(referral, names)
    _keep_document(referral, DocumentKind.LETTER, _pdf(f"referral-{referral.ubrn}-v{referral.version}.pdf", letter))
    _event(referral, "Further information sent", by=_actor_name(actor), comment=information)
    _send_to_hospital(referral, update=True)
    _audit(actor, referral, AuditAction.UPDATE, operation="add_information", attachments=len(checked))
    return referral


# --- At the hospital ------------------------------------------------------------------------------------


class TriageDecision(enum.StrEnum):
    ACCEPT = "accept"
    RETURN_WITH_ADVICE = "return_with_advice"
    REJECT = "reject"
    REQUEST_INFORMATION = "request_information"


_DECISIONS = {
    TriageDecision.ACCEPT: (ReferralStatus.PENDING, "Accepted at triage"),
    TriageDecision.RETURN_WITH_ADVICE: (ReferralStatus.RETURNED, "Returned to the GP with advice"),
    TriageDecision.REJECT: (ReferralStatus.REJECTED, "Rejected at triage"),
    TriageDecision.REQUEST_INFORMATION: (ReferralStatus.INFO_REQUESTED, "More information requested"),
}
_TEXT_NEEDED = {
    TriageDecision.RETURN_WITH_ADVICE: "Write the advice for the GP.",
    TriageDecision.REJECT: "Give the reason for rejecting the referral.",
    TriageDecision.REQUEST_INFORMATION: "Say what information is needed.",
}


def _close(referral: Referral) -> None:
    if referral.status in CLOSED_STATUSES and referral.completed_at is None:
        referral.completed_at = clock.now()


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_triage(
    *,
    actor: Actor,
    referral: Referral,
    decision: str,
    text: str = "",
    priority: str | None = None,
    comment: str = "",
    consultant: Clinician | None = None,
) -> Referral:
    """A doctor at the receiving hospital triages: accept (optionally to a named consultant), return to
    the GP with advice, reject with a reason, or ask for more information; the priority may change, with
    a comment. Travels back to the referrer's system."""
    referral = _locked(referral)
    require(actor=actor, action=Action.TRIAGE, patient=referral.patient, facility_id=referral.receiving_facility_id)
    if referral.status not in (ReferralStatus.NEW, ReferralStatus.INFO_REQUESTED):
        raise Conflict(f"This referral has already been triaged: it is {referral.staff_words.lower()}.")
    errors: dict[str, str] = {}
    try:
        chosen = TriageDecision(decision)
    except ValueError:
        raise _field("decision", "Choose accept, return with advice, reject, or ask for more information.") from None
    text = text.strip()
    if chosen in _TEXT_NEEDED and not text:
        errors["text"] = _TEXT_NEEDED[chosen]
    if len(text) > MAX_TRIAGE_TEXT:
        errors["text"] = f"Keep it within {MAX_TRIAGE_TEXT:,} characters (it is {len(text):,})."
    new_priority = priority or referral.priority
    if new_priority not in PRIORITIES_TO_CHOOSE and new_priority != referral.priority:
        errors["priority"] = "Choose the priority: routine, urgent or two-week wait."
    comment = comment.strip()
    if new_priority != referral.priority and not comment:
        errors["comment"] = "Say why the priority changes."
    if len(comment) > MAX_TRIAGE_TEXT:
        errors["comment"] = f"Keep the comment within {MAX_TRIAGE_TEXT:,} characters."
    if consultant is not None and consultant.workplace_id != referral.receiving_facility_id:
        errors["consultant"] = f"{consultant.display_name} does not work at {referral.receiving_facility.name}."
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    status, words = _DECISIONS[chosen]
    old_priority = referral.priority
    referral.status = status
    referral.status_reason = text
    referral.priority = new_priority
    if new_priority != old_priority:
        referral.triage_comment = comment
    if consultant is not None:
        referral.receiving_clinician = consultant
    referral.triaged_by = actor.user.clinician  # type: ignore[union-attr]
    referral.triaged_at = clock.now()
    _close(referral)
    referral.task_version += 1
    referral.updated_at = clock.now()
    referral.save()
    if new_priority != old_priority:
        words += f"; priority {ReferralPriority(old_priority).label} to {ReferralPriority(new_priority).label}"
    _event(referral, words, by=_actor_name(actor), comment="\n".join(part for part in (text, comment) if part))
    referral_relationships_refresh([referral])
    _report_to_referrer(referral)
    _audit(actor, referral, AuditAction.UPDATE, operation="triage", decision=chosen.value, priority=new_priority)
    return referral


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_book(
    *, actor: Actor, referral: Referral, slot: Slot, appointment_type: str = "", reason: str = ""
) -> Referral:
    """Hospital staff book the accepted referral's appointment into a consultant's schedule (the booking
    is scheduling's own, with its checks, audit and the patient's confirmation); the referral holds it."""
    referral = _locked(referral)
    # Asked first, so nobody who may not book here learns anything from the checks below; the booking
    # service asks again for the slot itself.
    require(actor=actor, action=Action.BOOK, patient=referral.patient, facility_id=referral.receiving_facility_id)
    if slot.facility_id != referral.receiving_facility_id:
        raise _field("slot", f"Book at {referral.receiving_facility.name}, where the referral was sent.")
    if referral.status != ReferralStatus.PENDING:
        if referral.status == ReferralStatus.IN_PROGRESS:
            raise Conflict("This referral's appointment is already booked: move that appointment instead.")
        raise Conflict(f"Only an accepted referral is booked; this one is {referral.staff_words.lower()}.")
    appointment = appointment_book(
        actor=actor,
        patient=referral.patient,
        slot=slot,
        appointment_type=appointment_type,
        reason=reason.strip() or f"{referral.speciality or 'Hospital'} appointment for referral {referral.ubrn}",
    )
    referral.appointment = appointment
    referral.appointment_at = appointment.starts_at
    referral.receiving_clinician = appointment.clinician
    referral.status = ReferralStatus.IN_PROGRESS
    referral.task_version += 1
    referral.updated_at = clock.now()
    referral.save()
    _event(referral, f"Appointment booked for {spoken_time(appointment.starts_at)}", by=_actor_name(actor))
    referral_relationships_refresh([referral])
    _report_to_referrer(referral)
    _audit(actor, referral, AuditAction.UPDATE, operation="book", appointment=str(appointment.public_id))
    return referral


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_record_outcome(*, actor: Actor, referral: Referral, outcome: str, clinic_letter: str) -> Referral:
    """The consultant, having seen the patient, records the outcome and writes the clinic letter; the
    referral is completed and the letter returns to the GP by both channels."""
    referral = _locked(referral)
    require(actor=actor, action=Action.TRIAGE, patient=referral.patient, facility_id=referral.receiving_facility_id)
    if referral.status != ReferralStatus.IN_PROGRESS or referral.appointment is None:
        raise Conflict(
            f"The outcome is recorded once the patient has been seen; this referral is {referral.staff_words.lower()}."
        )
    if referral.appointment.status not in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED):
        raise Conflict("The patient has not arrived for this referral's appointment: check them in first.")
    errors: dict[str, str] = {}
    outcome, clinic_letter = outcome.strip(), clinic_letter.strip()
    if not outcome:
        errors["outcome"] = "Give the outcome of the appointment."
    if not clinic_letter:
        errors["clinic_letter"] = "Write the clinic letter to the GP."
    if len(clinic_letter) > MAX_SUMMARY:
        errors["clinic_letter"] = f"Keep the clinic letter within {MAX_SUMMARY:,} characters."
    if len(outcome) > MAX_TRIAGE_TEXT:
        errors["outcome"] = f"Keep the outcome within {MAX_TRIAGE_TEXT:,} characters; the letter can say more."
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    consultant: Clinician = actor.user.clinician  # type: ignore[union-attr]
    referral.status = ReferralStatus.COMPLETED
    referral.outcome = outcome
    _close(referral)
    referral.task_version += 1
    referral.updated_at = clock.now()
    referral.save()
    referrer = referral.referring_clinician
    pdf = clinic_letter_pdf(
        ClinicLetter(
            ubrn=referral.ubrn or "",
            date=clock.today(),
            patient=_letter_patient(referral.patient),
            consultant=_clinician_party(consultant),
            hospital=_facility_party(referral.receiving_facility),
            to_gp=_clinician_party(referrer) if referrer else LetterParty(name=referral.referrer_name),
            surgery=_facility_party(referral.referring_facility),
            outcome=outcome,
            letter_text=clinic_letter,
        )
    )
    letter = _keep_document(referral, DocumentKind.CLINIC_LETTER, _pdf(f"clinic-letter-{referral.ubrn}.pdf", pdf))
    _event(referral, "Seen; outcome and clinic letter sent to the GP", by=_actor_name(actor), comment=outcome)
    referral_relationships_refresh([referral])
    notifications.clinic_letter_to_surgery(referral, letter)
    _report_to_referrer(referral)
    _audit(actor, referral, AuditAction.UPDATE, operation="record_outcome")
    return referral


# --- Arriving from another Carebridge -----------------------------------------------------------------


@dataclass(frozen=True)
class IncomingPatient:
    nhs_number: str
    nhs_number_verified: bool
    first_name: str
    last_name: str
    date_of_birth: dt.date
    gender: str = Gender.UNKNOWN
    phone_number: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class IncomingDocument:
    kind: DocumentKind
    filename: str
    content: bytes


@dataclass(frozen=True)
class IncomingReferral:
    """A referral as another Carebridge sent it (the FHIR edge fills this from its ServiceRequest)."""

    ubrn: str
    version: int
    referring_facility_code: str
    receiving_facility_code: str
    speciality: str
    priority: str
    reason: str
    clinical_summary: str
    investigations: list[str]
    referral_date: dt.date
    referrer_name: str
    referrer_code: str
    patient: IncomingPatient
    receiving_clinician_code: str = ""
    documents: list[IncomingDocument] = field(default_factory=list)


@dataclass(frozen=True)
class IncomingStatus:
    """A hospital's progress on a referral, as its Carebridge reported it (from a FHIR Task)."""

    ubrn: str
    task_version: int
    task_status: str
    business_status: str = ""
    status_reason: str = ""
    outcome: str = ""
    appointment_at: dt.datetime | None = None
    documents: list[IncomingDocument] = field(default_factory=list)


def _received_documents(documents: Sequence[IncomingDocument]) -> list[tuple[DocumentKind, CheckedAttachment]]:
    """Checked as an upload is: another system's files are no more trusted than a person's."""
    return [
        (document.kind, checked)
        for document in documents
        for checked in checked_uploads([Upload(filename=document.filename, content=document.content)])
    ]


def _matched_patient(actor: Actor, incoming: IncomingPatient, registered_at: Facility) -> tuple[Patient, bool]:
    """The patient here with the referral's NHS number, or a new record registered at the referring surgery.

    A referral without a verified NHS number is refused: e-RS needs one, and matching on name and birth date
    alone risks attaching one person's referral to another's record. A number held here for someone
    born on another day is refused too, for a person to sort out, for the same reason."""
    number = nhs_number.normalise(incoming.nhs_number or "")
    if not number or nhs_number.problem(number) or not incoming.nhs_number_verified:
        raise _field("patient", "The referral's patient has no verified NHS number: it cannot be matched safely.")
    existing = Patient.objects.filter(nhs_number=number).order_by("pk").first()
    if existing is not None:
        if existing.date_of_birth != incoming.date_of_birth:
            raise _field(
                "patient",
                "The NHS number belongs to a patient here with a different date of birth: not matched. "
                "Check the number with the referrer.",
            )
        return existing, False
    now = clock.now()
    patient = Patient(
        first_name=incoming.first_name.strip()[:100] or "Unknown",
        last_name=incoming.last_name.strip()[:100] or "Unknown",
        date_of_birth=incoming.date_of_birth,
        nhs_number=number,
        nhs_number_verified=incoming.nhs_number_verified,
        gender=incoming.gender if incoming.gender in Gender.values else Gender.UNKNOWN,
        phone_number=incoming.phone_number[:30],
        email=incoming.email if email_is_valid_address(incoming.email) else "",
        address=incoming.address[:300],
        postcode=incoming.postcode[:10],
        registration_date=clock.today(),
        registered_surgery=registered_at,
        created_at=now,
        updated_at=now,
    )
    patient.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail={"operation": "referral_receive", "registered_surgery": registered_at.name},
    )
    return patient, True


def _service_named(hospital: Facility, speciality: str) -> str:
    """The hospital's own name for the service another system named, so that its worklist shows one
    service, not "Cardiology" and "cardiology"; a service it does not list is kept as named."""
    offered = {name.lower(): name for name in hospital.specialities_offered or []}
    speciality = speciality.strip()
    return offered.get(speciality.lower(), speciality)[:100]


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_receive(*, actor: Actor, incoming: IncomingReferral) -> tuple[Referral, bool]:
    """Another Carebridge delivers a referral (its system's login; only its own organisation's). The
    same UBRN again updates the referral (a newer version) or changes nothing (one already had): a
    message delivered twice arrives once. Returns the referral and whether it is new here."""
    sender = facility_by_code(incoming.referring_facility_code)
    if sender is None:
        raise _field("requester", f"No facility here has the code {incoming.referring_facility_code!r}.")
    problem = may_deliver_referrals(actor.user, from_facility_id=sender.pk)
    if problem is not None:
        raise NotPermitted(problem)
    hospital = facility_by_code(incoming.receiving_facility_code)
    if hospital is None or not hospital.is_hospital:
        raise _field("performer", f"No hospital here has the code {incoming.receiving_facility_code!r}.")
    if not (len(incoming.ubrn) == 12 and incoming.ubrn.isdigit()):
        raise _field("identifier", "A referral needs its 12-digit UBRN.")
    if incoming.priority not in ReferralPriority.values:
        raise _field("priority", "The referral's priority is not one Carebridge knows.")
    documents = _received_documents(incoming.documents)
    existing = Referral.objects.select_for_update().filter(ubrn=incoming.ubrn).first()
    if existing is not None:
        if existing.referring_facility_id != sender.pk:
            raise Conflict("A referral with this UBRN came from another organisation.")
        if incoming.version <= existing.version:
            return existing, False
        return _receive_update(actor, existing, incoming, documents), False
    patient, _new = _matched_patient(actor, incoming.patient, sender)
    consultant = (
        Clinician.objects.filter(workplace=hospital, registration_number=incoming.receiving_clinician_code).first()
        if incoming.receiving_clinician_code
        else None
    )
    referrer = (
        Clinician.objects.filter(workplace=sender, registration_number=incoming.referrer_code).first()
        if incoming.referrer_code
        else None
    )
    now = clock.now()
    referral = Referral(
        patient=patient,
        referring_clinician=referrer,
        referrer_name=incoming.referrer_name[:200] or "Not named",
        referrer_code=incoming.referrer_code[:30],
        referring_facility=sender,
        receiving_facility=hospital,
        receiving_clinician=consultant,
        speciality=_service_named(hospital, incoming.speciality),
        ubrn=incoming.ubrn,
        referral_date=incoming.referral_date,
        priority=incoming.priority,
        reason=incoming.reason[:MAX_REASON],
        clinical_summary=incoming.clinical_summary[: MAX_SUMMARY * 2],
        requested_investigations=_checked_investigations(incoming.investigations),
        status=ReferralStatus.NEW,
        received_from_system=True,
        version=incoming.version,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError:
        # The same referral, delivered twice at once: the other delivery made it.
        raise Conflict("This referral is being received already; send it again in a moment.") from None
    for kind, checked in documents:
        _keep_document(referral, kind, checked)
    _event(referral, f"Referral received from {sender.name}", by=f"{sender.name}'s system")
    referral_relationships_refresh([referral])
    _audit(actor, referral, AuditAction.CREATE, operation="receive", sender=sender.name)
    return referral, True


def _receive_update(
    actor: Actor,
    referral: Referral,
    incoming: IncomingReferral,
    documents: list[tuple[DocumentKind, CheckedAttachment]],
) -> Referral:
    referral.clinical_summary = incoming.clinical_summary[: MAX_SUMMARY * 2]
    referral.requested_investigations = _checked_investigations(incoming.investigations)
    referral.reason = incoming.reason[:MAX_REASON]
    referral.version = incoming.version
    information_arrived = referral.status == ReferralStatus.INFO_REQUESTED
    if information_arrived:
        referral.status = ReferralStatus.NEW
    referral.updated_at = clock.now()
    referral.save()
    for kind, checked in documents:
        _keep_document(referral, kind, checked)
    words = "Further information received" if information_arrived else "Referral updated by the referrer"
    _event(referral, words, by=f"{referral.referring_facility.name}'s system")
    _audit(actor, referral, AuditAction.UPDATE, operation="receive_update", version=incoming.version)
    return referral


@refusals_audited(AuditObject.REFERRAL)
@transaction.atomic
def referral_status_receive(*, actor: Actor, update: IncomingStatus) -> Referral:
    """The receiving hospital's system reports its progress (a Task); an older report changes nothing."""
    referral = (
        Referral.objects.select_for_update()
        .select_related("receiving_facility", "referring_facility", "patient")
        .filter(ubrn=update.ubrn)
        .first()
    )
    if referral is None:
        raise NotFound("No referral with that UBRN was sent from here.")
    problem = may_deliver_referral_updates(actor.user, receiving_facility_id=referral.receiving_facility_id)
    if problem is not None:
        raise NotPermitted(problem)
    status = status_for_task(update.task_status, update.business_status)
    if status is None:
        raise _field("status", f"{update.task_status!r} is not a Task status Carebridge follows.")
    documents = _received_documents(update.documents)
    if update.task_version <= referral.task_version:
        return referral
    referral.status = status
    referral.status_reason = update.status_reason[:MAX_TRIAGE_TEXT]
    if update.outcome:
        referral.outcome = update.outcome[:MAX_TRIAGE_TEXT]
    if update.appointment_at is not None:
        referral.appointment_at = update.appointment_at
    _close(referral)
    referral.task_version = update.task_version
    referral.updated_at = clock.now()
    referral.save()
    for kind, checked in documents:
        _keep_document(referral, kind, checked)
    _event(
        referral,
        f"{referral.receiving_facility.name}: {update.business_status or referral.staff_words}",
        by=f"{referral.receiving_facility.name}'s system",
        comment=update.status_reason,
    )
    referral_relationships_refresh([referral])
    _audit(actor, referral, AuditAction.UPDATE, operation="status_receive", task_status=update.task_status)
    return referral
