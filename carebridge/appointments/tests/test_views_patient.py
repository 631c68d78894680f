"""The patient portal's appointment pages: Alice books, moves and cancels her own GP appointments.

The `schedule` fixture gives the GP free 15-minute slots 09:00-12:00 every weekday, and stops the
clock on a Monday at 07:00 (carebridge/testing/schedule.py); the dates expected are counted from it.
"""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.days import long_day, when
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

NINE, TEN = dt.time(9, 0), dt.time(10, 0)
MINE = reverse("scheduling:mine")
BOOK = reverse("scheduling:book")


def _book_url(slot) -> str:
    return reverse("scheduling:book_confirm", args=[slot.public_id])


def _book(client, slot, *, reason="Cough for three weeks", appointment_type="Routine Consultation", search=""):
    return client.post(_book_url(slot), {"appointment_type": appointment_type, "reason": reason, "search": search})


def _booked(world, slot, who=None, patient=None) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(who or world.alice_user),
        patient=patient or world.alice,
        slot=slot,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )


def _denials(user, object_type=None):
    events = AuditEvent.objects.filter(actor=user, action=AuditAction.DENY)
    return events.filter(object_type=object_type) if object_type else events


# --- Seeing free times ---------------------------------------------------------------------------------


def test_the_patient_sees_free_times_at_their_surgery_one_day_at_a_time(schedule, client_for):
    response = client_for(schedule.alice_user).get(BOOK)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Book an appointment" in page and "Oak Tree Surgery" in page
    assert f'data-testid="day-{schedule_day(0)}"' in page
    assert f'data-testid="day-{schedule_day(1)}"' not in page  # the next day is behind "Next day"
    assert f"Free times on {long_day(schedule_day(0))}" in page
    assert _book_url(slot_at(schedule, 0, NINE)) in page
    assert "Dr. Grace Patel" in page
    # Only clinicians with free times are offered: the nurse has no sessions.
    assert "Nia Jones" not in page
    read = AuditEvent.objects.get(actor=schedule.alice_user, action=AuditAction.VIEW)
    assert read.patient_id == schedule.alice.pk and read.detail["purpose"] == "book an appointment"


def test_a_taken_slot_is_not_offered(schedule, client_for):
    taken = slot_at(schedule, 0, NINE)
    _booked(schedule, taken, who=schedule.reception, patient=schedule.carol)
    page = client_for(schedule.alice_user).get(BOOK).content.decode()
    assert _book_url(taken) not in page
    assert _book_url(slot_at(schedule, 0, dt.time(9, 15))) in page


def test_the_search_moves_through_the_days_and_filters_by_type(schedule, client_for):
    client = client_for(schedule.alice_user)
    page = client.get(BOOK, {"from_date": schedule_day(7).isoformat()}).content.decode()
    assert f'data-testid="day-{schedule_day(7)}"' in page and f'data-testid="day-{schedule_day(0)}"' not in page
    assert "Previous day" in page and "Next day" in page
    assert "Previous day" not in client.get(BOOK).content.decode()  # nothing before today
    none_of_this_type = client.get(BOOK, {"appointment_type": "Vaccination"})
    assert none_of_this_type.status_code == 200
    # Only offered types can be asked for.
    assert "Choose type of appointment from the list" in none_of_this_type.content.decode()
    follow_up = client.get(BOOK, {"appointment_type": "Follow-up"}).content.decode()
    assert _book_url(slot_at(schedule, 0, NINE)) + "?from_date=" in follow_up
    assert "appointment_type=Follow-up" in follow_up.split(_book_url(slot_at(schedule, 0, NINE)))[1].split('"')[0]


def test_a_date_in_the_past_is_refused_with_a_message(schedule, client_for):
    page = client_for(schedule.alice_user).get(BOOK, {"from_date": schedule_day(-29).isoformat()}).content.decode()
    assert "There is a problem" in page and "Choose today or a later date." in page


# --- Booking -------------------------------------------------------------------------------------------


