"""Reads for the privacy officer: the audit trail and emergency accesses."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from carebridge.access.models import BreakGlassAccess, ReviewOutcome
from carebridge.accounts.models import AccessChange, User
from carebridge.audit.models import AuditEvent, AuditObject
from carebridge.core import nhs_number as nhs
from carebridge.core.clock import LONDON
from carebridge.patients.models import Patient
from carebridge.patients.selectors import merged_record_ids


def audit_events_matching(
    *,
    username: str = "",
    nhs_number: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor")
    if username:
        events = events.filter(actor_label__iexact=username.strip())
    if nhs_number:
        kept = Patient.objects.filter(nhs_number=nhs.normalise(nhs_number)).first()
        # With the records merged into it: their history is this person's (docs/records.md).
        events = events.filter(patient_id__in=merged_record_ids(kept) if kept is not None else [])
    if action:
        events = events.filter(action=action)
    if date_from:
        events = events.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=LONDON))
    if date_to:
        events = events.filter(at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=LONDON))
    return events


@dataclass(frozen=True)
class TrailRow:
    """An audit row as the privacy officer reads it: people by name and role, patients by name and NHS number."""

    event: AuditEvent
    who: str
    role: str
    patient_name: str
    nhs_number: str  # 3-3-4, or "" when none is recorded
    patient_missing: bool  # the row names a patient who is no longer on record
    what: str


def audit_trail_rows(events: Sequence[AuditEvent]) -> list[TrailRow]:
    """One page of the trail, with its patients fetched in one query (actors come with the events)."""
    patient_ids = {event.patient_id for event in events if event.patient_id is not None}
    patients = {
        patient.pk: patient
        for patient in Patient.objects.filter(pk__in=patient_ids).only("first_name", "last_name", "nhs_number")
    }
    # Rows about a login (a password set or reset, a login changed) name it by its id: show its person.
    login_ids = {
        int(event.object_id) for event in events if event.object_type == AuditObject.USER and event.object_id.isdigit()
    }
    logins = {
        login.pk: login for login in User.objects.filter(pk__in=login_ids).only("username", "first_name", "last_name")
    }
    rows = []
    for event in events:
        patient = patients.get(event.patient_id) if event.patient_id is not None else None
        what = event.get_object_type_display()
        login = (
            logins.get(int(event.object_id))
            if event.object_type == AuditObject.USER and event.object_id.isdigit()
            else None
        )
        if login is not None:
            what = f"{what}: {login.get_full_name() or login.username} ({login.username})"
        rows.append(
            TrailRow(
                event=event,
                who=(event.actor.get_full_name() if event.actor else "") or event.actor_label,
                role=event.role_label,
                patient_name=patient.full_name if patient else "",
                nhs_number=nhs.formatted(patient.nhs_number) if patient else "",
                patient_missing=event.patient_id is not None and patient is None,
                what=what,
            )
        )
    return rows


def _login_id(event: AuditEvent) -> int | None:
    """The login a row is about, when it is about one (they are named by their database id)."""
    if event.object_type == AuditObject.USER and event.object_id.isdigit():
        return int(event.object_id)
    return None


def break_glass_accesses(*, unreviewed_only: bool) -> QuerySet[BreakGlassAccess]:
    """Emergency accesses, newest first; `unreviewed_only`: those not reviewed yet or needing follow-up."""
    grants = BreakGlassAccess.objects.select_related("clinician_user", "patient", "reviewed_by")
    if unreviewed_only:
        grants = grants.filter(Q(reviewed_at__isnull=True) | Q(review_outcome=ReviewOutcome.NEEDS_FOLLOW_UP))
    return grants


def events_during_break_glass(grant: BreakGlassAccess) -> QuerySet[AuditEvent]:
    """Exactly what the clinician did with the patient's record while the emergency access lasted: the
    trail's rows by them about that patient from its opening to its expiry, oldest first. (Rows outside
    that window, or through their ordinary relationships, are not the emergency access's doing.)"""
    return (
        AuditEvent.objects.select_related("actor")
        .filter(
            actor_id=grant.clinician_user_id,
            patient_id=grant.patient_id,
            at__gte=grant.opened_at,
            at__lte=grant.expires_at,
        )
        .order_by("at", "pk")
    )


def access_changes(*, unreviewed_only: bool) -> QuerySet[AccessChange]:
    """Changes that could hand someone another's access (accounts.models.AccessChange), newest first."""
    changes = AccessChange.objects.select_related("user", "changed_by", "reviewed_by")
    if unreviewed_only:
        changes = changes.filter(reviewed_at__isnull=True)
    return changes
