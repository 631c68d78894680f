"""Worlds built for the reports' tests: known sessions, bookings, outcomes and cancellations, made through
the scheduling services with the clock moved to each moment, so every count the tests expect follows
from the steps written here.

Days are counted from the suite's base day `d` (Monday 30 November 2026 unless CAREBRIDGE_TEST_TODAY
moves it), so the worlds hold whatever weekday that is.
"""

import datetime as dt
from dataclasses import dataclass

from carebridge.accounts.models import AccountKind, User
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.organisations.models import AccessLevel, Facility, StaffMember
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus, Slot
from carebridge.testing.days import BASE_DAY, BASE_MOMENT, BASE_TIME
from carebridge.testing.world import PASSWORD, World

NINE, QUARTER_PAST, HALF_PAST, QUARTER_TO = dt.time(9, 0), dt.time(9, 15), dt.time(9, 30), dt.time(9, 45)
EVERY_DAY_8_TO_8 = {weekday: [(dt.time(8, 0), dt.time(20, 0))] for weekday in range(7)}


def day(offset: int) -> dt.date:
    """The base day, or `offset` days after it (before, if negative)."""
    return BASE_DAY + dt.timedelta(days=offset)


def at(offset: int, time: dt.time) -> dt.datetime:
    return clock.london_datetime(day(offset), time)


def manager_of(facility: Facility, username: str) -> User:
    """Another facility's manager: the named world has one, at the first surgery only."""
    user = User(username=username, kind=AccountKind.STAFF, first_name="Max", last_name=f"Manager {username}")
    user.set_password(PASSWORD)
    user.save()
    StaffMember.objects.create(
        user=user,
        source_id=f"ST-{username}",
        first_name="Max",
        last_name=f"Manager {username}",
        job_title="Hospital Administrator" if facility.is_hospital else "Practice Manager",
        facility=facility,
        employment_status="full_time",
        start_date=dt.date(2018, 1, 1),
        access_level=AccessLevel.MANAGER,
    )
    return user


def _slot(world: World, clinician_user: User, moment: dt.datetime) -> Slot:
    return Slot.objects.get(clinician=clinician_user.clinician, starts_at=moment)


def _book(world: World, actor: Actor, patient, slot: Slot, kind: str = "Routine Consultation") -> Appointment:
    return services.appointment_book(actor=actor, patient=patient, slot=slot, appointment_type=kind, reason="Review")


@dataclass
class AppointmentsWorld:
    world: World
    first_monday: dt.date  # the two weeks the world fills: this Monday's week and the next
    second_monday: dt.date