def test_the_patient_books_a_slot_with_a_reason(schedule, client_for):
    client = client_for(schedule.alice_user)
    slot = slot_at(schedule, 0, NINE)
    confirm = client.get(_book_url(slot), {"appointment_type": "Follow-up"}).content.decode()
    assert "Check and book your appointment" in confirm and when(schedule_time(0, NINE)) in confirm
    response = _book(client, slot, appointment_type="Follow-up")
    assert response.status_code == 302 and response["Location"] == MINE
    appointment = Appointment.objects.get(slot=slot)
    assert appointment.patient == schedule.alice and appointment.status == AppointmentStatus.BOOKED
    assert appointment.appointment_type == "Follow-up" and appointment.reason_for_visit == "Cough for three weeks"
    page = client.get(MINE).content.decode()
    assert f"Your appointment is booked for {when(schedule_time(0, NINE), year=False)} with Dr. Grace Patel." in page
    assert reverse("scheduling:move", args=[appointment.public_id]) in page
    assert reverse("scheduling:cancel", args=[appointment.public_id]) in page


def test_a_booking_needs_a_reason_and_a_type(schedule, client_for):
    response = _book(client_for(schedule.alice_user), slot_at(schedule, 0, NINE), reason="", appointment_type="")
    page = response.content.decode()
    assert response.status_code == 422
    assert "Say briefly what the appointment is about." in page and "Choose the type of appointment." in page
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_a_reason_longer_than_300_characters_is_refused(schedule, client_for):
    response = _book(client_for(schedule.alice_user), slot_at(schedule, 0, NINE), reason="x" * 301)
    assert "Keep the reason to 300 characters or fewer." in response.content.decode()
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_a_slot_taken_meanwhile_returns_the_patient_to_the_slot_list_with_the_message(schedule, client_for):
    slot = slot_at(schedule, 0, NINE)
    client = client_for(schedule.alice_user)
    client.get(_book_url(slot))  # Alice looks at the time...
    _booked(schedule, slot, who=schedule.reception, patient=schedule.carol)  # ...someone else books it first
    response = _book(client, slot, search=f"from_date={schedule_day(0)}")
    page = response.content.decode()
    assert response.status_code == 409
    assert "That time has just been taken. Please choose another." in page
    assert 'data-testid="slot-search"' in page and f'data-testid="day-{schedule_day(0)}"' in page
    assert _book_url(slot) not in page
    assert not Appointment.objects.filter(patient=schedule.alice, slot__isnull=False).exists()
    # Losing a race is not a refusal of access: nothing for the audit trail.
    assert not _denials(schedule.alice_user).exists()


def test_opening_a_taken_slot_shows_the_slot_list(schedule, client_for):
    slot = slot_at(schedule, 0, NINE)
    _booked(schedule, slot, who=schedule.reception, patient=schedule.carol)
    page = client_for(schedule.alice_user).get(_book_url(slot)).content.decode()
    assert "That time has just been taken" in page and 'data-testid="slot-search"' in page


def test_overlapping_appointments_are_refused_on_the_page(schedule, client_for):
    _booked(schedule, slot_at(schedule, 0, NINE))
    services.session_add(
        actor=Actor.command_line(schedule.manager),
        clinician=schedule.nurse.clinician,
        weekday=0,
        start_time=NINE,
        end_time=TEN,
        slot_minutes=30,
        appointment_types=["Routine Consultation"],
    )
    nurse_slot = schedule.nurse.clinician.slots.order_by("starts_at").first()
    response = _book(client_for(schedule.alice_user), nurse_slot)
    page = response.content.decode()
    assert response.status_code == 422
    monday = schedule_day(0)
    assert f"You already have an appointment at 09:00 on {monday.day} {monday:%B}. Appointments cannot overlap." in page
    assert not Appointment.objects.filter(slot=nurse_slot).exists()


def test_a_time_already_passed_is_refused_on_the_page(schedule, client_for):
    slot = slot_at(schedule, 0, NINE)
    clock.freeze(slot.starts_at + dt.timedelta(minutes=1))
    response = _book(client_for(schedule.alice_user), slot)
    assert "That time has already passed. Please choose a later time." in response.content.decode()
    assert not Appointment.objects.filter(slot=slot).exists()


def test_a_patient_cannot_book_a_slot_at_another_surgery(schedule, client_for):
    # Bob is registered at the other surgery; the GP's slots are at Alice's. Slots are not patient data,
    # so the slot may be named; the booking service refuses it, and Bob may see his own record: 403.
    slot = slot_at(schedule, 0, NINE)
    response = _book(client_for(schedule.bob_user), slot)
    assert response.status_code == 403
    assert "You can book only with clinicians at the surgery you are registered with." in response.content.decode()
    assert not Appointment.objects.filter(slot=slot).exists()
    denial = _denials(schedule.bob_user).get()
    assert denial.object_type == "appointment" and denial.patient_id == schedule.bob.pk


