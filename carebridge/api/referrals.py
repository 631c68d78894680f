"""The REST API's referrals: made at a GP surgery, triaged, booked and seen at a hospital (mounted on the
API in api.py, tag "referrals").

As the other endpoints: reads go through the referral selectors (carebridge.referrals.selectors), which
answer 404, audited, for a referral that is missing or whose patient the caller may not see, and cut
what they return to the caller (reception: the administrative facts, none of the clinical content; the
patient: plain words, without the hospital's notes). Writes hand the named referral to one service,
which checks who is asking before it says anything about the referral (404, 403), and then what is
allowed (409 for a referral in the wrong state, 422 naming the inputs at fault).

Attachments travel inside the JSON, base64-encoded, so the two endpoints that take them accept a larger
body than the rest of the API (core.middleware.LARGE_BODY_PATHS): 15 MB of files is about 21 MB here.
"""

import base64
import binascii
import re
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Status

from carebridge.access.rules import PatientAccess, Viewer, access_for, viewer_of, visible_patients
from carebridge.access.selectors import patient_record_for
from carebridge.accounts.models import User
from carebridge.api import schemas
from carebridge.api.auth import actor_for
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.clinical.selectors import consultation_named
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound
from carebridge.core.roles import Role, role_of
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.referrals import services
from carebridge.referrals.attachments import Upload
from carebridge.referrals.models import Referral, ReferralDocument, ReferralEvent, ReferralStatus
from carebridge.referrals.selectors import (
    ChannelStatus,
    referral_deliveries,
    referral_disclosed,
    referral_document_for,
    referral_documents,
    referral_for,
    referral_history,
    referral_named,
    referral_pack_for,
    referral_worklist,
    referrals_of,
)
from carebridge.scheduling.models import Slot

router = Router(tags=["referrals"])

MAX_LIMIT = 500
NOT_FOUND = {404: schemas.Error}
REFUSALS = {403: schemas.Error, 404: schemas.Error, 409: schemas.Error, 422: schemas.Refusal}

# What a referral is shown with: every relation the shape below reads, in one query.
_SHOWN_WITH = (
    "patient",
    "referring_clinician",
    "receiving_clinician",
    "referring_facility",
    "receiving_facility",
    "appointment",
    "triaged_by",
)

# A delivery's last error is the mail server's or the remote system's own words, which can name the
# address it was sent to; the API says how delivery is going, not where to.
_EMAIL_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_WEB_ADDRESS = re.compile(r"\bhttps?://\S+", re.IGNORECASE)

_DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg")


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # set by the API's bearer-token authentication


def _actor(request: HttpRequest) -> Actor:
    return actor_for(request, _user(request), "api")


# --- Shapes ---------------------------------------------------------------------------------------


def _named(public_id: uuid.UUID, name: str) -> dict:
    return {"id": public_id, "name": name}


def _clinician(clinician: Clinician | None) -> dict | None:
    return _named(clinician.public_id, clinician.display_name) if clinician is not None else None


def _facility(facility: Facility) -> dict:
    return _named(facility.public_id, facility.name)


def _referral_out(referral: Referral, *, for_patient: bool) -> dict:
    """`referral` as the selectors cut it for the caller (see referral_disclosed)."""
    patient = referral.patient
    return {
        "id": referral.public_id,
        "ubrn": referral.ubrn,
        "patient": _named(patient.public_id, patient.full_name),
        "referrer": referral.referrer_display,
        "referring_clinician": _clinician(referral.referring_clinician),
        "referring_facility": _facility(referral.referring_facility),
        "receiving_facility": _facility(referral.receiving_facility),
        "receiving_clinician": _clinician(referral.receiving_clinician),
        "speciality": referral.speciality,
        "priority": referral.priority,
        "priority_words": referral.get_priority_display(),
        "referral_date": referral.referral_date,
        "status": referral.status,
        "status_words": referral.patient_words if for_patient else referral.staff_words,
        "fhir_status": referral.fhir_status,
        "reason": referral.reason,
        "clinical_summary": referral.clinical_summary,
        "investigations": list(referral.requested_investigations),
        "status_reason": referral.status_reason,
        "triage_comment": referral.triage_comment,
        "triaged_by": _clinician(referral.triaged_by),
        "triaged_at": referral.triaged_at,
        "outcome": referral.outcome,
        "completed_at": referral.completed_at,
        "appointment": referral.appointment.public_id if referral.appointment is not None else None,
        "appointment_at": referral.appointment_at,
        "wait_days": referral.wait_days,
        "target_days": referral.target_days,
        "target_date": referral.target_date,
        "is_breached": referral.is_breached,
        "version": referral.version,
        "clinical_content_withheld": referral.disclosed_only,
    }


