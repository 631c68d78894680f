"""Everything Carebridge holds about one patient, uncut: what a subject access copy and FHIR
Patient/$everything are made from.

Uncut on purpose: the patient has a right to all of it, and only the people the access layer lets ask for
it (access.rules: Action.RELEASE_RECORD_COPY and Action.EXPORT_RECORD) ever call this. Each list is one
query, whatever the size of the record.
"""

from dataclasses import dataclass

from django.db.models import Prefetch

from carebridge.audit.models import AuditEvent
from carebridge.clinical.models import Allergy, Condition, Consultation
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription, RepeatRequest, SafetyOverride
from carebridge.referrals.models import Referral, ReferralDocument
from carebridge.scheduling.models import Appointment


@dataclass(frozen=True)
class WholeRecord:
    patient: Patient
    appointments: list[Appointment]  # every state: booked, attended, cancelled, missed
    consultations: list[Consultation]
    conditions: list[Condition]
    allergies: list[Allergy]
    prescriptions: list[Prescription]  # with the safety warnings overridden for each
    repeat_requests: list[RepeatRequest]
    referrals: list[Referral]  # with their history (events) and documents (without their bytes)
    # Who read, found, changed, exported or was refused the record: the audit trail about this patient.
    access_log: list[AuditEvent]


def whole_record(patient: Patient) -> WholeRecord:
    patient = Patient.objects.select_related("registered_surgery").get(pk=patient.pk)
    return WholeRecord(
        patient=patient,
        appointments=list(
            Appointment.objects.filter(patient=patient)
            .select_related("patient", "clinician", "facility")
            .order_by("starts_at", "pk")
        ),
        consultations=list(
            Consultation.objects.filter(patient=patient)
            .select_related("patient", "clinician", "facility", "appointment", "condition")
            .order_by("started_at", "pk")
        ),
        conditions=list(
            Condition.objects.filter(patient=patient).select_related("patient", "recorded_by").order_by("recorded_at")
        ),
        allergies=list(
            Allergy.objects.filter(patient=patient).select_related("patient", "recorded_by").order_by("recorded_at")
        ),
        prescriptions=list(
            Prescription.objects.filter(patient=patient)
            .select_related("patient", "prescriber", "consultation", "condition", "previous")
            .prefetch_related(
                Prefetch("overrides", queryset=SafetyOverride.objects.select_related("overridden_by").order_by("pk"))
            )
            .order_by("prescribed_on", "pk")
        ),
        repeat_requests=list(
            RepeatRequest.objects.filter(patient=patient)
            .select_related("prescription", "decided_by")
            .order_by("requested_at", "pk")
        ),
        referrals=list(
            Referral.objects.filter(patient=patient)
            .select_related(
                "patient",
                "referring_clinician",
                "receiving_clinician",
                "referring_facility",
                "receiving_facility",
                "triaged_by",
                "appointment",
            )
            .prefetch_related(
                "events", Prefetch("documents", queryset=ReferralDocument.objects.defer("content").order_by("pk"))
            )
            .order_by("referral_date", "pk")
        ),
        access_log=list(AuditEvent.objects.filter(patient_id=patient.pk).select_related("actor").order_by("at", "pk")),
    )