# --- Your appointments --------------------------------------------------------------------------------


def test_your_appointments_lists_upcoming_and_past_with_status(schedule, client_for):
    upcoming = _booked(schedule, slot_at(schedule, 1, NINE))
    cancelled = _booked(schedule, slot_at(schedule, 2, NINE))
    services.appointment_cancel(
        actor=Actor.command_line(schedule.alice_user), appointment=cancelled, reason="Feeling better"
    )
    page = client_for(schedule.alice_user).get(MINE).content.decode()
    upcoming_part, past_part = page.split("Past and cancelled")
    hospital = schedule.alice.appointments.get(facility=schedule.hospital)
    assert when(schedule_time(1, NINE)) in upcoming_part
    assert when(hospital.starts_at) in upcoming_part  # the hospital appointment from the world
    assert long_day(schedule_day(2), year=False) not in upcoming_part
    assert "Cancelled" in past_part and "Feeling better" in past_part
    assert reverse("scheduling:move", args=[upcoming.public_id]) in upcoming_part
    # The hospital appointment was booked by the hospital: the patient is told whom to contact instead.
    assert reverse("scheduling:cancel", args=[hospital.public_id]) not in page
    assert "To change this appointment, contact Heartlands Hospital" in page


def test_the_patients_record_page_links_to_booking_and_their_appointments(schedule, client_for):
    page = client_for(schedule.alice_user).get(reverse("records:my_record")).content.decode()
    assert f'href="{BOOK}"' in page and f'href="{MINE}"' in page


@pytest.mark.parametrize("name", ["gp", "reception", "manager", "porter", "admin", "privacy"])
def test_the_patient_pages_are_for_patients_only(schedule, client_for, name):
    user = getattr(schedule, name)
    client = client_for(user)
    assert client.get(MINE).status_code == 404
    assert client.get(BOOK).status_code == 404
    assert client.get(_book_url(slot_at(schedule, 0, NINE))).status_code == 404
    assert _denials(user).count() == 3


def test_signed_out_visitors_are_sent_to_sign_in(schedule, client):
    for url in (MINE, BOOK, _book_url(slot_at(schedule, 0, NINE))):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- Moving ----------------------------------------------------------------------------------------------


def _move_url(appointment, slot=None) -> str:
    if slot is None:
        return reverse("scheduling:move", args=[appointment.public_id])
    return reverse("scheduling:move_confirm", args=[appointment.public_id, slot.public_id])


