"""A booking and a schedule change that takes its slot away, in two real transactions at once.

Leave added for a clinician (or any change of their sessions) regenerates their slots: a free slot no longer
offered is deleted, a booked one is withdrawn and its appointment flagged for rebooking. A booking of that
very slot may be running at the same moment. Whichever commits first, the other must see it: the booking
is flagged for rebooking, or the booking is refused with "no longer offered". Neither may fail with an
error, and no appointment may be left on a slot nobody offers without being flagged.

Each test holds one transaction open at a known point, starts the other, waits until PostgreSQL says the
second is waiting for the first's row lock (or has finished, which is the defect these tests catch), and
only then lets the first commit. PostgreSQL only: SQLite has one writer at a time and no row locks.
"""

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.errors import SlotUnavailable
from carebridge.scheduling.models import Appointment, Slot
from carebridge.scheduling.tests.test_concurrency import _patients
from carebridge.testing.schedule import schedule_time, slot_at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between transactions are PostgreSQL's"),
]

# How long the test waits for the second transaction to reach the lock or finish before it calls the
# test failed. Not a measure of speed: it only keeps a broken run from hanging the suite.
PATIENCE_SECONDS = 60


class _Held:
    """`work` run in its own thread and connection, inside a transaction that stays open until released."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.outcome: object = None
        self.backend_pid: int | None = None
        self.done_work = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work: Callable[[], object]) -> None:
        try:
            with transaction.atomic():
                self.outcome = work()
                self.done_work.set()
                assert self._release.wait(PATIENCE_SECONDS), "never released"
        except Exception as error:  # the outcome under test: which error, if any
            self.outcome = error
        finally:
            self.done_work.set()
            connection.close()

    def start(self) -> "_Held":
        self._thread.start()
        assert self.done_work.wait(PATIENCE_SECONDS), "the held transaction did not do its work"
        return self

    def commit(self) -> None:
        self._release.set()
        self._thread.join(PATIENCE_SECONDS)
        assert not self._thread.is_alive()


class _Racing:
    """`work` run in its own thread and connection, in its own transaction(s), to the end."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.outcome: object = None
        self.backend_pid: int | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work: Callable[[], object]) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend_pid = cursor.fetchone()[0]
            self._started.set()
            self.outcome = work()
        except Exception as error:  # the outcome under test
            self.outcome = error
        finally:
            self._started.set()
            connection.close()

    def start(self) -> "_Racing":
        self._thread.start()
        assert self._started.wait(PATIENCE_SECONDS)
        return self

    def wait_until_blocked_or_done(self) -> None:
        """Until PostgreSQL shows this connection waiting for a lock, or the work has ended."""
        deadline = threading.Event()
        for _ in range(PATIENCE_SECONDS * 20):
            if not self._thread.is_alive():
                return
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [self.backend_pid])
                row = cursor.fetchone()
            if row is not None and row[0] == "Lock":
                return
            deadline.wait(0.05)
        pytest.fail("the racing transaction neither waited for the lock nor finished")

    def join(self) -> None:
        self._thread.join(PATIENCE_SECONDS)
        assert not self._thread.is_alive()


def _leave_over_nine(schedule) -> Callable[[], object]:
    manager = Actor.command_line(schedule.manager)
    return lambda: services.exception_add(
        actor=manager,
        facility=schedule.surgery,
        clinician=schedule.gp.clinician,
        starts_at=schedule_time(0, dt.time(9, 0)),
        ends_at=schedule_time(0, dt.time(9, 15)),
        reason="Annual leave",
    )


def _booking(schedule, slot: Slot) -> Callable[[], object]:
    reception = Actor.command_line(schedule.reception)
    [patient] = _patients(schedule, 1)
    return lambda: services.appointment_book(
        actor=reception, patient=patient, slot=slot, appointment_type="Routine Consultation", reason="Check-up"
    )


def test_leave_added_while_a_booking_commits_flags_that_booking_for_rebooking(schedule):
    slot = slot_at(schedule, 0, dt.time(9, 0))
    booking = _Held(_booking(schedule, slot)).start()
    assert isinstance(booking.outcome, Appointment), booking.outcome

    leave = _Racing(_leave_over_nine(schedule)).start()
    leave.wait_until_blocked_or_done()
    booking.commit()
    leave.join()

    assert isinstance(booking.outcome, Appointment), booking.outcome
    assert not isinstance(leave.outcome, Exception), leave.outcome
    appointment = Appointment.objects.get(pk=booking.outcome.pk)
    assert appointment.status == "booked" and appointment.needs_rebooking
    assert Slot.objects.get(pk=slot.pk).withdrawn


def test_a_booking_made_while_leave_commits_is_refused_as_no_longer_offered(schedule):
    slot = slot_at(schedule, 0, dt.time(9, 0))
    leave = _Held(_leave_over_nine(schedule)).start()
    assert not isinstance(leave.outcome, Exception), leave.outcome

    booking = _Racing(_booking(schedule, slot)).start()
    booking.wait_until_blocked_or_done()
    leave.commit()
    booking.join()

    assert not isinstance(leave.outcome, Exception), leave.outcome
    assert isinstance(booking.outcome, SlotUnavailable), booking.outcome
    assert booking.outcome.message == "That time is no longer offered. Please choose another."
    assert not Appointment.objects.filter(slot_id=slot.pk).exists()
    assert not Slot.objects.filter(pk=slot.pk).exists()
