"""Reads for the privacy officer: the audit trail and emergency accesses."""

import datetime as dt

from django.db.models import QuerySet

from carebridge.audit.models import AuditEvent
from carebridge.core import nhs_number as nhs
from carebridge.core.clock import LONDON
from carebridge.patients.models import Patient
from carebridge.records.models import BreakGlassAccess


def audit_events_matching(*, username: str = "", nhs_number: str = "", action: str = "",
                          date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet[AuditEvent]:
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


def break_glass_accesses(*, unreviewed_only: bool) -> QuerySet[BreakGlassAccess]:
    grants = BreakGlassAccess.objects.select_related("clinician_user", "patient", "reviewed_by")
    if unreviewed_only:
        grants = grants.filter(reviewed_at__isnull=True)
    return grants
