"""Reads of slots and appointments. Appointments are fetched through their patient's access."""

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from carebridge.access.rules import PatientAccess, Viewer
from carebridge.access.selectors import patient_record_for
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound
from carebridge.core.prepared import PreparedQuery
from carebridge.organisations.models import Clinician, clinician_display_name
from carebridge.scheduling.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    ClinicianSession,
    OpeningTime,
    ScheduleException,
    Slot,
    minutes_between,
)


def free_slots(
    *,
    facility_id: int | None = None,
    clinician_id: int | None = None,
    starts_from: dt.datetime | None = None,
    starts_before: dt.datetime | None = None,
    appointment_type: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Slot]:
    """Slots no appointment holds, still offered, not yet started (at `now`, default the clock's), in
    time order."""
    held = Appointment.objects.filter(slot=OuterRef("pk"), status__in=HOLDING_STATUSES)
    now = now or clock.now()
    slots = Slot.objects.filter(withdrawn=False, starts_at__gt=max(starts_from, now) if starts_from else now)
    slots = slots.filter(~Exists(held))
    if facility_id is not None:
        slots = slots.filter(facility_id=facility_id)
    if clinician_id is not None:
        slots = slots.filter(clinician_id=clinician_id)
    if starts_before is not None:
        slots = slots.filter(starts_at__lt=starts_before)
    if appointment_type:
        # JSON containment is not on SQLite; the few types per slot make the text match exact enough
        # once quoted.
        slots = slots.filter(appointment_types__icontains=f'"{appointment_type}"')
    return slots.select_related("clinician", "facility").order_by("starts_at", "clinician_id")


def nearest_free_day(
    *,
    facility_id: int,
    clinician_id: int | None = None,
    appointment_type: str = "",
    on_or_after: dt.date | None = None,
    before: dt.date | None = None,
) -> dt.date | None:
    """The London day of the first free slot on or after `on_or_after`, or of the last one before `before`
    (never one already started); None when there is none. The slot list shows one day at a time and
    steps from day to day with free times, so a weekend or a day of leave is never a page of nothing."""
    if before is not None:
        starts_before = clock.london_datetime(before, dt.time.min)
        slots = free_slots(
            facility_id=facility_id,
            clinician_id=clinician_id,
            appointment_type=appointment_type,
            starts_before=starts_before,
        ).order_by("-starts_at")
    else:
        slots = free_slots(
            facility_id=facility_id,
            clinician_id=clinician_id,
            appointment_type=appointment_type,
            starts_from=clock.london_datetime(on_or_after, dt.time.min) if on_or_after else None,
        ).order_by("starts_at")
    starts_at = slots.values_list("starts_at", flat=True).first()
    return starts_at.astimezone(clock.LONDON).date() if starts_at else None


# One compiled query per shape of search: which filters are given, and the page size rounded up to one
# of a few, so that a client trying every size from 1 to 200 cannot fill the process with queries.
_FREE_SLOT_PAGES: dict[tuple, PreparedQuery[Slot]] = {}
_PAGE_SIZES = (10, 25, 50, 100, 200)


@dataclass(frozen=True, slots=True)
class FreeSlot:
    """A free slot as the slot search lists it: read as a row of values, not as model instances (the
    search is the busiest read, and building three instances per slot was a fifth of its CPU)."""

    public_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    appointment_types: list[str]
    clinician_public_id: uuid.UUID
    clinician_name: str
    facility_public_id: uuid.UUID
    facility_name: str

    @property
    def minutes(self) -> int:
        return minutes_between(self.starts_at, self.ends_at)


