"""Break-glass: a clinician opens a record outside their relationships by stating why."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from carebridge.core.roles import CLINICAL_ROLES, Role, role_of
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.records.models import BreakGlassAccess

MINIMUM_REASON_LENGTH = 15


def break_glass_open(*, actor: Actor, nhs_number_text: str, reason: str) -> BreakGlassAccess:
    """Grant the clinician time-limited access to one patient's record, flagged for privacy review.

    Raises ValidationError when the reason is too thin or no patient has that NHS number; a failed
    attempt is audited outside any transaction, so raising does not undo its audit row.
    """
    if role_of(actor.user) not in CLINICAL_ROLES:
        raise PermissionDenied("Only clinicians may use emergency access.")
    reason = reason.strip()
    number = nhs_number.normalise(nhs_number_text)
    if len(reason) < MINIMUM_REASON_LENGTH:
        raise ValidationError({"reason": "Say why you need this record now, in a sentence the privacy "
                                         "officer will understand."})
    patient = Patient.objects.filter(nhs_number=number).first() if number else None
    if patient is None:
        audit_denial(actor=actor, object_type="break_glass", detail={"nhs_number": number, "reason": reason})
        raise ValidationError({"nhs_number": "No patient with this NHS number was found."})
    with transaction.atomic():
        now = clock.now()
        grant = BreakGlassAccess.objects.create(
            clinician_user=actor.user, patient=patient, reason=reason, opened_at=now,
            expires_at=now + dt.timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        audit_record(actor=actor, action=AuditAction.BREAK_GLASS, object_type="patient",
                     object_id=str(patient.public_id), patient_id=patient.pk, reason=reason,
                     detail={"grant": grant.pk, "expires_at": grant.expires_at.isoformat()})
    return grant


@transaction.atomic
def break_glass_review(*, actor: Actor, grant_id: int, note: str) -> BreakGlassAccess:
    """The privacy officer records that an emergency access was reviewed, and what they concluded."""
    if role_of(actor.user) != Role.PRIVACY_OFFICER:
        raise PermissionDenied("Only the privacy officer reviews emergency access.")
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Write what you concluded, for example 'Appropriate: A&E attendance'."})
    grant = BreakGlassAccess.objects.select_for_update().get(pk=grant_id)
    if grant.reviewed_at is not None:
        raise ValidationError({"note": "This access has already been reviewed."})
    grant.reviewed_by = actor.user
    grant.reviewed_at = clock.now()
    grant.review_note = note
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_record(actor=actor, action=AuditAction.UPDATE, object_type="break_glass", object_id=str(grant.pk),
                 patient_id=grant.patient_id, reason=note)
    return grant
