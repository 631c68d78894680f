"""Fetch a patient for someone and check their access in one call, auditing the read or the refusal.

A record that is missing and one that is forbidden raise the same NotFound (a 404 at every edge), so
nobody learns that a patient exists.
"""

import uuid

from django.core.exceptions import ValidationError

from carebridge.access.rules import PatientAccess, access_for
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound
from carebridge.patients.models import Patient


def patient_record_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str = "record") -> PatientAccess:
    """The patient with `public_id` as `actor` may see them; the read is audited, and so is a refusal."""
    patient = _fetch(public_id)
    access = access_for(actor.user, patient) if patient is not None else None
    if patient is None or access is None:
        audit_denial(
            actor=actor,
            object_type=AuditObject.PATIENT,
            object_id=str(public_id),
            patient_id=patient.pk if patient is not None else None,
            detail={"purpose": purpose},
        )
        refusal = NotFound("No patient record found.")
        refusal.audited = True
        raise refusal
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        detail={
            "purpose": purpose,
            "clinical": access.sees_clinical,
            "break_glass": access.via_break_glass,
            "why": sorted({relationship.why.value for relationship in access.relationships}),
        },
    )
    return access


def _fetch(public_id: uuid.UUID | str) -> Patient | None:
    try:
        return Patient.objects.select_related("registered_surgery").get(public_id=public_id)
    except (Patient.DoesNotExist, ValueError, ValidationError):
        return None
