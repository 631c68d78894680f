"""Relationships for the appointments and referrals that existed before relationships were kept as rows.

A frozen copy of what scheduling.relationships and referrals.relationships write, with the default
windows (90 days), so that this migration means the same thing whenever it runs.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations

LONDON = ZoneInfo("Europe/London")
AFTER = dt.timedelta(days=90)
PRIORITY = {"routine": "Routine", "urgent": "Urgent", "two_week_wait": "Two-week wait", "non_urgent": "Non-urgent"}


def forwards(apps, schema_editor):
    Appointment = apps.get_model("scheduling", "Appointment")
    Referral = apps.get_model("referrals", "Referral")
    CareRelationship = apps.get_model("access", "CareRelationship")
    rows = []
    for appointment in Appointment.objects.iterator(chunk_size=2000):
        local = appointment.starts_at.astimezone(LONDON)
        cancelled = appointment.status == "cancelled"
        rows.append(
            CareRelationship(
                patient_id=appointment.patient_id,
                kind="appointment",
                source_id=appointment.public_id,
                facility_id=appointment.facility_id,
                clinician_id=appointment.clinician_id,
                starts_at=min(appointment.created_at, appointment.starts_at),
                ends_at=appointment.updated_at if cancelled else appointment.starts_at + AFTER,
                summary=f"Appointment on {local:%-d %B %Y} at {local:%H:%M}" + (" (cancelled)" if cancelled else ""),
            )
        )
    for referral in Referral.objects.iterator(chunk_size=2000):
        ends_at = referral.updated_at + AFTER if referral.status == "completed" else None
        made = dt.datetime.combine(referral.referral_date, dt.time(0, 0), tzinfo=LONDON)
        summary = f"{PRIORITY.get(referral.priority, 'A')} referral made on {referral.referral_date:%-d %B %Y}"
        for kind, facility_id, clinician_id in (
            ("referral_received", referral.receiving_facility_id, referral.receiving_clinician_id),
            ("referral_sent", referral.referring_facility_id, referral.referring_clinician_id),
        ):
            rows.append(
                CareRelationship(
                    patient_id=referral.patient_id,
                    kind=kind,
                    source_id=referral.public_id,
                    facility_id=facility_id,
                    clinician_id=clinician_id,
                    starts_at=min(referral.created_at, made),
                    ends_at=ends_at,
                    summary=summary,
                )
            )
    CareRelationship.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_care_relationships_and_break_glass"),
        ("scheduling", "0004_appointment_calendar_sequence"),
        ("referrals", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
