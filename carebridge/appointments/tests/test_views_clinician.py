"""The clinician's day: their own appointments for a date, and marking one done."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.days import long_day
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

NINE = dt.time(9, 0)
# The schedule's Monday (its 'today') and the day after, as the day pages take them.
MONDAY, TUESDAY = schedule_day(0).isoformat(), schedule_day(1).isoformat()
MY_DAY = reverse("scheduling:my_day")


def _booked(world, day_offset=0) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=world.alice,
        slot=slot_at(world, day_offset, NINE),
        appointment_type="Routine Consultation",
        reason="Blood pressure review",
    )


def _complete_url(appointment) -> str:
    return reverse("scheduling:complete", args=[appointment.public_id])


def test_the_gp_sees_their_day_with_links_to_the_record(schedule, client_for):
    appointment = _booked(schedule)
    response = client_for(schedule.gp).get(MY_DAY)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>My day</h1>" in page and f"{long_day(schedule_day(0))} (today)" in page
    assert reverse("records:record", args=[schedule.alice.public_id]) in page
    assert "ARCHER, Alice" in page and "Blood pressure review" in page
    assert _complete_url(appointment) in page
    read = AuditEvent.objects.get(actor=schedule.gp, action=AuditAction.SEARCH, object_type=AuditObject.CLINICIAN_DAY)
    assert read.patient_id == schedule.alice.pk


def test_another_clinicians_day_is_not_shown(schedule, client_for):
    _booked(schedule)
    page = client_for(schedule.nurse).get(MY_DAY).content.decode()
    assert "ARCHER, Alice" not in page and "No appointments on this day." in page


def test_the_gp_marks_an_appointment_done(schedule, client_for):
    appointment = _booked(schedule)
    services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)
    client = client_for(schedule.gp)
    response = client.post(_complete_url(appointment), {"date": MONDAY})
    assert response.status_code == 302 and response["Location"] == MY_DAY + f"?date={MONDAY}"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED
    page = client.get(response["Location"]).content.decode()
    assert "The appointment with Alice Archer is marked as done." in page and "Attended" in page
    assert _complete_url(appointment) not in page


def test_an_appointment_on_another_day_cannot_be_marked_done(schedule, client_for):
    appointment = _booked(schedule, day_offset=1)
    client = client_for(schedule.gp)
    assert _complete_url(appointment) not in client.get(MY_DAY, {"date": TUESDAY}).content.decode()
    response = client.post(_complete_url(appointment), {"date": TUESDAY})
    page = response.content.decode()
    # A rule broken, not access refused: the day is shown again with the reason, and nothing is audited.
    assert response.status_code == 422 and "There is a problem" in page
    assert "An appointment can be marked as done only on its day." in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_only_the_clinician_seeing_the_patient_marks_it_done(schedule, client_for):
    # The practice nurse may open Alice's record, but the appointment is the GP's.
    appointment = _booked(schedule)
    response = client_for(schedule.nurse).post(_complete_url(appointment), {"date": MONDAY})
    assert response.status_code == 403
    assert "Only the clinician seeing the patient marks the appointment done." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    denial = AuditEvent.objects.get(actor=schedule.nurse, action=AuditAction.DENY)
    assert denial.object_type == AuditObject.APPOINTMENT and denial.patient_id == schedule.alice.pk


def test_the_done_page_is_not_offered_to_reception(schedule, client_for):
    appointment = _booked(schedule)
    response = client_for(schedule.reception).get(_complete_url(appointment), {"date": MONDAY})
    assert response.status_code == 403
    denial = AuditEvent.objects.get(actor=schedule.reception, action=AuditAction.DENY)
    assert denial.object_type == AuditObject.APPOINTMENT and denial.patient_id == schedule.alice.pk


def test_a_clinician_without_a_relationship_gets_404(schedule, client_for):
    appointment = _booked(schedule)
    response = client_for(schedule.other_gp).post(_complete_url(appointment), {"date": MONDAY})
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    denial = AuditEvent.objects.get(actor=schedule.other_gp, action=AuditAction.DENY)
    assert denial.patient_id == schedule.alice.pk


@pytest.mark.parametrize("name", ["reception", "manager", "alice_user", "porter", "admin", "privacy"])
def test_my_day_is_for_clinicians_only(schedule, client_for, name):
    _booked(schedule)
    user = getattr(schedule, name)
    assert client_for(user).get(MY_DAY).status_code == 404
    assert (
        AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=AuditObject.CLINICIAN_DAY).count()
        == 1
    )


# Reception and the manager (at Alice's surgery) and Alice herself may see her record, so the service
# answers that it is not theirs to do (403); the porter, admin and privacy officer may not see her (404).
@pytest.mark.parametrize(
    ("name", "status"),
    [("reception", 403), ("manager", 403), ("alice_user", 403), ("porter", 404), ("admin", 404), ("privacy", 404)],
)
def test_only_clinicians_mark_appointments_done(schedule, client_for, name, status):
    appointment = _booked(schedule)
    user = getattr(schedule, name)
    response = client_for(user).post(_complete_url(appointment), {"date": MONDAY})
    assert response.status_code == status
    if status == 403:
        assert "Only the clinician seeing the patient marks the appointment done." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    denial = AuditEvent.objects.get(actor=user, action=AuditAction.DENY)
    assert denial.patient_id == schedule.alice.pk


def test_done_without_arrival_asks_why_and_keeps_the_reason(schedule, client_for):
    appointment = _booked(schedule)
    client = client_for(schedule.gp)
    # Reading the page changes nothing: it asks why, since reception never checked the patient in.
    asked = client.get(_complete_url(appointment), {"date": MONDAY})
    assert asked.status_code == 200 and "was not checked in by reception" in asked.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    # No reason: refused beside the field, nothing changed.
    refused = client.post(_complete_url(appointment), {"date": MONDAY, "reason": " "})
    assert refused.status_code == 422
    assert "Say why the appointment is done without the patient being checked in." in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    # The one-press button of a checked-in patient, used on one not checked in: refused the same way.
    assert client.post(_complete_url(appointment), {"date": MONDAY}).status_code == 422
    done = client.post(_complete_url(appointment), {"date": MONDAY, "reason": "Seen by telephone"})
    assert done.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED and appointment.outcome_note == "Seen by telephone"
    audited = AuditEvent.objects.filter(actor=schedule.gp, action=AuditAction.UPDATE).latest("pk")
    assert audited.reason == "Seen by telephone" and audited.detail["not_checked_in"] is True


def test_the_gp_undoes_done_the_same_day_only(schedule, client_for):
    appointment = _booked(schedule)
    services.appointment_check_in(actor=Actor.command_line(schedule.reception), appointment=appointment)
    client = client_for(schedule.gp)
    client.post(_complete_url(appointment), {"date": MONDAY})
    page = client.get(MY_DAY).content.decode()
    undo_url = reverse("scheduling:undo_outcome", args=[appointment.public_id])
    assert undo_url in page and "Undo done" in page
    response = client.post(undo_url, {"from": "my-day", "date": MONDAY})
    assert response.status_code == 302
    appointment.refresh_from_db()
    # Back to checked in: the patient did arrive.
    assert appointment.status == AppointmentStatus.ARRIVED
    undone = AuditEvent.objects.filter(actor=schedule.gp, action=AuditAction.UPDATE).latest("pk")
    assert undone.detail == {"status": "arrived", "was": "fulfilled", "undone": True}
    client.post(_complete_url(appointment), {"date": MONDAY})
    # The next morning the record stands.
    clock.freeze(schedule_time(1, dt.time(8, 0)))
    client = client_for(schedule.gp)  # a new day, a new sign-in
    refused = client.post(undo_url, {"from": "my-day", "date": MONDAY})
    assert refused.status_code == 422 and "can no longer be undone" in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED
