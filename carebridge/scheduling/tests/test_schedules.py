"""Sessions, opening hours and exceptions yield slots; a schedule change never drops a booking silently."""

import datetime as dt

import pytest

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotPermitted
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, Slot
from carebridge.testing.schedule import MONDAY_MORNING, schedule_time, slot_at


def test_sessions_yield_slots_on_weekdays_within_the_horizon(schedule):
    slots = Slot.objects.filter(clinician=schedule.gp.clinician)
    # 12 slots a morning, weekdays only, from the Monday to the Sunday a week later: ten working days.
    assert slots.count() == 120
    local_days = {slot.starts_at.astimezone(clock.LONDON).weekday() for slot in slots}
    assert local_days == {0, 1, 2, 3, 4}
    first = slots.order_by("starts_at").first()
    assert first.starts_at == schedule_time(0, dt.time(9, 0))
    assert first.minutes == 15 and first.appointment_types == ["Routine Consultation", "Follow-up"]


def test_a_session_outside_opening_hours_is_refused(schedule):
    with pytest.raises(Invalid, match="not open for the whole session"):
        services.session_add(
            actor=Actor.command_line(schedule.manager),
            clinician=schedule.gp.clinician,
            weekday=5,
            start_time=dt.time(9),
            end_time=dt.time(11),
            slot_minutes=15,
            appointment_types=["Routine Consultation"],
        )
    assert not schedule.gp.clinician.sessions.filter(weekday=5).exists()
    # A broken rule, not a refusal of access: the manager may change this schedule, so no denial row.
    assert not AuditEvent.objects.filter(actor=schedule.manager, action=AuditAction.DENY).exists()


def test_overlapping_sessions_are_refused(schedule):
    with pytest.raises(Invalid, match="overlaps"):
        services.session_add(
            actor=Actor.command_line(schedule.manager),
            clinician=schedule.gp.clinician,
            weekday=0,
            start_time=dt.time(11, 30),
            end_time=dt.time(13),
            slot_minutes=15,
            appointment_types=["Routine Consultation"],
        )


@pytest.mark.parametrize("name", ["reception", "gp", "other_reception", "admin"])
def test_only_the_facility_manager_changes_schedules(schedule, name):
    with pytest.raises(NotPermitted):
        services.session_add(
            actor=Actor.command_line(getattr(schedule, name)),
            clinician=schedule.gp.clinician,
            weekday=0,
            start_time=dt.time(14),
            end_time=dt.time(16),
            slot_minutes=15,
            appointment_types=["Routine Consultation"],
        )


def test_leave_withdraws_free_slots_and_lists_booked_ones_for_rebooking(schedule):
    booked_slot = slot_at(schedule, 1, dt.time(9, 0))
    appointment = services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=booked_slot,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )
    tuesday = MONDAY_MORNING.date() + dt.timedelta(days=1)
    services.exception_add(
        actor=Actor.command_line(schedule.manager),
        facility=schedule.surgery,
        clinician=schedule.gp.clinician,
        reason="Annual leave",
        starts_at=clock.london_datetime(tuesday, dt.time(0)),
        ends_at=clock.london_datetime(tuesday + dt.timedelta(days=1), dt.time(0)),
    )
    tuesday_slots = Slot.objects.filter(clinician=schedule.gp.clinician, starts_at__date=tuesday)
    assert list(tuesday_slots) == [booked_slot]
    booked_slot.refresh_from_db()
    appointment.refresh_from_db()
    assert booked_slot.withdrawn is True
    assert appointment.status == "booked" and appointment.needs_rebooking is True


def test_ending_a_session_keeps_its_booked_appointment_for_rebooking(schedule):
    slot = slot_at(schedule, 7, dt.time(10, 0))  # next Monday
    appointment = services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=slot,
        appointment_type="Follow-up",
        reason="Check-up",
    )
    monday_session = schedule.gp.clinician.sessions.get(weekday=0)
    services.session_end(
        actor=Actor.command_line(schedule.manager), session=monday_session, last_day=MONDAY_MORNING.date()
    )
    assert Appointment.objects.get(pk=appointment.pk).needs_rebooking is True
    remaining_next_monday = Slot.objects.filter(
        clinician=schedule.gp.clinician, withdrawn=False, starts_at__date=MONDAY_MORNING.date() + dt.timedelta(days=7)
    )
    assert not remaining_next_monday.exists()


def test_regenerating_twice_changes_nothing(schedule):
    before = set(Slot.objects.values_list("pk", "starts_at"))
    result = services.slots_regenerate(actor=Actor.command_line(), clinician=schedule.gp.clinician)
    assert result.created == result.removed == 0
    assert set(Slot.objects.values_list("pk", "starts_at")) == before
