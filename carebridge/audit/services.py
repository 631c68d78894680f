"""Writing the audit trail. Every service calls audit_record() inside its own transaction."""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.roles import role_of


def _vocabulary(object_type: AuditObject) -> AuditObject:
    # Typing is the main guard; this stops a plain string that slipped past it from writing a row the
    # trail cannot label (a str that happens to equal a value is refused too, so there is one way).
    if not isinstance(object_type, AuditObject):
        raise TypeError(f"object_type must be an AuditObject, not {object_type!r}")
    return object_type


def _without_nul(value: Any) -> Any:
    """The value with every NUL character taken out of its strings.

    PostgreSQL refuses NUL in text, so a row naming what a hostile request asked for (a NUL-bearing id)
    would fail to be written and the denial would go unrecorded. The input middleware refuses such
    requests first; this is the second line, so an audit row is always written."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nul(item) for item in value]
    return value


def _event(
    *,
    actor: Actor,
    action: AuditAction,
    object_type: AuditObject,
    object_id: str = "",
    patient_id: int | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    user = actor.user
    return AuditEvent(
        at=at or clock.now(),
        actor=user,
        actor_label=user.username if user else f"({actor.channel})",
        actor_role=role_of(user).value if user else "",
        channel=actor.channel,
        ip_address=actor.ip_address,
        action=action,
        object_type=_vocabulary(object_type),
        object_id=_without_nul(object_id),
        patient_id=patient_id,
        reason=_without_nul(reason),
        detail=_without_nul(detail or {}),
    )


def audit_record(
    *,
    actor: Actor,
    action: AuditAction,
    object_type: AuditObject,
    object_id: str = "",
    patient_id: int | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = _event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        reason=reason,
        detail=detail,
    )
    event.save(force_insert=True)
    return event


def _json_criteria(criteria: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in criteria.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, (list, tuple)):
            kept[key] = [str(item) for item in value]
        else:
            kept[key] = value if isinstance(value, (str, int, bool)) else str(value)
    return kept


def audit_search(
    *,
    actor: Actor,
    object_type: AuditObject,
    criteria: Mapping[str, Any],
    patient_ids: Iterable[int],
    object_id: str = "",
) -> list[AuditEvent]:
    """A search or list that showed patients, through any channel: one SEARCH row per patient it returned.

    Each row carries the patient, so the patient's own access log and the privacy officer's search by NHS
    number find it like any direct read; the rows of one search share `detail["search"]` and the
    criteria. A search that found nobody is still written, as one row without a patient, so probing for
    a record is on the trail too. All rows go in one INSERT.
    """
    patients: list[int | None] = [*sorted(set(patient_ids))]
    detail = {"criteria": _json_criteria(criteria), "results": len(patients), "search": uuid.uuid4().hex}
    at = clock.now()
    events = [
        _event(
            actor=actor,
            action=AuditAction.SEARCH,
            object_type=object_type,
            object_id=object_id,
            patient_id=patient_id,
            detail=detail,
            at=at,
        )
        for patient_id in (patients or [None])
    ]
    if len(events) == 1:  # the usual lookup: one INSERT, without bulk_create's transaction around it
        events[0].save(force_insert=True)
        return events
    return AuditEvent.objects.bulk_create(events)


def audit_sign_in(*, actor: Actor) -> AuditEvent:
    return audit_record(actor=actor, action=AuditAction.SIGN_IN, object_type=AuditObject.SIGN_IN)


def audit_sign_out(*, actor: Actor) -> AuditEvent:
    return audit_record(actor=actor, action=AuditAction.SIGN_OUT, object_type=AuditObject.SIGN_IN)


def audit_sign_in_failed(*, actor: Actor, username: str) -> AuditEvent:
    # The attempted username is kept so a privacy officer can see guessing against one account.
    return audit_record(
        actor=actor, action=AuditAction.SIGN_IN_FAILED, object_type=AuditObject.SIGN_IN, detail={"username": username}
    )


def audit_denial(
    *,
    actor: Actor,
    object_type: AuditObject,
    object_id: str = "",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """A refusal: the caller answers 404 after this, so nobody learns what was there."""
    return audit_record(
        actor=actor,
        action=AuditAction.DENY,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        detail=detail,
    )
