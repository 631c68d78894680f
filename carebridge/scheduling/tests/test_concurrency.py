"""No double booking under load: many real transactions racing through the real booking path.

Each thread has its own database connection and transaction, as separate web workers would. On
PostgreSQL the partial unique index decides between racing inserts; on SQLite the database's single
write lock queues them. Either way the loser gets SlotUnavailable, never an error.
"""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid
from carebridge.patients.models import Gender, Patient
from carebridge.scheduling import services
from carebridge.scheduling.errors import SlotUnavailable
from carebridge.scheduling.models import HOLDING_STATUSES, Appointment
from carebridge.testing.schedule import slot_at

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 24


def _patients(world, count):
    now = clock.now()
    return [
        Patient.objects.create(
            first_name=f"Racer{index}",
            last_name="Test",
            date_of_birth=dt.date(1970, 1, 1),
            gender=Gender.UNKNOWN,
            registration_date=dt.date(2020, 1, 1),
            registered_surgery=world.surgery,
            created_at=now,
            updated_at=now,
        )
        for index in range(count)
    ]


def _race(functions):
    """Start every function at the same moment, each in its own thread and connection; collect outcomes."""
    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait()
            outcomes[index] = function()
        except Exception as error:  # the outcome under test: which error, if any
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, function)) for index, function in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_bookings_leave_exactly_one_appointment_per_slot(schedule):
    slots = [
        slot_at(schedule, 0, dt.time(9, 0)),
        slot_at(schedule, 0, dt.time(9, 15)),
        slot_at(schedule, 0, dt.time(9, 30)),
    ]
    reception = Actor.command_line(schedule.reception)
    racers = _patients(schedule, RACERS)

    def booking(patient, slot):
        return lambda: services.appointment_book(
            actor=reception, patient=patient, slot=slot, appointment_type="Routine Consultation", reason="Check-up"
        )

    outcomes = _race([booking(patient, slots[index % 3]) for index, patient in enumerate(racers)])

    won = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, SlotUnavailable)]
    assert len(won) == 3 and len(lost) == RACERS - 3, outcomes
    holders = Counter(
        Appointment.objects.filter(slot__in=slots, status__in=HOLDING_STATUSES).values_list("slot_id", flat=True)
    )
    assert holders == {slot.pk: 1 for slot in slots}
    assert all(loser.message == "That time has just been taken. Please choose another." for loser in lost)


def test_a_move_racing_a_booking_never_loses_or_doubles_a_slot(schedule):
    reception = Actor.command_line(schedule.reception)
    movers = _patients(schedule, 6)
    bookers = _patients(schedule, 6)
    rounds = []
    for index in range(6):
        original = (
            slot_at(schedule, 1, dt.time(9, 0))
            if index == 0
            else slot_at(schedule, 1 + index // 3, dt.time(9, 15 * (index % 3)))
        )
        contested = slot_at(schedule, 4, dt.time(9 + index // 4, 15 * (index % 4)))
        appointment = services.appointment_book(
            actor=reception, patient=movers[index], slot=original, appointment_type="Follow-up", reason="Check-up"
        )
        rounds.append((appointment, original, contested))

    functions = []
    for index, (appointment, _original, contested) in enumerate(rounds):
        functions.append(
            lambda a=appointment, s=contested: services.appointment_move(actor=reception, appointment=a, new_slot=s)
        )
        functions.append(
            lambda p=bookers[index], s=contested: services.appointment_book(
                actor=reception, patient=p, slot=s, appointment_type="Follow-up", reason="Check-up"
            )
        )
    outcomes = _race(functions)

    assert all(isinstance(outcome, (Appointment, SlotUnavailable)) for outcome in outcomes), outcomes
    for appointment, original, contested in rounds:
        appointment.refresh_from_db()
        holders = list(Appointment.objects.filter(slot=contested, status__in=HOLDING_STATUSES))
        assert len(holders) == 1
        if holders[0].pk == appointment.pk:
            # The move won: the original slot is free again.
            assert not Appointment.objects.filter(slot=original, status__in=HOLDING_STATUSES).exists()
        else:
            # The booking won: the mover still holds the original slot, nothing lost.
            assert appointment.slot == original and appointment.status == "booked"


def test_one_patient_booked_into_two_rooms_at_once_gets_one(schedule):
    """The patient's row lock in appointment_book: without it, two bookings for the same patient at the
    same time with different clinicians would each see no overlap and both be made."""
    services.session_add(
        actor=Actor.command_line(schedule.manager),
        clinician=schedule.nurse.clinician,
        weekday=0,
        start_time=dt.time(9, 0),
        end_time=dt.time(12, 0),
        slot_minutes=15,
        appointment_types=["Routine Consultation"],
    )
    reception = Actor.command_line(schedule.reception)
    times = [dt.time(9, 0), dt.time(9, 15), dt.time(9, 30), dt.time(9, 45), dt.time(10, 0), dt.time(10, 15)]
    for patient, time in zip(_patients(schedule, len(times)), times, strict=True):
        gp_slot = slot_at(schedule, 0, time)
        nurse_slot = schedule.nurse.clinician.slots.get(starts_at=gp_slot.starts_at)

        outcomes = _race(
            [
                lambda slot=slot, patient=patient: services.appointment_book(
                    actor=reception, patient=patient, slot=slot, appointment_type="Routine Consultation", reason="Check"
                )
                for slot in (gp_slot, nurse_slot)
            ]
        )

        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Appointment", "Invalid"], outcomes
        [refused] = [outcome for outcome in outcomes if isinstance(outcome, Invalid)]
        assert "Appointments cannot overlap" in refused.message
        assert Appointment.objects.filter(patient=patient, status__in=HOLDING_STATUSES).count() == 1
