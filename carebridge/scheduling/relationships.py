"""The care relationship an appointment gives: its clinician and its facility may see the patient from
the booking until a while after the appointment (access.relationships decides how long)."""

from collections.abc import Iterable

from carebridge.access.models import RelationshipKind
from carebridge.access.relationships import (
    RelationshipRow,
    appointment_relationship_ends,
    relationships_add,
    relationships_replace,
)
from carebridge.core import clock
from carebridge.scheduling.models import Appointment, AppointmentStatus


def _row(appointment: Appointment) -> RelationshipRow:
    local = appointment.starts_at.astimezone(clock.LONDON)
    cancelled_at = appointment.updated_at if appointment.status == AppointmentStatus.CANCELLED else None
    return RelationshipRow(
        patient_id=appointment.patient_id,
        kind=RelationshipKind.APPOINTMENT,
        source_id=appointment.public_id,
        facility_id=appointment.facility_id,
        clinician_id=appointment.clinician_id,
        starts_at=min(appointment.created_at, appointment.starts_at),
        ends_at=appointment_relationship_ends(starts_at=appointment.starts_at, cancelled_at=cancelled_at),
        summary=f"Appointment on {local:%-d %B %Y} at {local:%H:%M}"
        + (" (cancelled)" if cancelled_at is not None else ""),
    )


# What _row reads, so that a large import loads no more of each appointment than that.
RELATIONSHIP_FIELDS = (
    "public_id",
    "patient_id",
    "facility_id",
    "clinician_id",
    "starts_at",
    "created_at",
    "updated_at",
    "status",
)


def appointment_relationship_rows(appointments: Iterable[Appointment]) -> list[RelationshipRow]:
    return [_row(appointment) for appointment in appointments]


def appointment_relationships_refresh(appointments: Iterable[Appointment]) -> None:
    """Bring the relationships of these appointments in step with them. In the caller's transaction."""
    appointments = list(appointments)
    relationships_replace(
        source_ids=[appointment.public_id for appointment in appointments],
        rows=appointment_relationship_rows(appointments),
    )


def appointment_relationships_begin(appointment: Appointment) -> None:
    """The relationships of an appointment just made: nothing to replace (its public id is new), so
    nothing is deleted first. In the caller's transaction."""
    relationships_add(rows=[_row(appointment)])
