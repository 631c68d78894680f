"""Reads of prescriptions and repeat requests, for viewers who may see them."""

import uuid

from django.db.models import QuerySet, prefetch_related_objects

from carebridge.access.rules import PatientAccess, visible_patients, works_repeat_queue
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_search
from carebridge.clinical.selectors import clinical_record_for
from carebridge.core.actor import Actor
from carebridge.core.prepared import PreparedQuery
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription, RepeatRequest, RepeatRequestStatus
from carebridge.prescribing.safety import active_prescriptions


def prescriptions_of(access: PatientAccess) -> list[Prescription] | None:
    """Every prescription, newest first, with its overrides; None for a viewer who may not see them."""
    if not access.sees_clinical:
        return None
    return list(
        Prescription.objects.filter(patient=access.patient)
        .select_related("prescriber", "condition")
        .prefetch_related("overrides")
    )


def current_medicines(access: PatientAccess) -> list[Prescription] | None:
    if not access.sees_clinical:
        return None
    return active_prescriptions(access.patient)


def repeat_requests_of(access: PatientAccess) -> list[RepeatRequest] | None:
    if not access.sees_clinical:
        return None
    return list(
        RepeatRequest.objects.filter(patient=access.patient)
        .select_related("prescription", "issued")
        .order_by("-requested_at")
    )


def repeat_queue(*, surgery_id: int) -> QuerySet[RepeatRequest]:
    """Requests waiting at a surgery, oldest first. The caller narrows them to patients it may see."""
    return RepeatRequest.objects.filter(surgery_id=surgery_id, status=RepeatRequestStatus.PENDING).select_related(
        "patient", "prescription"
    )


def prescription_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "prescription"
) -> tuple[Prescription, PatientAccess]:
    """A prescription for someone who may see its patient's clinical record; NotFound (audited) when it is
    missing, its patient is not visible to them, or they may not see clinical content (reception)."""
    return clinical_record_for(
        Prescription.objects.select_related(
            "prescriber__workplace", "condition", "consultation", "previous"
        ).prefetch_related("overrides__overridden_by"),
        actor=actor,
        public_id=public_id,
        purpose=purpose,
        object_type=AuditObject.PRESCRIPTION,
        missing="No prescription found.",
    )


def repeat_request_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "repeat request"
) -> tuple[RepeatRequest, PatientAccess]:
    """A repeat request, checked as prescription_for checks a prescription."""
    return clinical_record_for(
        RepeatRequest.objects.select_related("prescription", "surgery", "decided_by", "issued"),
        actor=actor,
        public_id=public_id,
        purpose=purpose,
        object_type=AuditObject.REPEAT_REQUEST,
        missing="No repeat request found.",
    )


def repeat_queue_for(*, actor: Actor) -> list[RepeatRequest]:
    """The requests waiting at the surgery `actor` prescribes at, for patients they may see, oldest
    first; empty for anyone who does not work that queue (access.rules.works_repeat_queue). The list is
    recorded against each patient on it, as every list of patients is."""
    user = actor.user
    if user is None or not works_repeat_queue(user):
        return []
    surgery = user.clinician.workplace
    waiting = list(
        repeat_queue(surgery_id=surgery.pk)
        .filter(patient__in=visible_patients(Patient.objects.all(), user))
        .select_related("surgery", "decided_by", "issued", "prescription__prescriber")
    )
    audit_search(
        actor=actor,
        object_type=AuditObject.REPEAT_REQUEST,
        object_id=str(surgery.public_id),
        criteria={"queue": "repeat requests"},
        patient_ids=[request.patient_id for request in waiting],
    )
    return waiting


# Every prescription the API issues, reissues or changes is shown from this: compiled once per process
# (carebridge/core/prepared.py). Compiling it on each request was a third of issuing a prescription.
_PRESCRIPTION_WHOLE = PreparedQuery(
    lambda pk: Prescription.objects.select_related(
        "patient", "prescriber", "condition", "consultation", "previous"
    ).filter(pk=pk),
    pk=int,
)


def prescription_shown_whole(prescription: Prescription) -> Prescription:
    """The prescription a service has just written or changed (and so checked who asked), read again with
    what showing it needs: its patient, prescriber, problem, consultation, the issue it follows, and its
    overrides with who made them."""
    found = _PRESCRIPTION_WHOLE.one_or_none(pk=prescription.pk)
    if found is None:
        raise Prescription.DoesNotExist("The prescription is no longer there.")
    prefetch_related_objects([found], "overrides__overridden_by")
    return found