def _event_out(event: ReferralEvent) -> dict:
    return {"at": event.at, "status": event.status, "words": event.words, "comment": event.comment, "by": event.by}


def _without_addresses(text: str) -> str:
    return _WEB_ADDRESS.sub("(address)", _EMAIL_ADDRESS.sub("(address)", text))


def _delivery_out(row: ChannelStatus) -> dict:
    return {
        "channel": row.channel,
        "status": row.status,
        "status_words": row.status_words,
        "attempts": row.attempts,
        "sent_at": row.sent_at,
        "last_error": _without_addresses(row.last_error),
        "next_attempt_at": row.next_attempt_at,
        "given_up_reason": row.given_up_reason,
    }


def _document_out(document: ReferralDocument) -> dict:
    return {
        "id": document.public_id,
        "kind": document.kind,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
    }


def _is_patient(access: PatientAccess | Viewer) -> bool:
    return isinstance(access, PatientAccess) and access.is_own_record


def _shown(actor: Actor, referral: Referral) -> dict:
    """A referral a service has just changed, as the person who changed it may see it.

    Services hand back the row they locked, without its relations: one query to show it whole. The
    change was the actor's own, so their access was checked by the service and its read is not
    audited again here; the cut is the selectors' (hospital reception books, and sees no reason)."""
    reloaded = Referral.objects.select_related(*_SHOWN_WITH).get(pk=referral.pk)
    access = access_for(actor.user, reloaded.patient)
    if access is None:  # a change that ended the actor's access to the patient: show only that it was done
        return _referral_out(referral_disclosed(reloaded, viewer_of(None)), for_patient=False)
    return _referral_out(referral_disclosed(reloaded, access), for_patient=_is_patient(access))


# --- Input --------------------------------------------------------------------------------------------


def _uploads(attachments: list[schemas.AttachmentIn]) -> list[Upload]:
    """The attachments' bytes; Invalid naming each one that is not base64. What the files are is the
    service's to check (referrals.attachments), from their content."""
    uploads: list[Upload] = []
    problems: dict[str, str] = {}
    for number, attachment in enumerate(attachments):
        # Line breaks and spaces are allowed: base64 as many tools write it (MIME) wraps its lines.
        encoded = "".join(attachment.content_base64.split())
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            problems[f"attachments.{number}.content_base64"] = (
                f"{attachment.filename or 'The file'} is not base64-encoded: send its bytes as standard base64."
            )
            continue
        uploads.append(Upload(filename=attachment.filename, content=content))
    if problems:
        raise Invalid(" ".join(problems.values()), fields=problems)
    return uploads


def _facility_named(public_id: uuid.UUID) -> Facility:
    # Facilities are the directory, not patient data: an unknown one is a mistake in the input.
    facility = Facility.objects.filter(public_id=public_id).first()
    if facility is None:
        raise Invalid("There is no such hospital.", fields={"receiving_facility": "Choose a hospital to refer to."})
    return facility


def _clinician_named(public_id: uuid.UUID | None, field: str) -> Clinician | None:
    if public_id is None:
        return None
    clinician = Clinician.objects.select_related("workplace").filter(public_id=public_id).first()
    if clinician is None:
        raise Invalid("There is no such clinician.", fields={field: "Choose a clinician from the directory."})
    return clinician


def _slot(public_id: uuid.UUID) -> Slot:
    # As for booking an appointment: slots are not patient data, and the rules decide who may take one.
    try:
        return Slot.objects.select_related("clinician", "facility").get(public_id=public_id)
    except Slot.DoesNotExist:
        raise Http404("No such slot") from None


def _to_change(actor: Actor, referral_id: str, operation: str) -> Referral:
    """The referral a write names, handed unseen to the service, which decides who may act on it. A
    referral that does not exist is refused here, as the selectors refuse it: 404, audited."""
    referral = referral_named(referral_id)
    if referral is None:
        audit_denial(
            actor=actor, object_type=AuditObject.REFERRAL, object_id=referral_id, detail={"operation": operation}
        )
        refusal = NotFound("No referral found.")
        refusal.audited = True
        raise refusal
    return referral


# --- Reading ------------------------------------------------------------------------------------------


