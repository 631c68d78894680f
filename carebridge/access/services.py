"""Emergency ("break-glass") access: a clinician opens a record outside their relationships by stating why.

The grant lasts BREAK_GLASS_HOURS, is shown to the patient in their access log, and is reviewed by the
privacy officer.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction

from carebridge.access.models import BreakGlassAccess, ReviewOutcome
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock, nhs_number
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.core.roles import CLINICAL_ROLES, Role, role_of
from carebridge.patients.models import Patient

MINIMUM_REASON_LENGTH = 15


@refusals_audited(AuditObject.BREAK_GLASS)
@transaction.atomic
def break_glass_open(*, actor: Actor, nhs_number_text: str, reason: str) -> BreakGlassAccess:
    """Grant the clinician time-limited access to one patient's record, flagged for privacy review."""
    clinician_user = actor.user
    if clinician_user is None or role_of(clinician_user) not in CLINICAL_ROLES:
        raise NotFound("Only clinicians may use emergency access.")
    reason = reason.strip()
    number = nhs_number.normalise(nhs_number_text)
    if len(reason) < MINIMUM_REASON_LENGTH:
        raise Invalid(
            "Say why you need this record now.",
            fields={"reason": "Say why you need this record now, in a sentence the privacy officer will understand."},
        )
    patient = Patient.objects.filter(nhs_number=number).first() if number else None
    if patient is None:
        # Audited as every denial is; a clinician in an emergency may learn that no such patient is here.
        raise NotFound(
            "No patient with this NHS number was found.",
            fields={"nhs_number": "No patient with this NHS number was found."},
        )
    now = clock.now()
    grant = BreakGlassAccess.objects.create(
        clinician_user=clinician_user,
        patient=patient,
        reason=reason,
        opened_at=now,
        expires_at=now + dt.timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    audit_record(
        actor=actor,
        action=AuditAction.BREAK_GLASS,
        object_type=AuditObject.PATIENT,
        object_id=str(patient.public_id),
        patient_id=patient.pk,
        reason=reason,
        detail={"grant": grant.pk, "expires_at": grant.expires_at.isoformat()},
    )
    return grant


@refusals_audited(AuditObject.BREAK_GLASS)
@transaction.atomic
def break_glass_review(*, actor: Actor, grant_id: int, outcome: str, note: str) -> BreakGlassAccess:
    """The privacy officer records what they concluded about an emergency access: appropriate,
    inappropriate, or needs follow-up, with a note (required unless the access was appropriate).

    A grant that needs follow-up is reviewed again later, until it is settled one way or the other; a
    settled grant is not reviewed again. Each review adds its dated note to the grant and is audited.
    """
    if role_of(actor.user) != Role.PRIVACY_OFFICER:
        raise NotPermitted("Only the privacy officer reviews emergency access.")
    note = note.strip()
    errors: dict[str, str] = {}
    if outcome not in ReviewOutcome.values:
        errors["outcome"] = "Choose whether the access was appropriate, inappropriate, or needs follow-up."
    elif not note and outcome != ReviewOutcome.APPROPRIATE:
        errors["note"] = (
            "Write why the access was inappropriate, and what happens next."
            if outcome == ReviewOutcome.INAPPROPRIATE
            else "Write what needs following up, and with whom."
        )
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    grant = BreakGlassAccess.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("No such emergency access.")
    if grant.reviewed_at is not None and grant.review_outcome != ReviewOutcome.NEEDS_FOLLOW_UP:
        raise Invalid(
            "This access has already been reviewed.", fields={"outcome": "This access has already been reviewed."}
        )
    now = clock.now()
    label = ReviewOutcome(outcome).label
    entry = f"{now.astimezone(clock.LONDON):%d %b %Y}, {label}" + (f": {note}" if note else "")
    grant.reviewed_by = actor.user
    grant.reviewed_at = now
    grant.review_outcome = outcome
    grant.review_note = f"{grant.review_note}\n{entry}" if grant.review_note else entry
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_outcome", "review_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.BREAK_GLASS,
        object_id=str(grant.pk),
        patient_id=grant.patient_id,
        reason=note or label,
        detail={"review_outcome": outcome, "clinician": grant.clinician_user_id},
    )
    return grant