def free_slots_page(
    *,
    facility_id: int,
    starts_from: dt.datetime | None = None,
    starts_before: dt.datetime | None = None,
    appointment_type: str = "",
    clinician_public_id: uuid.UUID | None = None,
    facility_public_id: uuid.UUID | None = None,
    limit: int,
) -> list[FreeSlot]:
    """The first `limit` of free_slots(...) at `facility_id` (narrowed to one clinician or facility named
    by public id), with their clinician and facility: the API's slot search, which runs often enough that
    its SQL is compiled once per shape of search (carebridge/core/prepared.py)."""
    now = clock.now()
    values: dict[str, object] = {
        "facility_id": facility_id,
        "after": max(starts_from, now) if starts_from else now,
        "before": starts_before,
        "appointment_type": appointment_type,
        "clinician": clinician_public_id,
        "facility": facility_public_id,
    }
    given = {name: value for name, value in values.items() if value}
    size = next((size for size in _PAGE_SIZES if size >= limit), limit)
    shape = (*sorted(given), size)
    prepared = _FREE_SLOT_PAGES.get(shape)
    if prepared is None:
        prepared = _FREE_SLOT_PAGES.setdefault(
            shape, PreparedQuery(partial(_free_slots_page, size), **{name: _PAGE_PARAMETERS[name] for name in given})
        )
    return [
        FreeSlot(
            public_id=row["public_id"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            appointment_types=row["appointment_types"],
            clinician_public_id=row["clinician__public_id"],
            clinician_name=clinician_display_name(
                row["clinician__honorific"], row["clinician__first_name"], row["clinician__last_name"]
            ),
            facility_public_id=row["facility__public_id"],
            facility_name=row["facility__name"],
        )
        for row in prepared.rows(**given)[:limit]
    ]


_PAGE_PARAMETERS = {
    "facility_id": int,
    "after": dt.datetime,
    "before": dt.datetime,
    "appointment_type": str,
    "clinician": uuid.UUID,
    "facility": uuid.UUID,
}


def _free_slots_page(
    limit: int,
    *,
    facility_id: int,
    after: dt.datetime,
    before: dt.datetime | None = None,
    appointment_type: str = "",
    clinician: uuid.UUID | None = None,
    facility: uuid.UUID | None = None,
) -> "QuerySet[Slot, Any]":
    found = free_slots(facility_id=facility_id, starts_before=before, appointment_type=appointment_type, now=after)
    if facility is not None:
        found = found.filter(facility__public_id=facility)
    if clinician is not None:
        found = found.filter(clinician__public_id=clinician)
    return found.values(
        "public_id",
        "starts_at",
        "ends_at",
        "appointment_types",
        "clinician__public_id",
        "clinician__honorific",
        "clinician__first_name",
        "clinician__last_name",
        "facility__public_id",
        "facility__name",
    )[:limit]


# The API reads the slot a booking names by its public id (the service reads it again, locked, inside its
# transaction): compiled once per process.
_SLOT_BY_PUBLIC_ID = PreparedQuery(
    lambda public_id: Slot.objects.select_related("clinician", "facility").filter(public_id=public_id),
    public_id=uuid.UUID,
)


def slot_with_clinic(*, public_id: uuid.UUID) -> Slot | None:
    """The slot with its clinician and facility, or None."""
    return _SLOT_BY_PUBLIC_ID.one_or_none(public_id=public_id)


def slot_is_free(slot: Slot) -> bool:
    return (
        not slot.withdrawn
        and slot.starts_at > clock.now()
        and not Appointment.objects.filter(slot=slot, status__in=HOLDING_STATUSES).exists()
    )


def patient_appointments(patient_id: int) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(patient_id=patient_id)
        .select_related("clinician", "facility", "slot")
        .order_by("-starts_at")
    )


def day_list(*, facility_id: int, day: dt.date, clinician_id: int | None = None) -> QuerySet[Appointment]:
    """A facility's appointments on one day (London), for the front desk and the clinician."""
    start = clock.london_datetime(day, dt.time.min)
    end = clock.london_datetime(day + dt.timedelta(days=1), dt.time.min)
    appointments = Appointment.objects.filter(facility_id=facility_id, starts_at__gte=start, starts_at__lt=end)
    if clinician_id is not None:
        appointments = appointments.filter(clinician_id=clinician_id)
    return appointments.select_related("patient", "clinician").order_by("starts_at", "clinician_id")


def appointments_needing_rebooking(*, facility_id: int) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(facility_id=facility_id, needs_rebooking=True, status="booked")
        .select_related("patient", "clinician")
        .order_by("starts_at")
    )


