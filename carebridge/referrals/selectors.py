"""Reads of referrals, cut to what the viewer may see; every read of a patient's referral is audited.

Clinicians who may see the patient see everything. Non-clinical staff see a referral's administrative
facts (UBRN, priority, dates, status, the receiving service, the wait) and none of its clinical content:
no reason, summary, investigations, triage text, outcome or document. A patient sees their own
referrals in plain words, without the hospital's internal notes. A connected system sees nothing.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from carebridge.access.rules import PatientAccess, Viewer, viewer_of, visible_patients, works_referral_worklist
from carebridge.access.selectors import patient_record_of
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial, audit_search
from carebridge.clinical.models import Allergy, Condition
from carebridge.clinical.selectors import active_problems, allergies_recorded
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound
from carebridge.core.fields import public_id_from
from carebridge.core.prepared import PreparedQuery
from carebridge.core.roles import Role
from carebridge.delivery.models import OutboundEmail, OutboundFhir
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription
from carebridge.prescribing.safety import active_prescriptions
from carebridge.referrals.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    Referral,
    ReferralDocument,
    ReferralEvent,
    ReferralPriority,
)

_RELATED = (
    "patient__registered_surgery",
    "referring_clinician",
    "receiving_clinician",
    "referring_facility",
    "receiving_facility",
    "appointment__clinician",
    "triaged_by",
)

# Every referral page, the API's referral and the arrival pack start with these: compiled once per
# process (carebridge/core/prepared.py). Compiling them, the referral's eight-table join most of all,
# was half of an arrival pack's CPU.
_REFERRAL = PreparedQuery(
    lambda public_id: Referral.objects.select_related(*_RELATED).filter(public_id=public_id), public_id=uuid.UUID
)
_DOCUMENTS = PreparedQuery(
    lambda referral_id: ReferralDocument.objects.filter(referral_id=referral_id).defer("content"), referral_id=int
)


def _referral_with_public_id(public_id: uuid.UUID | str) -> Referral | None:
    parsed = public_id_from(public_id)
    return None if parsed is None else _REFERRAL.one_or_none(public_id=parsed)


def _documents_without_content(referral: Referral) -> list[ReferralDocument]:
    documents = _DOCUMENTS.all(referral_id=referral.pk)
    for document in documents:
        document.referral = referral  # as `referral.documents` would: no query to get back to it
    return documents


def referral_disclosed(referral: Referral, access: PatientAccess | Viewer) -> Referral:
    """`referral` without what this viewer may not see, for showing only.

    Non-clinical staff see a referral's administrative fields (priority, dates, status, the receiving
    clinic); its clinical content is emptied here, so no page or API can show what it was never given.
    The patient sees their own referral without the hospital's internal notes and triage comments.
    `Referral.save()` refuses an instance cut here."""
    if access.sees_clinical and not _is_patient(access):
        return referral
    if not access.sees_clinical:
        referral.reason = ""
        referral.clinical_summary = ""
        referral.requested_investigations = []
        referral.status_reason = ""
        referral.outcome = ""
    referral.notes = ""
    referral.triage_comment = ""
    referral.disclosed_only = True
    return referral


def _is_patient(access: PatientAccess | Viewer) -> bool:
    # A Viewer (for lists) is never a patient: patients see only their own record, one at a time.
    return isinstance(access, PatientAccess) and access.role == Role.PATIENT


def _refused(actor: Actor, public_id: object, patient_id: int | None, purpose: str) -> NotFound:
    audit_denial(
        actor=actor,
        object_type=AuditObject.REFERRAL,
        object_id=str(public_id),
        patient_id=patient_id,
        detail={"purpose": purpose},
    )
    refusal = NotFound("No referral found.")
    refusal.audited = True
    return refusal


def referral_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "referral"
) -> tuple[Referral, PatientAccess]:
    """The referral, cut to what `actor` may see, and their access to its patient; NotFound (audited) when
    it is missing or its patient is not theirs to see. The read of the patient's record is audited."""
    referral = _referral_with_public_id(public_id)
    if referral is None:
        raise _refused(actor, public_id, None, purpose)
    try:
        access = patient_record_of(actor=actor, patient=referral.patient, purpose=purpose)
    except NotFound:
        raise _refused(actor, public_id, referral.patient_id, purpose) from None
    return referral_disclosed(referral, access), access


def referral_named(public_id: uuid.UUID | str | None) -> Referral | None:
    """The referral with `public_id`, or None, to hand to a service, which checks who is asking before it
    acts. Never for showing: use referral_for."""
    if not public_id:
        return None
    return _referral_with_public_id(public_id)


def referrals_of(access: PatientAccess) -> list[Referral]:
    """The patient's referrals, newest first, cut for the viewer."""
    referrals = Referral.objects.filter(patient=access.patient).select_related(*_RELATED)
    return [referral_disclosed(referral, access) for referral in referrals]


def referral_history(referral: Referral, access: PatientAccess) -> list[ReferralEvent]:
    """Each step, as the viewer may see it: without the clinical comments for non-clinical staff and
    without the hospital's internal notes for the patient (who sees the steps, not the words)."""
    events = list(referral.events.all())
    if not access.sees_clinical or _is_patient(access):
        for event in events:
            event.comment = ""
    return events


def referral_documents(referral: Referral, access: PatientAccess) -> list[ReferralDocument]:
    """Letters and attachments (without their bytes), for clinicians who may see the record."""
    if not access.sees_clinical or _is_patient(access):
        return []
    return _documents_without_content(referral)


