"""Leave and closures catch every appointment in them, slot or not; appointments end with an outcome that
can be taken back only on the day it was recorded."""

import datetime as dt

import pytest

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotPermitted
from carebridge.delivery.models import OutboundEmail
from carebridge.patients.models import Patient
from carebridge.scheduling import selectors, services
from carebridge.scheduling.models import OUTCOME_NOT_RECORDED, Appointment, AppointmentStatus, ScheduleException
from carebridge.testing.schedule import schedule_time, slot_at

NINE = dt.time(9, 0)
ALICE_EMAIL = "alice.archer@example.com"


def imported(world, day: int, time: dt.time, *, clinician=None, minutes: int = 20) -> Appointment:
    """An appointment a practice brought with it: no slot, as the coursework import makes them."""
    now = clock.now()
    return Appointment.objects.create(
        source_id=f"A-{day}-{time:%H%M}",
        patient=world.alice,
        clinician=clinician or world.gp.clinician,
        facility=world.surgery,
        starts_at=schedule_time(day, time),
        duration_minutes=minutes,
        appointment_type="Routine Consultation",
        status=AppointmentStatus.BOOKED,
        created_at=now,
        updated_at=now,
    )


def leave(world, day: int, *, whole_facility: bool = False) -> ScheduleException:
    return services.exception_add(
        actor=Actor.command_line(world.manager),
        facility=world.surgery,
        clinician=None if whole_facility else world.gp.clinician,
        reason="Annual leave",
        starts_at=schedule_time(day, dt.time.min),
        ends_at=schedule_time(day + 1, dt.time.min),
    )


def book(world, day: int, time: dt.time) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=world.alice,
        slot=slot_at(world, day, time),
        appointment_type="Routine Consultation",
        reason="Blood pressure",
    )


@pytest.fixture
def alice_emailed(schedule):
    Patient.objects.filter(pk=schedule.alice.pk).update(email=ALICE_EMAIL)
    schedule.alice.refresh_from_db()
    return schedule


def rebooking_emails(appointment: Appointment):
    return OutboundEmail.objects.filter(idempotency_key__startswith=f"appointment:{appointment.public_id}:rebook")


# --- Item 1: leave and closures ---------------------------------------------------------------------------


@pytest.mark.parametrize("whole_facility", [False, True])
def test_an_imported_appointment_in_leave_is_listed_and_its_patient_told_once(alice_emailed, whole_facility):
    world = alice_emailed
    # Thursday at 10:30: outside any slot the GP offers, as most imported appointments are.
    appointment = imported(world, 3, dt.time(10, 30))
    untouched = imported(world, 4, dt.time(10, 30))
    leave(world, 3, whole_facility=whole_facility)
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == AppointmentStatus.BOOKED
    assert list(selectors.appointments_needing_rebooking(facility_id=world.surgery.pk)) == [appointment]
    untouched.refresh_from_db()
    assert not untouched.needs_rebooking
    [email] = rebooking_emails(appointment)
    assert email.recipient == ALICE_EMAIL and "needs a new time" in email.subject
    assert "has not been cancelled" in email.body and "will contact you to arrange a new time" in email.body
    listed = AuditEvent.objects.get(object_type=AuditObject.REBOOKING_LIST, action=AuditAction.UPDATE)
    assert listed.detail == {"needing_rebooking": [str(appointment.public_id)]}
    # A second leave over the same time tells her nothing more.
    leave(world, 3, whole_facility=not whole_facility)
    assert rebooking_emails(appointment).count() == 1


def test_an_appointment_holding_a_slot_is_told_too(alice_emailed):
    world = alice_emailed
    appointment = book(world, 2, NINE)
    leave(world, 2)
    appointment.refresh_from_db()
    assert appointment.needs_rebooking
    assert rebooking_emails(appointment).count() == 1


def test_a_session_ended_under_a_booked_appointment_tells_its_patient_why(alice_emailed):
    world = alice_emailed
    appointment = book(world, 7, NINE)  # next Monday
    monday = world.gp.clinician.sessions.get(weekday=0)
    services.session_end(actor=Actor.command_line(world.manager), session=monday, last_day=clock.today())
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == AppointmentStatus.BOOKED
    [email] = rebooking_emails(appointment)
    assert email.recipient == ALICE_EMAIL and "needs a new time" in email.subject
    assert "because Dr. Grace Patel no longer holds that clinic" in email.body
    assert "has not been cancelled" in email.body


def test_opening_hours_that_no_longer_cover_a_booked_appointment_tell_its_patient(alice_emailed):
    world = alice_emailed
    appointment = book(world, 7, NINE)  # next Monday 09:00
    kept = book(world, 2, NINE)  # Wednesday: its day keeps its hours
    hours = {weekday: [(dt.time(8, 0), dt.time(18, 30))] for weekday in range(5)}
    hours[0] = [(dt.time(13, 0), dt.time(18, 30))]  # Mondays open only in the afternoon from now on
    services.opening_hours_set(actor=Actor.command_line(world.manager), facility=world.surgery, hours=hours)
    [email] = rebooking_emails(appointment)
    assert "because Oak Tree Surgery's opening hours have changed" in email.body
    assert not rebooking_emails(kept).exists()