def appointments_to_close(*, facility_id: int) -> QuerySet[Appointment]:
    """Earlier days' appointments at a facility with no outcome: still booked (nobody said whether the
    patient came), or checked in but never marked done. Reception closes them; most recent first."""
    start_of_today = clock.london_datetime(clock.today(), dt.time.min)
    return (
        Appointment.objects.filter(
            facility_id=facility_id,
            starts_at__lt=start_of_today,
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        )
        .select_related("patient", "clinician")
        .order_by("-starts_at", "clinician_id")
    )


# --- For the appointment pages ---------------------------------------------------------------------------


def bookable_clinicians(*, facility_id: int) -> QuerySet[Clinician]:
    """Clinicians at a facility who have at least one free slot: the booking page's choice of clinician."""
    with_free = free_slots(facility_id=facility_id).order_by().values("clinician_id")
    return Clinician.objects.filter(pk__in=with_free).order_by("last_name", "first_name")


def offered_appointment_types(*, facility_id: int) -> list[str]:
    """The appointment types the facility's free slots offer, for the booking page's choice of type."""
    offered = free_slots(facility_id=facility_id).order_by().values_list("appointment_types", flat=True).distinct()
    return sorted({name for names in offered for name in names})


def facility_opening_times(*, facility_id: int) -> QuerySet[OpeningTime]:
    return OpeningTime.objects.filter(facility_id=facility_id).order_by("weekday", "opens")


def facility_sessions(*, facility_id: int) -> QuerySet[ClinicianSession]:
    """Sessions still running or yet to start: the ones a manager may still end."""
    current = Q(valid_until__isnull=True) | Q(valid_until__gte=clock.today())
    return (
        ClinicianSession.objects.filter(current, facility_id=facility_id)
        .select_related("clinician")
        .order_by("clinician__last_name", "clinician__first_name", "weekday", "start_time")
    )


def facility_exceptions(*, facility_id: int) -> QuerySet[ScheduleException]:
    """Leave and closures not yet over."""
    return (
        ScheduleException.objects.filter(facility_id=facility_id, ends_at__gt=clock.now())
        .select_related("clinician")
        .order_by("starts_at")
    )


def appointment_for(
    *, actor: Actor, public_id: uuid.UUID | str, purpose: str = "appointment"
) -> tuple[Appointment, PatientAccess]:
    """Fetch an appointment for `actor`: visible exactly when its patient's record is; NotFound otherwise.
    The appointment comes back cut to what the viewer may see (`appointment_disclosed`)."""
    try:
        appointment = Appointment.objects.select_related("patient", "clinician", "facility", "slot").get(
            public_id=public_id
        )
    except (Appointment.DoesNotExist, ValueError, ValidationError):
        audit_denial(
            actor=actor, object_type=AuditObject.APPOINTMENT, object_id=str(public_id), detail={"purpose": purpose}
        )
        refusal = NotFound("No appointment found.")
        refusal.audited = True
        raise refusal from None
    access = patient_record_for(actor=actor, public_id=appointment.patient.public_id, purpose=purpose)
    return appointment_disclosed(appointment, access), access


# What of an appointment is withheld from a viewer who may not see it. The booking note is for the
# clinic; the reason for the visit is clinical, shown to non-clinical staff only at their own facility.
WITHHELD = "Not shown"


def appointment_disclosed(appointment: Appointment, access: PatientAccess | Viewer) -> Appointment:
    """`appointment` with the fields `access` may not see emptied, for showing only: never saved.

    Services re-read appointments themselves, and `Appointment.save()` refuses an instance cut here,
    so what a viewer was not given can never be written back over the record."""
    if access.sees_clinical:
        return appointment
    appointment.notes = ""
    if not access.sees_appointment_reason(appointment.facility_id):
        appointment.reason_for_visit = ""
    appointment.disclosed_only = True
    return appointment


def appointments_disclosed(
    appointments: "QuerySet[Appointment] | list[Appointment]", access: PatientAccess | Viewer
) -> list[Appointment]:
    return [appointment_disclosed(appointment, access) for appointment in appointments]