@router.get(
    "/referrals",
    response={200: list[schemas.ReferralOut], **NOT_FOUND},
    summary="Referrals of one patient, or of every patient you may see, newest first",
)
def referrals(
    request: HttpRequest,
    patient: str = "",
    status: ReferralStatus | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
) -> list[dict]:
    """A patient sees their own. Non-clinical staff see each referral's administrative facts only. The
    list of every patient is recorded in the audit trail against each patient on it."""
    actor = _actor(request)
    user = _user(request)
    if not patient and role_of(user) == Role.PATIENT:
        patient = str(user.patient.public_id)
    if patient:
        access = patient_record_for(actor=actor, public_id=patient, purpose="api referrals")
        found = [referral for referral in referrals_of(access) if status is None or referral.status == status]
        return [_referral_out(referral, for_patient=_is_patient(access)) for referral in found[:limit]]
    viewer = viewer_of(user)
    listed = Referral.objects.filter(patient__in=visible_patients(Patient.objects.all(), user)).select_related(
        *_SHOWN_WITH
    )
    if status is not None:
        listed = listed.filter(status=status)
    results = [referral_disclosed(referral, viewer) for referral in listed[:limit]]
    audit_search(
        actor=actor,
        object_type=AuditObject.REFERRAL,
        criteria={"status": status},
        patient_ids=[referral.patient_id for referral in results],
    )
    return [_referral_out(referral, for_patient=False) for referral in results]


@router.get(
    "/referrals/worklist",
    response={200: schemas.WorklistOut, **NOT_FOUND},
    summary="The hospital's incoming referrals: the most urgent, and the longest waiting, first",
)
def worklist(request: HttpRequest, speciality: str = "") -> dict:
    """For clinicians and staff at a hospital (404 for anyone else): its open referrals, for one service
    or all, with each one's wait against its target and whether it is past it."""
    found, offered = referral_worklist(actor=_actor(request), speciality=speciality.strip())
    return {"services": offered, "referrals": [_referral_out(referral, for_patient=False) for referral in found]}


@router.get(
    "/referrals/documents/{document_id}",
    response=NOT_FOUND,
    summary="A referral's letter or attachment, the file itself (clinicians)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment under its stored name",
                "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in _DOCUMENT_TYPES},
            }
        }
    },
)
def referral_document(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _, _ = referral_document_for(actor=_actor(request), public_id=document_id)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    # Downloaded under its stored name, never shown inline; its type as checked, never sniffed; and a
    # clinical file is kept in no cache on the way.
    response["Content-Disposition"] = content_disposition_header(True, document.filename) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/referrals/{referral_id}",
    response={200: schemas.ReferralDetailOut, **NOT_FOUND},
    summary="One referral, with its history, how each channel delivered it, and its documents",
)
def referral(request: HttpRequest, referral_id: str) -> dict:
    found, access = referral_for(actor=_actor(request), public_id=referral_id, purpose="api referral")
    for_patient = _is_patient(access)
    return {
        "referral": _referral_out(found, for_patient=for_patient),
        "history": [_event_out(event) for event in referral_history(found, access)],
        # How the messages went is the staff's to follow; the patient is told by the referral itself.
        "deliveries": [] if for_patient else [_delivery_out(row) for row in referral_deliveries(found)],
        "documents": [_document_out(document) for document in referral_documents(found, access)],
    }


@router.get(
    "/referrals/{referral_id}/pack",
    response={200: schemas.ReferralPackOut, **NOT_FOUND},
    summary="The arrival pack: the referral with the patient's medicines, allergies and problems (clinicians)",
)
def referral_pack(request: HttpRequest, referral_id: str) -> dict:
    """What the consultant needs when the referred patient arrives, in a handful of queries whatever the
    record holds. 404 for anyone who may not see the record clinically (reception included)."""
    pack = referral_pack_for(actor=_actor(request), public_id=referral_id)
    return {
        "referral": _referral_out(pack.referral, for_patient=False),
        "documents": [_document_out(document) for document in pack.documents],
        "medicines": [
            {
                "id": medicine.public_id,
                "medicine": medicine.medication_name,
                "dose": medicine.dose_display,
                "frequency": medicine.frequency,
                "instructions": medicine.instructions,
                "prescribed_on": medicine.prescribed_on,
                "course": medicine.course,
            }
            for medicine in pack.medicines
        ],
        "allergies": [
            {
                "id": allergy.public_id,
                "display": allergy.display,
                "reaction": allergy.reaction,
                "severity": allergy.severity,
            }
            for allergy in pack.allergies
        ],
        "problems": [
            {
                "id": problem.public_id,
                "code": problem.code,
                "display": problem.display,
                "recorded_at": problem.recorded_at,
            }
            for problem in pack.problems
        ],
    }


