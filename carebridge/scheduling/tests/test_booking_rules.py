"""Booking, moving and cancelling: every rule refuses with a clear message, changing nothing; a refusal of
access (not found, not permitted) is audited, a broken rule is not."""

import datetime as dt

import pytest

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.scheduling import services
from carebridge.scheduling.errors import SlotUnavailable
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.schedule import slot_at

NINE, QUARTER_PAST = dt.time(9, 0), dt.time(9, 15)


def _book(world, who, slot, patient=None):
    return services.appointment_book(
        actor=Actor.command_line(who),
        patient=patient or world.alice,
        slot=slot,
        appointment_type="Routine Consultation",
        reason="Cough for three weeks",
    )


def _refusals(world, user):
    return AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="appointment")


def test_a_patient_books_a_free_slot_at_their_own_surgery(schedule):
    appointment = _book(schedule, schedule.alice_user, slot_at(schedule, 0, NINE))
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.clinician == schedule.gp.clinician and appointment.duration_minutes == 15
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="appointment")
    assert event.actor == schedule.alice_user and event.patient_id == schedule.alice.pk


def test_a_taken_slot_is_refused_with_a_clear_message(schedule):
    slot = slot_at(schedule, 0, NINE)
    _book(schedule, schedule.reception, slot)
    with pytest.raises(SlotUnavailable, match="That time has just been taken"):
        _book(schedule, schedule.reception, slot, patient=schedule.carol)
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_a_past_slot_is_refused(schedule):
    slot = slot_at(schedule, 0, NINE)
    clock.freeze(slot.starts_at + dt.timedelta(minutes=1))
    with pytest.raises(Invalid, match="already passed"):
        _book(schedule, schedule.alice_user, slot)
    assert not Appointment.objects.filter(slot__isnull=False).exists()
    assert not _refusals(schedule, schedule.alice_user).exists()  # a rule, not access: no denial row


def test_overlapping_appointments_for_one_patient_are_refused(schedule):
    _book(schedule, schedule.alice_user, slot_at(schedule, 0, NINE))
    # Another clinician at the same time: the patient cannot be in two rooms.
    services.session_add(
        actor=Actor.command_line(schedule.manager),
        clinician=schedule.nurse.clinician,
        weekday=0,
        start_time=NINE,
        end_time=dt.time(10),
        slot_minutes=30,
        appointment_types=["Routine Consultation"],
    )
    nurse_slot = schedule.nurse.clinician.slots.order_by("starts_at").first()
    with pytest.raises(Invalid, match="Appointments cannot overlap"):
        _book(schedule, schedule.alice_user, nurse_slot)
    assert not Appointment.objects.filter(slot=nurse_slot).exists()
    assert not _refusals(schedule, schedule.alice_user).exists()  # a rule, not access: no denial row


def test_a_patient_cannot_book_outside_their_own_surgery(schedule):
    # Bob is registered at the other surgery.
    with pytest.raises(NotPermitted, match="surgery you are registered with"):
        _book(schedule, schedule.bob_user, slot_at(schedule, 0, NINE), patient=schedule.bob)
    assert _refusals(schedule, schedule.bob_user).get().patient_id == schedule.bob.pk


def test_a_patient_cannot_book_for_someone_else(schedule):
    # Another patient's record is not there for Bob at all: the same answer as a record that does not exist.
    with pytest.raises(NotFound):
        _book(schedule, schedule.bob_user, slot_at(schedule, 0, NINE), patient=schedule.alice)


