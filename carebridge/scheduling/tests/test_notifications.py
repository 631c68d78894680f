"""Booking, moving and cancelling email the patient through a real SMTP server, with a calendar
invitation that updates one event in their calendar."""

import datetime as dt

import pytest
from django.db import transaction

from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid
from carebridge.delivery.models import EmailStatus, OutboundEmail
from carebridge.delivery.services import deliver_email
from carebridge.delivery.tests.mail_testing import (  # noqa: F401 (mail_server is a fixture)
    body_of,
    calendar_of,
    mail_server,
    queued_deliveries,
    run_queued_mail,
)
from carebridge.patients.models import Patient
from carebridge.scheduling import services
from carebridge.testing.days import ics_stamp, when
from carebridge.testing.schedule import MONDAY_MORNING, schedule_time, slot_at

ALICE_EMAIL = "alice.archer@example.com"
NINE = dt.time(9, 0)


@pytest.fixture
def alice(schedule) -> Patient:
    Patient.objects.filter(pk=schedule.alice.pk).update(email=ALICE_EMAIL)
    schedule.alice.refresh_from_db()
    return schedule.alice


def as_alice(world) -> Actor:
    return Actor(user=world.alice_user, channel="web")


def book(world, patient: Patient, day: int, time: dt.time, actor: Actor | None = None):
    return services.appointment_book(
        actor=actor or as_alice(world),
        patient=patient,
        slot=slot_at(world, day, time),
        appointment_type="Routine Consultation",
        reason="Persistent cough",
    )


def test_booking_emails_the_patient_once_with_a_calendar_invitation(schedule, alice, mail_server):
    appointment = book(schedule, alice, 0, NINE)
    assert run_queued_mail() == ["sent"]

    [message] = mail_server.messages
    assert message["To"] == ALICE_EMAIL
    assert message["Subject"] == f"Appointment booked: {when(schedule_time(0, NINE))}"
    body = body_of(message)
    assert body.startswith("Dear Alice Archer,\n\nYour appointment is booked.")
    assert f"{when(schedule_time(0, NINE))} (15 minutes)" in body
    assert "Dr. Grace Patel" in body and "Routine Consultation" in body
    assert "Oak Tree Surgery" in body and "1 Oak Tree Surgery Road, B1 1AA" in body
    assert "To move or cancel this appointment, sign in to Carebridge at http" in body

    part, calendar = calendar_of(message)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "appointment.ics"
    assert calendar.value("METHOD") == "REQUEST"
    event = calendar.component("VEVENT")
    assert event.value("UID") == f"{appointment.public_id}@carebridge"
    assert event.value("SEQUENCE") == "0"
    # In UTC: 09:00 in London is 09:00 UTC in winter, 08:00 in summer (both pinned in test_mail_calendar.py).
    assert event.value("DTSTART") == ics_stamp(schedule_time(0, NINE))
    assert event.value("DTEND") == ics_stamp(schedule_time(0, dt.time(9, 15)))
    assert event.value("DTSTAMP") == ics_stamp(MONDAY_MORNING)  # the frozen clock: Monday 07:00
    assert event.value("STATUS") == "CONFIRMED"
    assert event.text("SUMMARY") == "Appointment at Oak Tree Surgery"
    assert event.text("LOCATION") == "Oak Tree Surgery, 1 Oak Tree Surgery Road, B1 1AA"
    # The surgery is the organiser: its own address (the test world gives each facility one).
    assert event.one("ORGANIZER").value == "mailto:s1@nhs.example"
    assert event.one("ATTENDEE").value == f"mailto:{ALICE_EMAIL}"


def test_the_reason_for_the_visit_stays_out_of_email(schedule, alice, mail_server):
    book(schedule, alice, 0, NINE)
    run_queued_mail()
    [message] = mail_server.messages
    assert "cough" not in message.as_string()
    assert "cough" not in calendar_of(message)[1].component("VEVENT").text("DESCRIPTION")