def build_appointments_world(world: World, settings) -> AppointmentsWorld:
    """Two past weeks at the surgery, W1 and W2 (the two weeks before the base day's week).

    The GP works Mondays and Wednesdays 09:00-10:00 and the nurse Tuesdays 14:00-15:00, in 15-minute
    slots (4 a session), offered from W1's Monday for three weeks. Booked at 07:00 on W1's Monday:

      W1 GP  Mon 09:00 Alice   checked in and seen: attended
             Mon 09:15 Carol   did not attend
             Mon 09:30 Carol   cancelled by reception (the practice)
             Mon 09:45 Alice   booked and cancelled by Alice herself (the patient)
             Wed 09:00 Carol   seen by telephone, done without check-in: attended
      W1 nurse Tue 14:00 Alice vaccination: attended
      W2 GP  Mon 09:00 Alice   did not attend
             Mon 09:15 Carol   attended
             Wed 09:00 Alice   attended
             Wed 09:15 Carol   no outcome recorded (still booked)
             Tue 11:00 Carol   an imported appointment, cancelled, with no record of who cancelled it
    """
    settings.SLOT_HORIZON_DAYS = 20
    this_monday = BASE_DAY - dt.timedelta(days=BASE_DAY.weekday())
    w1 = this_monday - dt.timedelta(weeks=2)
    w2 = this_monday - dt.timedelta(weeks=1)

    def moment(monday: dt.date, plus_days: int, time: dt.time) -> dt.datetime:
        return clock.london_datetime(monday + dt.timedelta(days=plus_days), time)

    clock.freeze(clock.london_datetime(w1, BASE_TIME))
    manager = Actor.command_line(world.manager)
    reception = Actor.command_line(world.reception)
    gp, nurse, alice = (
        Actor.command_line(world.gp),
        Actor.command_line(world.nurse),
        Actor.command_line(world.alice_user),
    )
    services.opening_hours_set(actor=manager, facility=world.surgery, hours=EVERY_DAY_8_TO_8)
    for weekday in (0, 2):
        services.session_add(
            actor=manager,
            clinician=world.gp.clinician,
            weekday=weekday,
            start_time=NINE,
            end_time=dt.time(10, 0),
            slot_minutes=15,
            appointment_types=["Routine Consultation"],
        )
    services.session_add(
        actor=manager,
        clinician=world.nurse.clinician,
        weekday=1,
        start_time=dt.time(14, 0),
        end_time=dt.time(15, 0),
        slot_minutes=15,
        appointment_types=["Vaccination"],
    )

    def gp_slot(monday: dt.date, plus_days: int, time: dt.time) -> Slot:
        return _slot(world, world.gp, moment(monday, plus_days, time))

    w1_seen = _book(world, reception, world.alice, gp_slot(w1, 0, NINE))
    w1_dna = _book(world, reception, world.carol, gp_slot(w1, 0, QUARTER_PAST))
    w1_practice_cancel = _book(world, reception, world.carol, gp_slot(w1, 0, HALF_PAST))
    w1_patient_cancel = _book(world, alice, world.alice, gp_slot(w1, 0, QUARTER_TO))
    w1_phone = _book(world, reception, world.carol, gp_slot(w1, 2, NINE))
    w1_vaccination = _book(
        world, reception, world.alice, _slot(world, world.nurse, moment(w1, 1, dt.time(14, 0))), "Vaccination"
    )
    w2_dna = _book(world, reception, world.alice, gp_slot(w2, 0, NINE))
    w2_seen = _book(world, reception, world.carol, gp_slot(w2, 0, QUARTER_PAST))
    w2_wed_seen = _book(world, reception, world.alice, gp_slot(w2, 2, NINE))
    _book(world, reception, world.carol, gp_slot(w2, 2, QUARTER_PAST))
    services.appointment_cancel(actor=reception, appointment=w1_practice_cancel, reason="GP called away")
    services.appointment_cancel(actor=alice, appointment=w1_patient_cancel, reason="Feeling better")

    clock.freeze(moment(w1, 0, dt.time(9, 5)))
    services.appointment_check_in(actor=reception, appointment=w1_seen)
    services.appointment_complete(actor=gp, appointment=w1_seen)
    clock.freeze(moment(w1, 0, dt.time(9, 20)))
    services.appointment_mark_no_show(actor=reception, appointment=w1_dna)
    clock.freeze(moment(w1, 1, dt.time(14, 5)))
    services.appointment_check_in(actor=reception, appointment=w1_vaccination)
    services.appointment_complete(actor=nurse, appointment=w1_vaccination)
    clock.freeze(moment(w1, 2, dt.time(9, 5)))
    services.appointment_complete(actor=gp, appointment=w1_phone, reason="Seen by telephone")
    clock.freeze(moment(w2, 0, dt.time(9, 20)))
    services.appointment_mark_no_show(actor=reception, appointment=w2_dna)
    services.appointment_check_in(actor=reception, appointment=w2_seen)
    services.appointment_complete(actor=gp, appointment=w2_seen)
    clock.freeze(moment(w2, 2, dt.time(9, 5)))
    services.appointment_check_in(actor=reception, appointment=w2_wed_seen)
    services.appointment_complete(actor=gp, appointment=w2_wed_seen)

    clock.freeze(BASE_MOMENT)
    # An imported appointment (no slot, no audit row): cancelled, but by whom was never recorded.
    Appointment.objects.create(
        patient=world.carol,
        clinician=world.gp.clinician,
        facility=world.surgery,
        starts_at=moment(w2, 1, dt.time(11, 0)),
        duration_minutes=15,
        appointment_type="Routine Consultation",
        status=AppointmentStatus.CANCELLED,
        cancellation_reason="Imported",
        created_at=BASE_MOMENT,
        updated_at=BASE_MOMENT,
    )
    return AppointmentsWorld(world=world, first_monday=w1, second_monday=w2)