def test_reception_books_only_at_their_own_facility(schedule):
    # Reception at another surgery has no relationship with Alice: her record is not found for them.
    with pytest.raises(NotFound):
        _book(schedule, schedule.other_reception, slot_at(schedule, 0, NINE))
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_a_patient_cannot_cancel_after_the_start(schedule):
    appointment = _book(schedule, schedule.alice_user, slot_at(schedule, 0, NINE))
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=5))
    with pytest.raises(Invalid, match="already started"):
        services.appointment_cancel(
            actor=Actor.command_line(schedule.alice_user), appointment=appointment, reason="Feeling better"
        )
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_a_patient_cannot_cancel_another_patients_appointment(schedule):
    appointment = _book(schedule, schedule.reception, slot_at(schedule, 0, NINE))
    with pytest.raises(NotFound):
        services.appointment_cancel(
            actor=Actor.command_line(schedule.bob_user), appointment=appointment, reason="Mischief"
        )
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
    assert _refusals(schedule, schedule.bob_user).get().patient_id == schedule.alice.pk


def test_cancelling_frees_the_slot_for_someone_else(schedule):
    slot = slot_at(schedule, 0, NINE)
    appointment = _book(schedule, schedule.alice_user, slot)
    services.appointment_cancel(
        actor=Actor.command_line(schedule.alice_user), appointment=appointment, reason="Feeling better"
    )
    assert Appointment.objects.get(pk=appointment.pk).cancellation_reason == "Feeling better"
    nurse_booking = _book(schedule, schedule.reception, slot, patient=schedule.carol)
    assert nurse_booking.slot == slot


def test_a_cancellation_needs_a_reason(schedule):
    appointment = _book(schedule, schedule.alice_user, slot_at(schedule, 0, NINE))
    with pytest.raises(Invalid, match="Say why"):
        services.appointment_cancel(actor=Actor.command_line(schedule.alice_user), appointment=appointment, reason=" ")


def test_moving_takes_the_new_slot_and_frees_the_old(schedule):
    old_slot, new_slot = slot_at(schedule, 0, NINE), slot_at(schedule, 2, QUARTER_PAST)
    appointment = _book(schedule, schedule.alice_user, old_slot)
    services.appointment_move(actor=Actor.command_line(schedule.alice_user), appointment=appointment, new_slot=new_slot)
    appointment.refresh_from_db()
    assert appointment.slot == new_slot and appointment.starts_at == new_slot.starts_at
    assert _book(schedule, schedule.reception, old_slot, patient=schedule.carol).slot == old_slot


def test_moving_onto_a_taken_slot_keeps_the_original(schedule):
    mine, theirs = slot_at(schedule, 0, NINE), slot_at(schedule, 0, QUARTER_PAST)
    appointment = _book(schedule, schedule.alice_user, mine)
    _book(schedule, schedule.reception, theirs, patient=schedule.carol)
    with pytest.raises(SlotUnavailable):
        services.appointment_move(
            actor=Actor.command_line(schedule.alice_user), appointment=appointment, new_slot=theirs
        )
    appointment.refresh_from_db()
    assert appointment.slot == mine and appointment.status == AppointmentStatus.BOOKED


def test_reception_checks_in_on_the_day_and_the_clinician_marks_it_done(schedule):
    appointment = _book(schedule, schedule.reception, slot_at(schedule, 0, NINE))
    services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.ARRIVED
    with pytest.raises(NotPermitted):
        services.appointment_complete(actor=Actor.command_line(schedule.nurse), appointment=appointment)
    services.appointment_complete(actor=Actor.command_line(schedule.gp), appointment=appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.FULFILLED


def test_check_in_is_only_on_the_day(schedule):
    appointment = _book(schedule, schedule.reception, slot_at(schedule, 1, NINE))
    with pytest.raises(Invalid, match="only on the day"):
        services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)


def test_no_show_only_after_the_start(schedule):
    appointment = _book(schedule, schedule.reception, slot_at(schedule, 0, NINE))
    with pytest.raises(Invalid, match="once the appointment time has passed"):
        services.appointment_mark_no_show(actor=Actor.command_line(schedule.reception), appointment=appointment)
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=20))
    services.appointment_mark_no_show(actor=Actor.command_line(schedule.reception), appointment=appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.NOSHOW