def test_the_patient_moves_an_appointment_to_another_free_time(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    old_slot, new_slot = appointment.slot, slot_at(schedule, 0, TEN)
    client = client_for(schedule.alice_user)
    picker = client.get(_move_url(appointment)).content.decode()
    assert "Choose a new time" in picker
    assert f"Your appointment is now on {when(schedule_time(0, NINE), year=False)}" in picker
    assert _move_url(appointment, new_slot) in picker
    confirm = client.get(_move_url(appointment, new_slot)).content.decode()
    assert when(schedule_time(0, TEN)) in confirm and "Change to this time" in confirm
    response = client.post(_move_url(appointment, new_slot), {"search": ""})
    assert response.status_code == 302 and response["Location"] == MINE
    appointment.refresh_from_db()
    assert appointment.slot == new_slot and appointment.starts_at == new_slot.starts_at
    assert appointment.status == AppointmentStatus.BOOKED
    assert not Appointment.objects.filter(slot=old_slot).exists()  # the old time is free again
    moved = f"The appointment has moved to {when(schedule_time(0, TEN), year=False)}"
    assert moved in client.get(MINE).content.decode()


def test_moving_onto_a_taken_time_keeps_the_original_and_returns_to_the_list(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    taken = slot_at(schedule, 0, TEN)
    _booked(schedule, taken, who=schedule.reception, patient=schedule.carol)
    response = client_for(schedule.alice_user).post(_move_url(appointment, taken), {"search": ""})
    page = response.content.decode()
    assert response.status_code == 409
    assert "That time has just been taken. Please choose another." in page and "Choose a new time" in page
    appointment.refresh_from_db()
    assert appointment.slot == slot_at(schedule, 0, NINE) and appointment.status == AppointmentStatus.BOOKED


def test_an_appointment_that_has_started_cannot_be_moved(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    new_slot = slot_at(schedule, 1, NINE)
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=5))
    response = client_for(schedule.alice_user).post(_move_url(appointment, new_slot), {"search": ""})
    assert "This appointment has already started, so it cannot be moved." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.slot == slot_at(schedule, 0, NINE)


def test_another_patient_cannot_move_alices_appointment(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.bob_user)
    assert client.get(_move_url(appointment)).status_code == 404
    assert client.post(_move_url(appointment, slot_at(schedule, 0, TEN)), {"search": ""}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.slot == slot_at(schedule, 0, NINE)
    assert _denials(schedule.bob_user).filter(patient_id=schedule.alice.pk).count() == 2


def test_the_patient_cannot_move_an_appointment_the_hospital_booked(schedule, client_for):
    hospital = schedule.alice.appointments.get(facility=schedule.hospital)
    # Her own record, so she may see it (403, not 404); the hospital changes its own appointments.
    response = client_for(schedule.alice_user).get(_move_url(hospital))
    assert response.status_code == 403
    assert "This appointment was made by another clinic: contact them to change it." in response.content.decode()
    assert _denials(schedule.alice_user, "appointment").get().patient_id == schedule.alice.pk


# --- Cancelling ------------------------------------------------------------------------------------------


def _cancel_url(appointment) -> str:
    return reverse("scheduling:cancel", args=[appointment.public_id])


def test_the_patient_cancels_with_a_reason(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.alice_user)
    assert "Cancel your appointment" in client.get(_cancel_url(appointment)).content.decode()
    response = client.post(_cancel_url(appointment), {"reason": "Feeling better"})
    assert response.status_code == 302 and response["Location"] == MINE
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancellation_reason == "Feeling better"
    page = client.get(MINE).content.decode()
    assert f"The appointment on {when(schedule_time(0, NINE), year=False)} is cancelled." in page
    assert "Feeling better" in page.split("Past and cancelled")[1]


def test_a_cancellation_needs_a_reason(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    response = client_for(schedule.alice_user).post(_cancel_url(appointment), {"reason": "  "})
    assert "Say why the appointment is being cancelled." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_cancelling_after_the_start_is_refused_with_the_services_message(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=1))
    response = client_for(schedule.alice_user).post(_cancel_url(appointment), {"reason": "Running late"})
    assert response.status_code == 422
    assert "This appointment has already started, so it cannot be cancelled." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    # A rule broken, not access refused: no denial in the audit trail.
    assert not _denials(schedule.alice_user).exists()


def test_bob_cannot_cancel_alices_appointment(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.bob_user)
    assert client.get(_cancel_url(appointment)).status_code == 404
    response = client.post(_cancel_url(appointment), {"reason": "Not mine"})
    assert response.status_code == 404 and b"Alice" not in response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.cancellation_reason == ""
    denial = _denials(schedule.bob_user).last()
    assert denial.patient_id == schedule.alice.pk
    assert not AuditEvent.objects.filter(
        actor=schedule.bob_user, action=AuditAction.VIEW, patient_id=schedule.alice.pk
    ).exists()


# The GP may see Alice (registered at her surgery) but does not book: 403. The others may not see her: 404.
@pytest.mark.parametrize(("name", "status"), [("gp", 403), ("porter", 404), ("admin", 404), ("privacy", 404)])
def test_roles_that_do_not_book_cannot_change_or_cancel(schedule, client_for, name, status):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    user = getattr(schedule, name)
    client = client_for(user)
    assert client.get(_move_url(appointment)).status_code == status
    assert client.post(_cancel_url(appointment), {"reason": "x"}).status_code == status
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert _denials(user).filter(patient_id=schedule.alice.pk).count() == 2


def test_changing_is_a_post_only_a_get_changes_nothing(schedule, client_for):
    appointment = _booked(schedule, slot_at(schedule, 0, NINE))
    client = client_for(schedule.alice_user)
    client.get(_cancel_url(appointment), {"reason": "Feeling better"})
    client.get(_move_url(appointment, slot_at(schedule, 0, TEN)))
    client.get(_book_url(slot_at(schedule, 1, NINE)), {"reason": "x", "appointment_type": "Follow-up"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.slot == slot_at(schedule, 0, NINE)
    assert Appointment.objects.filter(patient=schedule.alice, slot__isnull=False).count() == 1