def test_each_move_sends_the_new_time_with_a_higher_sequence_for_the_same_event(schedule, alice, mail_server):
    appointment = book(schedule, alice, 0, NINE)
    services.appointment_move(
        actor=as_alice(schedule), appointment=appointment, new_slot=slot_at(schedule, 1, dt.time(10, 0))
    )
    services.appointment_move(
        actor=as_alice(schedule), appointment=appointment, new_slot=slot_at(schedule, 2, dt.time(11, 30))
    )
    assert run_queued_mail() == ["sent", "sent", "sent"]

    booked, first_move, second_move = mail_server.messages
    assert first_move["Subject"] == f"Appointment moved to {when(schedule_time(1, dt.time(10, 0)))}"
    assert f"Was:       {when(schedule_time(0, NINE))}" in body_of(first_move)
    assert f"Was:       {when(schedule_time(1, dt.time(10, 0)))}" in body_of(second_move)
    events = [calendar_of(message)[1] for message in (booked, first_move, second_move)]
    assert [calendar.value("METHOD") for calendar in events] == ["REQUEST"] * 3
    assert {calendar.component("VEVENT").value("UID") for calendar in events} == {f"{appointment.public_id}@carebridge"}
    assert [calendar.component("VEVENT").value("SEQUENCE") for calendar in events] == ["0", "1", "2"]
    assert [calendar.component("VEVENT").value("DTSTART") for calendar in events] == [
        ics_stamp(schedule_time(0, NINE)),
        ics_stamp(schedule_time(1, dt.time(10, 0))),
        ics_stamp(schedule_time(2, dt.time(11, 30))),
    ]
    assert set(OutboundEmail.objects.values_list("idempotency_key", flat=True)) == {
        f"appointment:{appointment.public_id}:booked",
        f"appointment:{appointment.public_id}:moved:1",
        f"appointment:{appointment.public_id}:moved:2",
    }


def test_cancelling_sends_a_cancel_for_the_same_event_with_a_higher_sequence(schedule, alice, mail_server):
    appointment = book(schedule, alice, 0, NINE)
    services.appointment_move(
        actor=as_alice(schedule), appointment=appointment, new_slot=slot_at(schedule, 1, dt.time(10, 0))
    )
    services.appointment_cancel(actor=as_alice(schedule), appointment=appointment, reason="Feeling better")
    run_queued_mail()

    cancelled = mail_server.messages[-1]
    tuesday_ten = schedule_time(1, dt.time(10, 0))
    assert cancelled["Subject"] == f"Appointment cancelled: {when(tuesday_ten)}"
    body = body_of(cancelled)
    assert (
        f"Your appointment on {when(tuesday_ten)} with Dr. Grace Patel at Oak Tree Surgery has been cancelled." in body
    )
    assert "Feeling better" not in body
    part, calendar = calendar_of(cancelled)
    assert part.get_param("method") == "CANCEL"
    assert calendar.value("METHOD") == "CANCEL"
    event = calendar.component("VEVENT")
    assert event.value("STATUS") == "CANCELLED"
    assert event.value("UID") == f"{appointment.public_id}@carebridge"
    assert event.value("SEQUENCE") == "2"  # after the booking (0) and the move (1)
    assert event.value("DTSTART") == ics_stamp(tuesday_ten)


def test_reception_booking_for_the_patient_emails_the_patient(schedule, alice, mail_server):
    book(schedule, alice, 0, NINE, actor=Actor(user=schedule.reception, channel="web"))
    run_queued_mail()
    [message] = mail_server.messages
    assert message["To"] == ALICE_EMAIL


def test_nothing_is_sent_when_the_booking_transaction_rolls_back(schedule, alice, mail_server):
    class ClientWentAway(Exception):
        pass

    with pytest.raises(ClientWentAway), transaction.atomic():
        book(schedule, alice, 0, NINE)
        assert OutboundEmail.objects.count() == 1 and queued_deliveries().count() == 1
        raise ClientWentAway()
    assert not OutboundEmail.objects.exists()
    assert not queued_deliveries().exists()
    assert run_queued_mail() == []
    assert mail_server.messages == []


def test_a_refused_booking_sends_nothing(schedule, alice, mail_server):
    book(schedule, alice, 0, NINE)
    with pytest.raises(Invalid):
        book(schedule, alice, 0, NINE)
    run_queued_mail()
    assert len(mail_server.messages) == 1


def test_delivering_the_confirmation_twice_sends_it_once(schedule, alice, mail_server):
    book(schedule, alice, 0, NINE)
    run_queued_mail()
    email = OutboundEmail.objects.get()
    assert deliver_email.call(email.pk) == "nothing to do"
    assert len(mail_server.messages) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)


def test_a_patient_with_no_email_address_is_booked_and_sent_nothing(schedule, mail_server):
    assert schedule.alice.email == ""
    appointment = book(schedule, schedule.alice, 0, NINE)
    services.appointment_cancel(actor=as_alice(schedule), appointment=appointment, reason="Feeling better")
    assert not OutboundEmail.objects.exists()
    assert run_queued_mail() == []
    assert mail_server.messages == []
