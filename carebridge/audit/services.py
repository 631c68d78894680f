"""Writing the audit trail. Every service calls audit_record() inside its own transaction."""

from typing import Any

from carebridge.core.roles import role_of
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor


def audit_record(*, actor: Actor, action: AuditAction, object_type: str, object_id: str = "",
                 patient_id: int | None = None, reason: str = "", detail: dict[str, Any] | None = None
                 ) -> AuditEvent:
    user = actor.user
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=user,
        actor_label=user.username if user else f"({actor.channel})",
        actor_role=role_of(user).value if user else "",
        channel=actor.channel,
        ip_address=actor.ip_address,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        reason=reason,
        detail=detail or {},
    )


def audit_sign_in(*, actor: Actor) -> AuditEvent:
    return audit_record(actor=actor, action=AuditAction.SIGN_IN, object_type="session")


def audit_sign_out(*, actor: Actor) -> AuditEvent:
    return audit_record(actor=actor, action=AuditAction.SIGN_OUT, object_type="session")


def audit_sign_in_failed(*, actor: Actor, username: str) -> AuditEvent:
    # The attempted username is kept so a privacy officer can see guessing against one account.
    return audit_record(actor=actor, action=AuditAction.SIGN_IN_FAILED, object_type="session",
                        detail={"username": username})


def audit_denial(*, actor: Actor, object_type: str, object_id: str = "", patient_id: int | None = None,
                 detail: dict[str, Any] | None = None) -> AuditEvent:
    """A refusal: the caller answers 404 after this, so nobody learns what was there."""
    return audit_record(actor=actor, action=AuditAction.DENY, object_type=object_type, object_id=object_id,
                        patient_id=patient_id, detail=detail)
