"""Reads of slots and appointments. Patient-facing callers check access first (records.access)."""

import datetime as dt

from django.db.models import Exists, OuterRef, QuerySet

from carebridge.core import clock
from carebridge.scheduling.models import HOLDING_STATUSES, Appointment, Slot


def free_slots(*, facility_id: int | None = None, clinician_id: int | None = None,
               starts_from: dt.datetime | None = None, starts_before: dt.datetime | None = None,
               appointment_type: str = "") -> QuerySet[Slot]:
    """Slots no appointment holds, still offered, not yet started, in time order."""
    held = Appointment.objects.filter(slot=OuterRef("pk"), status__in=HOLDING_STATUSES)
    now = clock.now()
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


def slot_is_free(slot: Slot) -> bool:
    return (not slot.withdrawn and slot.starts_at > clock.now()
            and not Appointment.objects.filter(slot=slot, status__in=HOLDING_STATUSES).exists())


def patient_appointments(patient_id: int) -> QuerySet[Appointment]:
    return (Appointment.objects.filter(patient_id=patient_id)
            .select_related("clinician", "facility", "slot").order_by("-starts_at"))


def day_list(*, facility_id: int, day: dt.date, clinician_id: int | None = None) -> QuerySet[Appointment]:
    """A facility's appointments on one day (London), for the front desk and the clinician."""
    start = clock.london_datetime(day, dt.time.min)
    end = clock.london_datetime(day + dt.timedelta(days=1), dt.time.min)
    appointments = Appointment.objects.filter(facility_id=facility_id, starts_at__gte=start, starts_at__lt=end)
    if clinician_id is not None:
        appointments = appointments.filter(clinician_id=clinician_id)
    return appointments.select_related("patient", "clinician").order_by("starts_at", "clinician_id")


def appointments_needing_rebooking(*, facility_id: int) -> QuerySet[Appointment]:
    return (Appointment.objects.filter(facility_id=facility_id, needs_rebooking=True, status="booked")
            .select_related("patient", "clinician").order_by("starts_at"))