@dataclass
class AccessWorld:
    world: World
    week_ago: dt.datetime  # d - 7 at 07:00, when the sessions were set and the first bookings made
    now: dt.datetime  # the base moment


def build_access_world(world: World, settings) -> AccessWorld:
    """The hand-worked example of the third next available routine appointment (docs/reports.md).

    The GP works 09:00-10:00 (four 15-minute routine slots) on the weekdays of d+1 and d+3, that is on
    days d-6, d-4, d+1, d+3, d+8, d+10...; the nurse offers only vaccination slots, which are not
    routine. At d-7 07:00 (a week ago) reception books all four slots of d-6 and 09:00 and 09:15 of d-4;
    at d-6 08:00 the 09:00 booking of d-6 is cancelled. At d 07:00 (now) reception books all four of d+1
    and 09:00 of d+3.

    A week ago the free routine slots were d-4 09:30, d-4 09:45 and then d+1 09:00 (d-6 09:00 was still
    held: it was cancelled only later): the third is on d+1, 8 days after d-7.
    Now they are d+3 09:15, 09:30 and 09:45: the third is on d+3, 3 days after today.
    """
    settings.SLOT_HORIZON_DAYS = 13
    week_ago = at(-7, BASE_TIME)
    clock.freeze(week_ago)
    manager = Actor.command_line(world.manager)
    reception = Actor.command_line(world.reception)
    services.opening_hours_set(actor=manager, facility=world.surgery, hours=EVERY_DAY_8_TO_8)
    for offset in (1, 3):
        services.session_add(
            actor=manager,
            clinician=world.gp.clinician,
            weekday=day(offset).weekday(),
            start_time=NINE,
            end_time=dt.time(10, 0),
            slot_minutes=15,
            appointment_types=["Routine Consultation", "Follow-up"],
        )
    services.session_add(
        actor=manager,
        clinician=world.nurse.clinician,
        weekday=day(1).weekday(),
        start_time=dt.time(14, 0),
        end_time=dt.time(15, 0),
        slot_minutes=15,
        appointment_types=["Vaccination"],
    )
    patients = [world.alice, world.carol]
    first = None
    for index, time in enumerate((NINE, QUARTER_PAST, HALF_PAST, QUARTER_TO)):
        booked = _book(world, reception, patients[index % 2], _slot(world, world.gp, at(-6, time)))
        first = first or booked
    for index, time in enumerate((NINE, QUARTER_PAST)):
        _book(world, reception, patients[index % 2], _slot(world, world.gp, at(-4, time)))
    clock.freeze(at(-6, dt.time(8, 0)))
    assert first is not None
    services.appointment_cancel(actor=reception, appointment=first, reason="Patient phoned to cancel")

    clock.freeze(BASE_MOMENT)
    services.slots_regenerate(actor=manager, clinician=world.gp.clinician)
    for index, time in enumerate((NINE, QUARTER_PAST, HALF_PAST, QUARTER_TO)):
        _book(world, reception, patients[index % 2], _slot(world, world.gp, at(1, time)))
    _book(world, reception, world.alice, _slot(world, world.gp, at(3, NINE)))
    return AccessWorld(world=world, week_ago=week_ago, now=BASE_MOMENT)