# --- Changing -----------------------------------------------------------------------------------------


@router.post(
    "/referrals",
    response={201: schemas.ReferralOut, **REFUSALS},
    summary="Refer a patient to a hospital service (clinicians at GP surgeries)",
)
def referral_make(request: HttpRequest, payload: schemas.ReferralIn) -> Status:
    """201 with the referral, sent at once to the hospital by email and, where its system is connected,
    as FHIR. 422 naming the inputs at fault: a hospital that does not offer the service, a consultant who
    does not work there, no reason, or an attachment that is not a whole PDF, PNG or JPEG of at most
    5 MB (its type is read from its content, not its name). 403 for anyone but a clinician at a GP
    surgery who may see the patient."""
    actor = _actor(request)
    access = patient_record_for(actor=actor, public_id=payload.patient, purpose="referral")
    patient = access.patient
    consultation = consultation_named(patient, payload.consultation)
    if payload.consultation is not None and consultation is None:
        raise Invalid(
            "That consultation is not one of this patient's.",
            fields={"consultation": "Choose one of the patient's consultations."},
        )
    made = services.referral_make(
        actor=actor,
        patient=patient,
        receiving_facility=_facility_named(payload.receiving_facility),
        speciality=payload.speciality,
        receiving_clinician=_clinician_named(payload.receiving_clinician, "receiving_clinician"),
        priority=payload.priority,
        reason=payload.reason,
        clinical_summary=payload.clinical_summary,
        investigations=payload.investigations,
        attachments=_uploads(payload.attachments),
        consultation=consultation,
    )
    return Status(201, _shown(actor, made))


@router.post(
    "/referrals/{referral_id}/information",
    response={200: schemas.ReferralOut, **REFUSALS},
    summary="Send the hospital the information it asked for (clinicians at the referring surgery)",
)
def referral_add_information(request: HttpRequest, referral_id: str, payload: schemas.InformationIn) -> dict:
    """The referral goes back to the hospital for triage, by both channels. 409 once it is triaged."""
    actor = _actor(request)
    changed = services.referral_add_information(
        actor=actor,
        referral=_to_change(actor, referral_id, "referral_add_information"),
        information=payload.information,
        attachments=_uploads(payload.attachments),
    )
    return _shown(actor, changed)


@router.post(
    "/referrals/{referral_id}/triage",
    response={200: schemas.ReferralOut, **REFUSALS},
    summary="Triage: accept, return with advice, reject, or ask for more information (doctors at the hospital)",
)
def referral_triage(request: HttpRequest, referral_id: str, payload: schemas.TriageIn) -> dict:
    """The decision travels back to the referrer. A new priority needs a comment saying why. 409 for a
    referral already triaged."""
    actor = _actor(request)
    changed = services.referral_triage(
        actor=actor,
        referral=_to_change(actor, referral_id, "referral_triage"),
        decision=payload.decision,
        text=payload.text,
        priority=payload.priority or None,
        comment=payload.comment,
        consultant=_clinician_named(payload.consultant, "consultant"),
    )
    return _shown(actor, changed)


@router.post(
    "/referrals/{referral_id}/book",
    response={200: schemas.ReferralOut, **REFUSALS},
    summary="Book the accepted referral's appointment (reception at the hospital)",
)
def referral_book(request: HttpRequest, referral_id: str, payload: schemas.ReferralBookingIn) -> dict:
    """Into a free slot at the receiving hospital; the patient is told as for any booking. 409 for a
    referral not accepted, or already booked, or a slot someone has just taken."""
    actor = _actor(request)
    changed = services.referral_book(
        actor=actor,
        referral=_to_change(actor, referral_id, "referral_book"),
        slot=_slot(payload.slot),
        appointment_type=payload.appointment_type,
        reason=payload.reason,
    )
    return _shown(actor, changed)


@router.post(
    "/referrals/{referral_id}/outcome",
    response={200: schemas.ReferralOut, **REFUSALS},
    summary="Record the outcome and the clinic letter, once the patient was seen (doctors at the hospital)",
)
def referral_record_outcome(request: HttpRequest, referral_id: str, payload: schemas.OutcomeIn) -> dict:
    """The referral is completed; the clinic letter (a PDF) returns to the GP by both channels."""
    actor = _actor(request)
    changed = services.referral_record_outcome(
        actor=actor,
        referral=_to_change(actor, referral_id, "referral_record_outcome"),
        outcome=payload.outcome,
        clinic_letter=payload.clinic_letter,
    )
    return _shown(actor, changed)
