"""What a patient's record page shows, already cut to what the viewer may see."""

from dataclasses import dataclass

from django.db.models import QuerySet

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.prescribing.models import Prescription
from carebridge.records.access import PatientRecordAccess
from carebridge.referrals.models import Referral
from carebridge.scheduling.models import Appointment


@dataclass(frozen=True)
class PatientRecord:
    access: PatientRecordAccess
    appointments: QuerySet[Appointment]
    prescriptions: QuerySet[Prescription] | None  # None: not the viewer's to see
    referrals: QuerySet[Referral]


def patient_record(access: PatientRecordAccess) -> PatientRecord:
    patient = access.patient
    appointments = (Appointment.objects.filter(patient=patient)
                    .select_related("clinician", "facility").order_by("-starts_at"))
    prescriptions = None
    if access.sees_clinical:
        prescriptions = Prescription.objects.filter(patient=patient).select_related("prescriber")
    referrals = (Referral.objects.filter(patient=patient)
                 .select_related("receiving_facility", "receiving_clinician", "referring_clinician",
                                 "referring_facility", "appointment"))
    return PatientRecord(access=access, appointments=appointments, prescriptions=prescriptions,
                         referrals=referrals)


# What a patient is shown of who looked at their record: reads, emergency access and changes.
ACCESS_LOG_ACTIONS = (AuditAction.VIEW, AuditAction.BREAK_GLASS, AuditAction.CREATE, AuditAction.UPDATE)


def record_access_log(access: PatientRecordAccess, limit: int = 100) -> QuerySet[AuditEvent]:
    if not access.is_own_record:
        raise ValueError("the access log is shown to the patient themself")
    return AuditEvent.objects.filter(patient_id=access.patient.pk, action__in=ACCESS_LOG_ACTIONS)[:limit]
