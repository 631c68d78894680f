"""Booking, moving, cancelling and the front desk's status changes through the REST API."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.delivery.models import OutboundEmail
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.schedule import slot_at

NINE, QUARTER_PAST = dt.time(9, 0), dt.time(9, 15)


def _book(api, world, slot, patient=None, **extra):
    # Every booking names a type and a reason (the schedule's slots offer two types); tests override them.
    body = {
        "patient": str((patient or world.alice).public_id),
        "slot": str(slot.public_id),
        "appointment_type": "Routine Consultation",
        "reason": "Check-up",
        **extra,
    }
    return api.post("/api/appointments", body, content_type="application/json")


def test_a_patient_books_a_free_slot(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    response = _book(
        api_client_for(schedule.alice_user), schedule, slot, appointment_type="Follow-up", reason="Sore throat"
    )
    assert response.status_code == 201
    body = response.json()
    appointment = Appointment.objects.get(public_id=body["id"])
    assert appointment.slot == slot and appointment.patient == schedule.alice
    assert body["status"] == "booked" and body["slot"] == str(slot.public_id)
    assert body["appointment_type"] == "Follow-up" and body["reason"] == "Sore throat"
    assert body["clinician"]["id"] == str(schedule.gp.clinician.public_id)
    assert dt.datetime.fromisoformat(body["ends_at"]) - dt.datetime.fromisoformat(body["starts_at"]) == dt.timedelta(
        minutes=15
    )
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="appointment")
    assert event.actor == schedule.alice_user and event.channel == "api"


def test_a_taken_slot_is_409_slot_taken(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    reception = api_client_for(schedule.reception)
    assert _book(reception, schedule, slot, patient=schedule.carol).status_code == 201
    response = _book(api_client_for(schedule.alice_user), schedule, slot)
    assert response.status_code == 409
    assert response.json() == {"detail": "That time has just been taken. Please choose another.", "code": "slot-taken"}
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_a_rule_refusal_is_422_with_the_message(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    clock.freeze(slot.starts_at + dt.timedelta(minutes=5))
    response = _book(api_client_for(schedule.reception), schedule, slot)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid" and "already passed" in response.json()["detail"]


def test_a_booking_without_a_type_or_a_reason_is_422_naming_the_field(schedule, api_client_for):
    # The API no longer fills them in: the slot offers two types, and only the patient knows the reason.
    api = api_client_for(schedule.alice_user)
    slot = slot_at(schedule, 0, NINE)
    untyped = _book(api, schedule, slot, appointment_type="")
    assert untyped.status_code == 422
    assert untyped.json() == {
        "detail": "Choose the type of appointment.",
        "code": "invalid",
        "fields": {"appointment_type": "Choose the type of appointment."},
    }
    unexplained = _book(api, schedule, slot, reason="  ")
    assert unexplained.status_code == 422
    assert unexplained.json() == {
        "detail": "Say briefly what the appointment is for.",
        "code": "invalid",
        "fields": {"reason": "Say briefly what the appointment is for."},
    }
    assert not Appointment.objects.filter(slot=slot).exists()
    # Breaking a rule is not an access denial, so it leaves no DENY row.
    assert not AuditEvent.objects.filter(actor=schedule.alice_user, action=AuditAction.DENY).exists()


def test_a_patient_cannot_book_at_another_surgery(schedule, api_client_for):
    response = _book(api_client_for(schedule.bob_user), schedule, slot_at(schedule, 0, NINE), patient=schedule.bob)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You can book only with clinicians at the surgery you are registered with.",
        "code": "not-permitted",
    }
    assert AuditEvent.objects.filter(
        actor=schedule.bob_user, action=AuditAction.DENY, object_type="appointment"
    ).exists()


def test_booking_for_a_patient_one_may_not_see_is_404_and_audited(schedule, api_client_for):
    response = _book(api_client_for(schedule.other_reception), schedule, slot_at(schedule, 0, NINE))
    assert response.status_code == 404
    assert (
        AuditEvent.objects.get(actor=schedule.other_reception, action=AuditAction.DENY).patient_id == schedule.alice.pk
    )
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_an_unknown_slot_is_404(schedule, api_client_for):
    response = api_client_for(schedule.reception).post(
        "/api/appointments",
        {"patient": str(schedule.alice.public_id), "slot": "00000000-0000-4000-8000-000000000000"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_wrong_appointment_type_is_refused(schedule, api_client_for):
    response = _book(
        api_client_for(schedule.reception), schedule, slot_at(schedule, 0, NINE), appointment_type="Vaccination"
    )
    assert response.status_code == 422 and "not for Vaccination" in response.json()["detail"]


def test_booking_costs_a_bounded_number_of_queries(schedule, api_client_for):
    api = api_client_for(schedule.reception)
    api.get("/api/me")
    schedule.alice.email = "alice@example.com"  # so that the confirmation is queued, as for most patients
    schedule.alice.save(update_fields=["email"])
    slot = slot_at(schedule, 0, NINE)
    with CaptureQueriesContext(connection) as queries:
        assert _book(api, schedule, slot).status_code == 201
    # Token; the slot; patient fetch, care relationships, read audit; then in the booking transaction:
    # slot re-read, the service's own access check (care relationships), patient lock, overlap check,
    # insert, the new appointment's care relationship (an insert: nothing to replace), audit, the
    # confirmation email and the task that sends it, and the transaction itself (here a savepoint, the
    # test being a transaction). 16 on SQLite and PostgreSQL.
    assert len(queries) <= 16
    assert OutboundEmail.objects.filter(recipient="alice@example.com").count() == 1


def test_move_then_cancel(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    booked = _book(api, schedule, slot_at(schedule, 0, NINE)).json()
    new_slot = slot_at(schedule, 1, QUARTER_PAST)
    moved = api.post(
        f"/api/appointments/{booked['id']}/move", {"slot": str(new_slot.public_id)}, content_type="application/json"
    )
    assert moved.status_code == 200
    assert moved.json()["slot"] == str(new_slot.public_id)
    assert dt.datetime.fromisoformat(moved.json()["starts_at"]) == new_slot.starts_at
    cancelled = api.post(
        f"/api/appointments/{booked['id']}/cancel", {"reason": "Feeling better"}, content_type="application/json"
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancellation_reason"] == "Feeling better"


def test_cancelling_needs_a_reason(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    booked = _book(api, schedule, slot_at(schedule, 0, NINE)).json()
    response = api.post(f"/api/appointments/{booked['id']}/cancel", {}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"] == "Say why the appointment is cancelled."


def test_moving_onto_a_taken_slot_is_409_and_keeps_the_old_one(schedule, api_client_for):
    reception = api_client_for(schedule.reception)
    mine = _book(reception, schedule, slot_at(schedule, 0, NINE)).json()
    taken = slot_at(schedule, 0, QUARTER_PAST)
    assert _book(reception, schedule, taken, patient=schedule.carol).status_code == 201
    response = reception.post(
        f"/api/appointments/{mine['id']}/move", {"slot": str(taken.public_id)}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "slot-taken"
    assert Appointment.objects.get(public_id=mine["id"]).slot == slot_at(schedule, 0, NINE)


def test_reception_checks_in_and_the_clinician_completes(schedule, api_client_for):
    booked = _book(api_client_for(schedule.reception), schedule, slot_at(schedule, 0, NINE)).json()
    checked_in = api_client_for(schedule.reception).post(f"/api/appointments/{booked['id']}/check-in")
    assert checked_in.status_code == 200 and checked_in.json()["status"] == AppointmentStatus.ARRIVED
    completed = api_client_for(schedule.gp).post(f"/api/appointments/{booked['id']}/complete")
    assert completed.status_code == 200 and completed.json()["status"] == AppointmentStatus.FULFILLED


def test_reception_marks_a_no_show_after_the_start(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    booked = _book(api_client_for(schedule.reception), schedule, slot).json()
    api = api_client_for(schedule.reception)
    early = api.post(f"/api/appointments/{booked['id']}/no-show")
    assert early.status_code == 422 and "once the appointment time has passed" in early.json()["detail"]
    clock.freeze(slot.ends_at)
    assert api.post(f"/api/appointments/{booked['id']}/no-show").json()["status"] == AppointmentStatus.NOSHOW


def test_a_patient_cannot_check_themself_in(schedule, api_client_for):
    booked = _book(api_client_for(schedule.alice_user), schedule, slot_at(schedule, 0, NINE)).json()
    response = api_client_for(schedule.alice_user).post(f"/api/appointments/{booked['id']}/check-in")
    assert response.status_code == 403 and response.json()["code"] == "not-permitted"


def test_another_patient_reading_an_appointment_gets_404_and_is_audited(world, api_client_for):
    appointment = Appointment.objects.get(patient=world.alice)
    response = api_client_for(world.bob_user).get(f"/api/appointments/{appointment.public_id}")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(actor=world.bob_user, action=AuditAction.DENY, patient_id=world.alice.pk).exists()
    for action in ("cancel", "check-in", "no-show", "complete"):
        assert (
            api_client_for(world.bob_user)
            .post(
                f"/api/appointments/{appointment.public_id}/{action}", {"reason": "x"}, content_type="application/json"
            )
            .status_code
            == 404
        )
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_appointments_of_a_patient(world, api_client_for):
    response = api_client_for(world.hospital_reception).get(
        "/api/appointments", {"patient": str(world.alice.public_id)}
    )
    assert response.status_code == 200
    [appointment] = response.json()
    assert appointment["facility"]["name"] == "Heartlands Hospital" and appointment["slot"] is None
    assert "notes" not in appointment
    assert (
        api_client_for(world.other_reception)
        .get("/api/appointments", {"patient": str(world.alice.public_id)})
        .status_code
        == 404
    )


def test_appointment_lists_hold_only_visible_patients(world, api_client_for):
    assert len(api_client_for(world.alice_user).get("/api/appointments").json()) == 1
    assert api_client_for(world.bob_user).get("/api/appointments").json() == []
    assert api_client_for(world.other_specialist).get("/api/appointments").json() == []
    assert AuditEvent.objects.filter(actor=world.bob_user, action=AuditAction.SEARCH).exists()
    search = AuditEvent.objects.get(actor=world.alice_user, action=AuditAction.SEARCH)
    assert search.patient_id == world.alice.pk


def test_done_without_check_in_needs_a_reason_in_the_body(schedule, api_client_for):
    booked = _book(api_client_for(schedule.reception), schedule, slot_at(schedule, 0, NINE)).json()
    gp = api_client_for(schedule.gp)
    refused = gp.post(f"/api/appointments/{booked['id']}/complete")
    assert refused.status_code == 422 and "reason" in refused.json()["fields"]
    done = gp.post(
        f"/api/appointments/{booked['id']}/complete", {"reason": "Seen by telephone"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["status"] == AppointmentStatus.FULFILLED
    assert Appointment.objects.get(public_id=booked["id"]).outcome_note == "Seen by telephone"