def referral_document_for(
    *, actor: Actor, public_id: uuid.UUID | str
) -> tuple[ReferralDocument, Referral, PatientAccess]:
    """One document, with its bytes, for a clinician who may see its patient; NotFound (audited) otherwise."""
    try:
        document = ReferralDocument.objects.select_related("referral").get(public_id=public_id)
    except (ReferralDocument.DoesNotExist, ValueError, ValidationError):
        raise _refused(actor, public_id, None, "referral document") from None
    referral, access = referral_for(actor=actor, public_id=document.referral.public_id, purpose="referral document")
    if not access.sees_clinical or _is_patient(access):
        raise _refused(actor, public_id, referral.patient_id, "referral document")
    return document, referral, access


# --- The hospital's worklist and the arrival pack --------------------------------------------------------


def _urgency(referral: Referral) -> tuple[int, float, int]:
    """Most urgent first, then the nearest its target (or furthest past it), then the longest waiting."""
    rank = PRIORITY_RANK[ReferralPriority(referral.priority)]
    return (rank, -referral.wait_days / max(referral.target_days, 1), referral.pk)


def referral_worklist(*, actor: Actor, speciality: str = "") -> tuple[list[Referral], list[str]]:
    """The open referrals to the actor's hospital, per service (`speciality`, or all), ordered by priority
    and by how far each has waited against its target; and the services that have any. NotFound
    for anyone not working at a hospital. One audit row per patient shown."""
    user = actor.user
    facility_id = works_referral_worklist(user)
    if facility_id is None:
        audit_denial(actor=actor, object_type=AuditObject.REFERRAL_WORKLIST, detail={"speciality": speciality})
        refusal = NotFound("There is no referral worklist for you.")
        refusal.audited = True
        raise refusal
    open_here = Referral.objects.filter(receiving_facility_id=facility_id, status__in=OPEN_STATUSES)
    # visible_patients narrows a queryset of patients (its checks correlate on the patient's pk).
    referred = Patient.objects.filter(pk__in=open_here.values("patient_id"))
    open_here = open_here.filter(patient__in=visible_patients(referred, user).values("pk"))
    services = sorted(set(open_here.values_list("speciality", flat=True)) - {""})
    if speciality:
        open_here = open_here.filter(speciality=speciality)
    viewer = viewer_of(user)
    referrals = sorted(
        (referral_disclosed(referral, viewer) for referral in open_here.select_related(*_RELATED)), key=_urgency
    )
    audit_search(
        actor=actor,
        object_type=AuditObject.REFERRAL_WORKLIST,
        criteria={"speciality": speciality},
        patient_ids=[referral.patient_id for referral in referrals],
    )
    return referrals, services


def referrals_for_appointments(appointment_ids: list[int], viewer: Viewer) -> dict[int, Referral]:
    """The referral each appointment is for (a clinic list shows them beside the patient), cut for the
    viewer. The caller has already checked the viewer may see these appointments' patients."""
    referrals = Referral.objects.filter(appointment_id__in=appointment_ids).select_related(*_RELATED)
    return {referral.appointment_id: referral_disclosed(referral, viewer) for referral in referrals}  # type: ignore[misc]


@dataclass(frozen=True)
class ReferralPack:
    """What the consultant needs when a referred patient arrives, without a search."""

    referral: Referral
    access: PatientAccess
    documents: list[ReferralDocument]
    medicines: list[Prescription]
    allergies: list[Allergy]
    problems: list[Condition]


def referral_pack_for(*, actor: Actor, public_id: uuid.UUID | str) -> ReferralPack:
    """The referral with the patient's current medicines, allergies and problems, for a clinician who may
    see the record clinically; NotFound (audited) for anyone else (reception has the administrative view)."""
    referral, access = referral_for(actor=actor, public_id=public_id, purpose="referral pack")
    if not access.sees_clinical or _is_patient(access):
        raise _refused(actor, public_id, referral.patient_id, "referral pack")
    patient = referral.patient
    return ReferralPack(
        referral=referral,
        access=access,
        documents=_documents_without_content(referral),
        medicines=active_prescriptions(patient),
        allergies=allergies_recorded(patient),
        problems=active_problems(patient),
    )


# --- How each channel is going -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelStatus:
    channel: str  # "Email" or "Electronic record"
    what: str  # the message, in words
    status: str
    status_words: str
    attempts: int
    sent_at: object
    last_error: str
    next_attempt_at: object
    given_up_reason: str
    public_id: uuid.UUID
    kind: str  # "email" or "fhir", for the administrator's give-up and retry


def referral_deliveries(referral: Referral) -> list[ChannelStatus]:
    """Every message this referral sent, on each channel, and how its delivery is going. Not patient
    content: the subjects name the UBRN only. The caller has checked the viewer may see the referral."""
    emails = OutboundEmail.objects.filter(idempotency_key__startswith=f"referral:{referral.public_id}:").order_by(
        "created_at", "pk"
    )
    messages = OutboundFhir.objects.filter(object_id=str(referral.public_id)).select_related("endpoint")
    rows = [
        ChannelStatus(
            channel="Email",
            what=email.subject,
            status=email.status,
            status_words=email.get_status_display(),
            attempts=email.attempts,
            sent_at=email.sent_at,
            last_error=email.last_error,
            next_attempt_at=email.next_attempt_at,
            given_up_reason=email.given_up_reason,
            public_id=email.public_id,
            kind="email",
        )
        for email in emails
    ] + [
        ChannelStatus(
            channel="Electronic record",
            what=f"{message.description} (to {message.endpoint.label})",
            status=message.status,
            status_words=message.get_status_display(),
            attempts=message.attempts,
            sent_at=message.sent_at,
            last_error=message.last_error,
            next_attempt_at=message.next_attempt_at,
            given_up_reason=message.given_up_reason,
            public_id=message.public_id,
            kind="fhir",
        )
        for message in messages.order_by("created_at", "pk")
    ]
    return rows
