"""Fetch a patient for someone and check their access in one call, auditing the read or the refusal.

A record that is missing and one that is forbidden raise the same NotFound (a 404 at every edge), so
nobody learns that a patient exists.
"""

import uuid

from carebridge.access.rules import Action, PatientAccess, access_for, refusal
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound, NotPermitted
from carebridge.core.fields import public_id_from
from carebridge.core.prepared import PreparedQuery
from carebridge.patients.models import Patient


def patient_record_for(*, actor: Actor, public_id: uuid.UUID | str, purpose: str = "record") -> PatientAccess:
    """The patient with `public_id` as `actor` may see them; the read is audited, and so is a refusal."""
    return patient_record_of(actor=actor, patient=_fetch(public_id), public_id=public_id, purpose=purpose)


def patient_record_of(
    *, actor: Actor, patient: Patient | None, public_id: uuid.UUID | str = "", purpose: str = "record"
) -> PatientAccess:
    """As patient_record_for, for a patient already fetched with what it holds (a referral's, read with
    its registered surgery): the check and the audit, without reading the patient again."""
    public_id = public_id or (patient.public_id if patient is not None else "")
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


# Every read of a record starts here: its SQL is compiled once per process (carebridge/core/prepared.py).
_PATIENT = PreparedQuery(
    lambda public_id: Patient.objects.select_related("registered_surgery").filter(public_id=public_id),
    public_id=uuid.UUID,
)


def _fetch(public_id: uuid.UUID | str) -> Patient | None:
    parsed = public_id_from(public_id)
    return None if parsed is None else _PATIENT.one_or_none(public_id=parsed)


def require_permitted(
    actor: Actor,
    access: PatientAccess,
    action: Action,
    object_type: AuditObject,
    object_id: str = "",
    *,
    facility_id: int | None = None,
    clinician_id: int | None = None,
    message: str = "",
    operation: str = "",
) -> None:
    """Refuse a page's form before it is filled in when the service would refuse it: NotPermitted (403),
    audited as the service's own refusal is (the same row, whichever channel). `message`, if given, says
    it in the page's own words instead of the rule's. The service checks again when the form is sent."""
    assert actor.user is not None
    problem = refusal(access, actor.user, action, facility_id=facility_id, clinician_id=clinician_id)
    if problem is None:
        return
    problem = message or problem
    audit_denial(
        actor=actor,
        object_type=object_type,
        object_id=object_id or str(access.patient.public_id),
        patient_id=access.patient.pk,
        detail={"operation": operation or action.value, "refusal": NotPermitted.code, "message": problem},
    )
    denied = NotPermitted(problem)
    denied.audited = True
    raise denied