def test_another_clinicians_appointment_and_a_cancelled_one_are_not_flagged(schedule):
    other = imported(schedule, 3, dt.time(10, 30), clinician=schedule.nurse.clinician)
    cancelled = imported(schedule, 3, dt.time(11, 30))
    Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CANCELLED)
    leave(schedule, 3)
    assert not Appointment.objects.filter(pk__in=[other.pk, cancelled.pk], needs_rebooking=True).exists()


def test_a_whole_day_reads_as_one_day(schedule):
    thursday = leave(schedule, 3)
    day = schedule_time(3, NINE).astimezone(clock.LONDON)
    assert thursday.period_words == f"{day:%A} {day.day} {day:%B}"
    part = ScheduleException(starts_at=schedule_time(3, NINE), ends_at=schedule_time(3, dt.time(13, 0)))
    assert part.period_words == f"{day:%A} {day.day} {day:%B}, 09:00 to 13:00"
    week = ScheduleException(starts_at=schedule_time(3, dt.time.min), ends_at=schedule_time(8, dt.time.min))
    last = schedule_time(7, NINE).astimezone(clock.LONDON)
    assert week.period_words == f"{day:%A} {day.day} {day:%B} to {last:%A} {last.day} {last:%B}"


# --- Item 2: outcomes -------------------------------------------------------------------------------------


def test_a_past_booked_appointment_says_its_outcome_is_not_recorded(schedule):
    appointment = book(schedule, 0, NINE)
    assert appointment.status_words == "Booked"
    clock.freeze(schedule_time(0, dt.time(9, 20)))
    assert appointment.status_words == OUTCOME_NOT_RECORDED
    # The next day it is on reception's list to close; today's are not.
    assert list(selectors.appointments_to_close(facility_id=schedule.surgery.pk)) == []
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    assert list(selectors.appointments_to_close(facility_id=schedule.surgery.pk)) == [appointment]
    assert list(selectors.appointments_to_close(facility_id=schedule.other_surgery.pk)) == []


def test_reception_closes_an_earlier_day_and_may_undo_it_that_day_only(schedule):
    appointment = book(schedule, 0, NINE)
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    reception = Actor.command_line(schedule.reception)
    closed = services.appointment_record_attended(actor=reception, appointment=appointment)
    assert closed.status == AppointmentStatus.FULFILLED and closed.outcome_note
    undone = services.appointment_undo_outcome(actor=reception, appointment=appointment)
    assert undone.status == AppointmentStatus.BOOKED and undone.outcome_recorded_at is None
    services.appointment_mark_no_show(actor=reception, appointment=appointment)
    clock.freeze(schedule_time(2, dt.time(8, 0)))
    with pytest.raises(Invalid, match="can no longer be undone"):
        services.appointment_undo_outcome(actor=reception, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NOSHOW


def test_today_is_not_closed_from_the_list(schedule):
    appointment = book(schedule, 0, NINE)
    with pytest.raises(Invalid, match="earlier days only"):
        services.appointment_record_attended(actor=Actor.command_line(schedule.reception), appointment=appointment)


def test_undoing_a_check_in_goes_back_to_booked_and_is_audited(schedule):
    appointment = book(schedule, 0, NINE)
    reception = Actor.command_line(schedule.reception)
    services.appointment_check_in(actor=reception, appointment=appointment)
    undone = services.appointment_undo_outcome(actor=reception, appointment=appointment)
    assert undone.status == AppointmentStatus.BOOKED and undone.arrived_at is None
    row = AuditEvent.objects.filter(actor=schedule.reception, action=AuditAction.UPDATE).latest("pk")
    assert row.detail == {"status": "booked", "was": "arrived", "undone": True}
    with pytest.raises(Invalid, match="nothing to undo"):
        services.appointment_undo_outcome(actor=reception, appointment=appointment)


def test_only_who_may_record_an_outcome_may_undo_it(schedule):
    appointment = book(schedule, 0, NINE)
    services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)
    with pytest.raises(NotPermitted):
        services.appointment_undo_outcome(actor=Actor.command_line(schedule.gp), appointment=appointment)
    denial = AuditEvent.objects.get(actor=schedule.gp, action=AuditAction.DENY)
    assert denial.object_type == AuditObject.APPOINTMENT and denial.patient_id == schedule.alice.pk
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED


def test_done_without_arrival_needs_a_reason(schedule):
    appointment = book(schedule, 0, NINE)
    gp = Actor.command_line(schedule.gp)
    with pytest.raises(Invalid) as refused:
        services.appointment_complete(actor=gp, appointment=appointment)
    assert "reason" in refused.value.fields
    done = services.appointment_complete(actor=gp, appointment=appointment, reason="Seen by telephone")
    assert done.status == AppointmentStatus.FULFILLED and done.outcome_note == "Seen by telephone"
    # Undone, it goes back to booked: the patient never arrived.
    assert services.appointment_undo_outcome(actor=gp, appointment=appointment).status == AppointmentStatus.BOOKED
