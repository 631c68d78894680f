"""Reads for the privacy officer: the audit trail and emergency accesses."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from carebridge.access.models import BreakGlassAccess
from carebridge.accounts.models import AccessChange
from carebridge.audit.models import AuditEvent
from carebridge.core import nhs_number as nhs
from carebridge.core.clock import LONDON
from carebridge.patients.models import Patient


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
        patient_ids = Patient.objects.filter(nhs_number=nhs.normalise(nhs_number)).values("pk")
        events = events.filter(patient_id__in=patient_ids)
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
    rows = []
    for event in events:
        patient = patients.get(event.patient_id) if event.patient_id is not None else None
        rows.append(
            TrailRow(
                event=event,
                who=(event.actor.get_full_name() if event.actor else "") or event.actor_label,
                role=event.role_label,
                patient_name=patient.full_name if patient else "",
                nhs_number=nhs.formatted(patient.nhs_number) if patient else "",
                patient_missing=event.patient_id is not None and patient is None,
                what=event.get_object_type_display(),
            )
        )
    return rows


def break_glass_accesses(*, unreviewed_only: bool) -> QuerySet[BreakGlassAccess]:
    grants = BreakGlassAccess.objects.select_related("clinician_user", "patient", "reviewed_by")
    if unreviewed_only:
        grants = grants.filter(reviewed_at__isnull=True)
    return grants


def access_changes(*, unreviewed_only: bool) -> QuerySet[AccessChange]:
    """Changes that could hand someone another's access (accounts.models.AccessChange), newest first."""
    changes = AccessChange.objects.select_related("user", "changed_by", "reviewed_by")
    if unreviewed_only:
        changes = changes.filter(reviewed_at__isnull=True)
    return changes
