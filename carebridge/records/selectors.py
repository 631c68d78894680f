"""What a patient's record page shows, already cut to what the viewer may see."""

import datetime as dt
from dataclasses import dataclass

from carebridge.access.rules import PatientAccess, Relationship, who_can_see
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.selectors import ClinicalRecord, clinical_record
from carebridge.patients.selectors import merged_record_ids
from carebridge.prescribing.models import Prescription
from carebridge.prescribing.selectors import current_medicines, prescriptions_of
from carebridge.referrals.models import Referral
from carebridge.referrals.selectors import referral_disclosed
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.selectors import appointments_disclosed


@dataclass(frozen=True)
class PatientRecord:
    """A record as one viewer is handed it: what they may not see is not in it at all."""

    access: PatientAccess
    appointments: list[Appointment]
    prescriptions: list[Prescription] | None  # None: not the viewer's to see
    # Allergies, problems and consultations; None, as above, for non-clinical viewers.
    clinical: ClinicalRecord | None
    current_medicines: list[Prescription] | None
    referrals: list[Referral]
    # For the patient themself: everyone who may see their record now, and why.
    who_can_see: list[Relationship] | None


def patient_record(access: PatientAccess) -> PatientRecord:
    patient = access.patient
    appointments = appointments_disclosed(
        Appointment.objects.filter(patient=patient).select_related("clinician", "facility").order_by("-starts_at"),
        access,
    )
    referrals = [
        referral_disclosed(referral, access)
        for referral in Referral.objects.filter(patient=patient).select_related(
            "receiving_facility", "receiving_clinician", "referring_clinician", "referring_facility", "appointment"
        )
    ]
    return PatientRecord(
        access=access,
        appointments=appointments,
        prescriptions=prescriptions_of(access),
        clinical=clinical_record(access),
        current_medicines=current_medicines(access),
        referrals=referrals,
        who_can_see=who_can_see(patient) if access.is_own_record else None,
    )


# What a patient is shown of who looked at their record: reads, the searches and lists that showed them,
# emergency access and changes.
ACCESS_LOG_ACTIONS = (
    AuditAction.VIEW,
    AuditAction.SEARCH,
    AuditAction.BREAK_GLASS,
    AuditAction.CREATE,
    AuditAction.UPDATE,
)

# How each kind of search or list that showed the patient is put to them.
_FOUND_BY: dict[str, str] = {
    AuditObject.PATIENT: "found your record in a search",
    AuditObject.APPOINTMENT: "found your appointments in a search",
    AuditObject.DAY_LIST: "saw your appointment on the reception day list",
    AuditObject.CLINICIAN_DAY: "saw your appointment on their list for the day",
    AuditObject.REBOOKING_LIST: "saw your appointment on the list of appointments to rebook",
}
_DID: dict[str, str] = {AuditAction.VIEW: "looked at", AuditAction.CREATE: "created", AuditAction.UPDATE: "changed"}


@dataclass(frozen=True)
class AccessLogEntry:
    """One line of "who has looked at my record", in the patient's words."""

    at: dt.datetime
    who: str
    role: str
    what: str
    reason: str


def _what_for_patient(event: AuditEvent) -> str:
    if event.action == AuditAction.SEARCH:
        return _FOUND_BY.get(event.object_type, "found you in a search")
    if event.action == AuditAction.BREAK_GLASS:
        return "opened your record in an emergency"
    thing = "record" if event.object_type == AuditObject.PATIENT else event.get_object_type_display().lower()
    return f"{_DID.get(event.action, event.get_action_display().lower())} your {thing}"


def record_access_log(access: PatientAccess, limit: int = 100) -> list[AccessLogEntry]:
    if not access.is_own_record:
        raise ValueError("the access log is shown to the patient themself")
    # A kept record's history includes that of the records merged into it (the trail is never rewritten).
    events = AuditEvent.objects.filter(
        patient_id__in=merged_record_ids(access.patient), action__in=ACCESS_LOG_ACTIONS
    ).select_related("actor")[:limit]
    return [
        AccessLogEntry(
            at=event.at,
            who=(event.actor.get_full_name() if event.actor else "") or event.actor_label,
            role=event.role_label,
            what=_what_for_patient(event),
            reason=event.reason,
        )
        for event in events
    ]
