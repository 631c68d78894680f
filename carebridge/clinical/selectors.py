"""Reads of the clinical record, for a viewer who may see it (access.rules: Disclosure.CLINICAL).

Each takes the viewer's PatientAccess and answers None when the viewer may not see clinical content, so
an edge cannot show what it was never given.
"""

import uuid
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet

from carebridge.access.rules import PatientAccess
from carebridge.access.selectors import patient_record_for
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.clinical.models import Allergy, Condition, ConditionStatus, Consultation
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound
from carebridge.core.fields import public_id_from
from carebridge.core.prepared import PreparedQuery
from carebridge.patients.models import Patient

Record = TypeVar("Record", bound=Model)


@dataclass(frozen=True)
class ClinicalRecord:
    allergies: list[Allergy]
    active_problems: list[Condition]
    resolved_problems: list[Condition]
    consultations: list[Consultation]


def clinical_record(access: PatientAccess, *, consultations: int = 20) -> ClinicalRecord | None:
    if not access.sees_clinical:
        return None
    patient = access.patient
    problems = list(Condition.objects.filter(patient=patient).order_by("-recorded_at"))
    return ClinicalRecord(
        allergies=allergies_recorded(patient),
        active_problems=[problem for problem in problems if problem.status == ConditionStatus.ACTIVE],
        resolved_problems=[problem for problem in problems if problem.status == ConditionStatus.RESOLVED],
        consultations=list(
            Consultation.objects.filter(patient=patient).select_related("clinician", "facility", "condition")[
                :consultations
            ]
        ),
    )


def allergies_of(access: PatientAccess) -> list[Allergy] | None:
    """Shown prominently wherever a prescriber works."""
    if not access.sees_clinical:
        return None
    return allergies_recorded(access.patient)


# --- Fetch and check: one record of the clinical record, for someone who may see it ---------------------


def _refused(
    actor: Actor, object_type: AuditObject, public_id: object, patient_id: int | None, purpose: str, missing: str
) -> NotFound:
    audit_denial(
        actor=actor,
        object_type=object_type,
        object_id=str(public_id),
        patient_id=patient_id,
        detail={"purpose": purpose},
    )
    refusal = NotFound(missing)
    refusal.audited = True
    return refusal


def clinical_access_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str) -> PatientAccess:
    """The patient's record for someone who may see its clinical part; NotFound (audited) for anyone else,
    as for a patient they may not see at all: a receptionist does not learn whether there is anything."""
    access = patient_record_for(actor=actor, public_id=public_id, purpose=purpose)
    if not access.sees_clinical:
        raise _refused(
            actor,
            AuditObject.PATIENT,
            access.patient.public_id,
            access.patient.pk,
            f"{purpose} (clinical)",
            "No patient record found.",
        )
    return access


def clinical_record_for(
    queryset: "QuerySet[Record]",
    *,
    actor: Actor,
    public_id: uuid.UUID | str,
    purpose: str,
    object_type: AuditObject,
    missing: str,
) -> tuple[Record, PatientAccess]:
    """One record of a patient's clinical record (its model has a `patient`), fetched by public id and
    checked: missing, of a patient `actor` may not see, or clinical content they may not see, all answer
    NotFound with `missing`, and each refusal is audited. The patient's record read is audited as ever."""
    try:
        record = queryset.select_related("patient").get(public_id=public_id)
    except (ObjectDoesNotExist, ValueError, ValidationError):
        raise _refused(actor, object_type, public_id, None, purpose, missing) from None
    patient: Patient = record.patient  # type: ignore[attr-defined]
    access = patient_record_for(actor=actor, public_id=patient.public_id, purpose=purpose)
    if not access.sees_clinical:
        raise _refused(actor, object_type, public_id, patient.pk, purpose, missing)
    return record, access


def consultation_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "consultation"
) -> tuple[Consultation, PatientAccess]:
    return clinical_record_for(
        Consultation.objects.select_related("clinician", "facility", "condition", "appointment"),
        actor=actor,
        public_id=public_id,
        purpose=purpose,
        object_type=AuditObject.CONSULTATION,
        missing="No consultation found.",
    )


def condition_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "condition"
) -> tuple[Condition, PatientAccess]:
    return clinical_record_for(
        Condition.objects.select_related("recorded_by"),
        actor=actor,
        public_id=public_id,
        purpose=purpose,
        object_type=AuditObject.CONDITION,
        missing="No such problem on the record.",
    )


def allergy_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str = "allergy") -> tuple[Allergy, PatientAccess]:
    return clinical_record_for(
        Allergy.objects.select_related("recorded_by"),
        actor=actor,
        public_id=public_id,
        purpose=purpose,
        object_type=AuditObject.ALLERGY,
        missing="No such allergy on the record.",
    )


# --- Naming a record to a service --------------------------------------------------------------------


# A prescription names its problem and may name its consultation: compiled once per process
# (carebridge/core/prepared.py).
_CONDITION_OF_PATIENT = PreparedQuery(
    lambda patient_id, public_id: Condition.objects.filter(patient_id=patient_id, public_id=public_id),
    patient_id=int,
    public_id=uuid.UUID,
)
_CONSULTATION_OF_PATIENT = PreparedQuery(
    lambda patient_id, public_id: Consultation.objects.filter(patient_id=patient_id, public_id=public_id),
    patient_id=int,
    public_id=uuid.UUID,
)


def _of_patient(query: PreparedQuery[Record], patient: Patient, public_id: uuid.UUID | str | None) -> Record | None:
    parsed = public_id_from(public_id) if public_id else None
    return None if parsed is None else query.one_or_none(patient_id=patient.pk, public_id=parsed)


def condition_named(patient: Patient, public_id: uuid.UUID | str | None) -> Condition | None:
    """The patient's problem with `public_id`, or None, to hand to a service (prescription_issue), which
    checks who is asking before it looks at it. Never for showing: use condition_for."""
    return _of_patient(_CONDITION_OF_PATIENT, patient, public_id)


def consultation_named(patient: Patient, public_id: uuid.UUID | str | None) -> Consultation | None:
    """The patient's consultation with `public_id`, or None; as condition_named, for a service only."""
    return _of_patient(_CONSULTATION_OF_PATIENT, patient, public_id)


# --- For a service or a document whose caller has checked access -----------------------------------------

# Every prescription's allergy check, every referral letter and every arrival pack reads these: compiled
# once per process.
_ALLERGIES = PreparedQuery(
    lambda patient_id: Allergy.objects.filter(patient_id=patient_id).order_by("display"), patient_id=int
)
_ACTIVE_PROBLEMS = PreparedQuery(
    lambda patient_id: Condition.objects.filter(patient_id=patient_id, status=ConditionStatus.ACTIVE).order_by(
        "display"
    ),
    patient_id=int,
)


def allergies_recorded(patient: Patient) -> list[Allergy]:
    """Every allergy on the patient's record, by name."""
    return _ALLERGIES.all(patient_id=patient.pk)


def active_problems(patient: Patient) -> list[Condition]:
    """The patient's active problems, by name."""
    return _ACTIVE_PROBLEMS.all(patient_id=patient.pk)
