"""Appointment: read and search within access, book by POST (201 or 409), cancel and move by PUT or PATCH."""

import datetime as dt
import json

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

NINE, QUARTER_PAST = dt.time(9, 0), dt.time(9, 15)
SPINE_CODES = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
FHIR_JSON = "application/fhir+json"


def _booking(patient, slot, **extra) -> dict:
    # Every booking names a type and a reason (the schedule's slots offer two types); tests override them.
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot.public_id}"}],
        "appointmentType": {"text": "Routine Consultation"},
        "reasonCode": [{"text": "Check-up"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.public_id}"}, "status": "accepted"}],
        **extra,
    }


def _post(api, body):
    return api.post("/fhir/Appointment", json.dumps(body), content_type=FHIR_JSON)


# --- Booking ----------------------------------------------------------------------------------------------


def test_booking_answers_201_with_location_and_the_stored_appointment(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    response = _post(api_client_for(schedule.alice_user), _booking(schedule.alice, slot))
    assert response.status_code == 201, response.content
    resource = FhirAppointment.model_validate(response.json())
    stored = Appointment.objects.get(public_id=resource.id)
    assert response["Location"] == f"http://testserver/fhir/Appointment/{stored.public_id}"
    assert stored.slot == slot and stored.patient == schedule.alice
    assert resource.status == "booked"
    assert resource.start == slot.starts_at and resource.end == slot.ends_at and resource.minutesDuration == 15
    assert resource.slot[0].reference == f"Slot/{slot.public_id}"
    assert resource.appointmentType.text == "Routine Consultation" and resource.reasonCode[0].text == "Check-up"
    actors = [participant.actor.reference for participant in resource.participant]
    assert actors == [
        f"Patient/{schedule.alice.public_id}",
        f"Practitioner/{schedule.gp.clinician.public_id}",
        f"Location/{schedule.surgery.public_id}",
    ]
    created = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="appointment")
    assert created.channel == "fhir" and created.actor == schedule.alice_user
    # What was stored reads back the same.
    again = api_client_for(schedule.gp).get(response["Location"].removeprefix("http://testserver"))
    assert FhirAppointment.model_validate(again.json()) == resource


def test_booking_takes_type_reason_and_matching_times(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    body = _booking(
        schedule.alice,
        slot,
        appointmentType={"text": "Follow-up"},
        reasonCode=[{"text": "Rash"}],
        start=slot.starts_at.isoformat(),
        end=slot.ends_at.astimezone(clock.LONDON).isoformat(),
    )
    body["participant"].append(
        {"actor": {"reference": f"Practitioner/{schedule.gp.clinician.public_id}"}, "status": "accepted"}
    )
    response = _post(api_client_for(schedule.reception), body)
    assert response.status_code == 201, response.content
    stored = Appointment.objects.get(public_id=response.json()["id"])
    assert (stored.appointment_type, stored.reason_for_visit) == ("Follow-up", "Rash")


@pytest.mark.parametrize(
    "left_out, words",
    [
        ("appointmentType", "Choose the type of appointment."),
        ("reasonCode", "Say briefly what the appointment is for."),
    ],
)
def test_a_booking_without_a_type_or_a_reason_is_422(schedule, api_client_for, outcome_of, left_out, words):
    # Nothing is filled in for the client: the slot offers two types, and only the patient knows the reason.
    slot = slot_at(schedule, 0, NINE)
    body = _booking(schedule.alice, slot)
    del body[left_out]
    response = _post(api_client_for(schedule.alice_user), body)
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.code == "business-rule" and issue.details.text == words
    assert issue.expression == [
        {"appointmentType": "Appointment.appointmentType", "reasonCode": "Appointment.reasonCode"}[left_out]
    ]
    assert not Appointment.objects.filter(slot=slot).exists()
    # Breaking a rule is not an access denial, so it leaves no DENY row.
    assert not AuditEvent.objects.filter(actor=schedule.alice_user, action=AuditAction.DENY).exists()


def test_participant_status_may_be_left_out(schedule, api_client_for):
    body = _booking(schedule.alice, slot_at(schedule, 0, NINE))
    del body["participant"][0]["status"]
    assert _post(api_client_for(schedule.alice_user), body).status_code == 201


def test_a_taken_slot_is_409_duplicate_rejected(schedule, api_client_for, outcome_of):
    slot = slot_at(schedule, 0, NINE)
    assert _post(api_client_for(schedule.reception), _booking(schedule.carol, slot)).status_code == 201
    response = _post(api_client_for(schedule.alice_user), _booking(schedule.alice, slot))
    assert response.status_code == 409
    issue = outcome_of(response)
    assert issue.code == "conflict"
    assert issue.details.text.startswith("That time has just been taken")
    assert (issue.details.coding[0].system, issue.details.coding[0].code) == (SPINE_CODES, "DUPLICATE_REJECTED")
    assert Appointment.objects.filter(slot=slot).count() == 1


@pytest.mark.parametrize(
    "field, value, expression",
    [
        ("start", schedule_time(0, QUARTER_PAST).isoformat(), "Appointment.start"),
        (
            "end",
            schedule_time(0, dt.time(10, 0)).astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "Appointment.end",
        ),
        ("minutesDuration", 30, "Appointment.minutesDuration"),
    ],
)
def test_times_that_do_not_match_the_slot_are_422(schedule, api_client_for, outcome_of, field, value, expression):
    response = _post(
        api_client_for(schedule.alice_user), _booking(schedule.alice, slot_at(schedule, 0, NINE), **{field: value})
    )
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.expression == [expression] and field in issue.details.text
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_a_practitioner_who_is_not_the_slots_is_422(schedule, api_client_for, outcome_of):
    body = _booking(schedule.alice, slot_at(schedule, 0, NINE))
    body["participant"].append(
        {"actor": {"reference": f"Practitioner/{schedule.nurse.clinician.public_id}"}, "status": "accepted"}
    )
    response = _post(api_client_for(schedule.alice_user), body)
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.expression == ["Appointment.participant"] and "is not Dr. Grace Patel" in issue.details.text


@pytest.mark.parametrize(
    "body, words",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"resourceType": "Patient"}), "must be an Appointment"),
        (json.dumps({"resourceType": "Appointment", "status": "booked"}), "participant"),
        (
            json.dumps(
                {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "start": "tomorrow at nine",
                    "participant": [{"actor": {"reference": "Patient/x"}}],
                }
            ),
            "start",
        ),
        (
            json.dumps(
                {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "colour": "blue",
                    "participant": [{"actor": {"reference": "Patient/x"}}],
                }
            ),
            "colour",
        ),
    ],
)
def test_an_invalid_body_is_400_with_the_validation_message(schedule, api_client_for, outcome_of, body, words):
    response = api_client_for(schedule.alice_user).post("/fhir/Appointment", body, content_type=FHIR_JSON)
    assert response.status_code == 400
    issue = outcome_of(response)
    assert issue.code == "invalid" and words in issue.details.text


def test_a_body_that_is_not_json_typed_is_415(schedule, api_client_for, outcome_of):
    response = api_client_for(schedule.alice_user).post(
        "/fhir/Appointment", "<Appointment/>", content_type="application/fhir+xml"
    )
    assert response.status_code == 415 and outcome_of(response).code == "not-supported"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"status": "proposed"}, "status booked"),
        ({"slot": []}, "exactly one slot"),
        ({"participant": [{"actor": {"reference": "Practitioner/x"}, "status": "accepted"}]}, "Name the patient"),
    ],
)
def test_a_booking_missing_its_essentials_is_422(schedule, api_client_for, outcome_of, change, words):
    body = {**_booking(schedule.alice, slot_at(schedule, 0, NINE)), **change}
    response = _post(api_client_for(schedule.alice_user), body)
    assert response.status_code == 422 and words in outcome_of(response).details.text


def test_an_unknown_slot_is_422(schedule, api_client_for, outcome_of):
    body = _booking(schedule.alice, slot_at(schedule, 0, NINE))
    body["slot"] = [{"reference": "Slot/00000000-0000-4000-8000-000000000000"}]
    response = _post(api_client_for(schedule.alice_user), body)
    assert response.status_code == 422 and "does not exist" in outcome_of(response).details.text


def test_booking_a_patient_one_may_not_see_is_404_and_audited(schedule, api_client_for, outcome_of):
    response = _post(api_client_for(schedule.other_reception), _booking(schedule.alice, slot_at(schedule, 0, NINE)))
    assert response.status_code == 404 and outcome_of(response).code == "not-found"
    assert (
        AuditEvent.objects.get(actor=schedule.other_reception, action=AuditAction.DENY).patient_id == schedule.alice.pk
    )
    assert not Appointment.objects.filter(slot__isnull=False).exists()


def test_a_patient_cannot_book_at_another_surgery(schedule, api_client_for, outcome_of):
    response = _post(api_client_for(schedule.bob_user), _booking(schedule.bob, slot_at(schedule, 0, NINE)))
    assert response.status_code == 403
    issue = outcome_of(response)
    assert issue.code == "forbidden" and "surgery you are registered with" in issue.details.text
    assert AuditEvent.objects.filter(
        actor=schedule.bob_user, action=AuditAction.DENY, object_type="appointment"
    ).exists()


def test_a_rule_refusal_is_422(schedule, api_client_for, outcome_of):
    slot = slot_at(schedule, 0, NINE)
    clock.freeze(slot.starts_at + dt.timedelta(minutes=1))
    response = _post(api_client_for(schedule.alice_user), _booking(schedule.alice, slot))
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.code == "business-rule" and "already passed" in issue.details.text


# --- Read and search -----------------------------------------------------------------------------------


def test_reading_another_patients_appointment_is_404_and_audited(world, api_client_for, outcome_of):
    appointment = Appointment.objects.get(patient=world.alice)
    response = api_client_for(world.bob_user).get(f"/fhir/Appointment/{appointment.public_id}")
    assert response.status_code == 404 and outcome_of(response).code == "not-found"
    denial = AuditEvent.objects.get(actor=world.bob_user, action=AuditAction.DENY)
    assert denial.patient_id == world.alice.pk and denial.channel == "fhir"


def test_reading_an_appointment_through_the_patients_access(world, api_client_for):
    appointment = Appointment.objects.get(patient=world.alice)
    resource = FhirAppointment.model_validate(
        api_client_for(world.hospital_reception).get(f"/fhir/Appointment/{appointment.public_id}").json()
    )
    assert resource.status == "booked" and resource.slot is None  # imported-style: no slot
    assert resource.reasonCode[0].text == "Cardiology referral"
    assert "Murmur" not in json.dumps(resource.model_dump(mode="json"))  # notes never leave
    assert AuditEvent.objects.filter(
        actor=world.hospital_reception, action=AuditAction.VIEW, patient_id=world.alice.pk
    ).exists()


def test_appointment_search_by_patient_actor_date_and_status(schedule, api_client_for):
    reception = Actor.command_line(schedule.reception)
    first = services.appointment_book(
        actor=reception,
        patient=schedule.alice,
        slot=slot_at(schedule, 0, NINE),
        appointment_type="Follow-up",
        reason="Check-up",
    )
    second = services.appointment_book(
        actor=reception,
        patient=schedule.alice,
        slot=slot_at(schedule, 1, NINE),
        appointment_type="Follow-up",
        reason="Check-up",
    )
    services.appointment_cancel(actor=reception, appointment=second, reason="Away")
    api = api_client_for(schedule.reception)

    def ids(params):
        response = api.get("/fhir/Appointment", params)
        assert response.status_code == 200
        return {entry.resource.id for entry in Bundle.model_validate(response.json()).entry or []}

    gp = f"Practitioner/{schedule.gp.clinician.public_id}"
    assert ids({"patient": f"Patient/{schedule.alice.public_id}", "actor": gp}) == {
        str(first.public_id),
        str(second.public_id),
    }
    assert ids({"actor": gp, "status": "booked"}) == {str(first.public_id)}
    assert ids({"status": "cancelled,noshow"}) == {str(second.public_id)}
    monday, tuesday, wednesday = (schedule_day(offset).isoformat() for offset in (0, 1, 2))
    assert ids({"date": monday}) == {str(first.public_id)}
    assert ids({"date": [f"ge{tuesday}", f"lt{wednesday}"]}) == {str(second.public_id)}
    searches = AuditEvent.objects.filter(
        actor=schedule.reception, action=AuditAction.SEARCH, object_type=AuditObject.APPOINTMENT
    )
    assert searches.count() == 5
    assert all(search.patient_id == schedule.alice.pk for search in searches)


def test_appointment_search_holds_only_visible_patients(world, api_client_for):
    def total(user, params=None):
        return Bundle.model_validate(api_client_for(user).get("/fhir/Appointment", params or {}).json()).total

    assert total(world.alice_user) == 1
    assert total(world.gp) == 1
    assert total(world.bob_user) == 0
    assert total(world.other_specialist, {"patient": f"Patient/{world.alice.public_id}"}) == 0


# --- Cancelling and moving ----------------------------------------------------------------------------------


@pytest.fixture
def booked(schedule, api_client_for):
    response = _post(api_client_for(schedule.alice_user), _booking(schedule.alice, slot_at(schedule, 0, NINE)))
    return response.json()


def test_cancel_by_put_with_a_reason(schedule, api_client_for, booked):
    body = {**booked, "status": "cancelled", "cancelationReason": {"text": "Feeling better"}}
    response = api_client_for(schedule.alice_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps(body), content_type=FHIR_JSON
    )
    assert response.status_code == 200, response.content
    resource = FhirAppointment.model_validate(response.json())
    assert resource.status == "cancelled" and resource.cancelationReason.text == "Feeling better"
    stored = Appointment.objects.get(public_id=booked["id"])
    assert (stored.status, stored.cancellation_reason) == (AppointmentStatus.CANCELLED, "Feeling better")


def test_cancel_by_json_patch(schedule, api_client_for, booked):
    patch = [
        {"op": "replace", "path": "/status", "value": "cancelled"},
        {"op": "add", "path": "/cancelationReason", "value": {"text": "Feeling better"}},
    ]
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type="application/json-patch+json"
    )
    assert response.status_code == 200, response.content
    assert FhirAppointment.model_validate(response.json()).status == "cancelled"
    stored = Appointment.objects.get(public_id=booked["id"])
    assert (stored.status, stored.cancellation_reason) == (AppointmentStatus.CANCELLED, "Feeling better")


@pytest.mark.parametrize(
    "content_type, change",
    [
        ("application/json-patch+json", [{"op": "replace", "path": "/status", "value": "cancelled"}]),
        (FHIR_JSON, {"status": "cancelled"}),
        (FHIR_JSON, {"status": "cancelled", "cancelationReason": {"text": "  "}}),
    ],
)
def test_cancelling_without_a_reason_is_422_and_changes_nothing(
    schedule, api_client_for, booked, outcome_of, content_type, change
):
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(change), content_type=content_type
    )
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.code == "business-rule" and issue.details.text == "Say why the appointment is cancelled."
    assert issue.expression == ["Appointment.cancelationReason"]
    assert Appointment.objects.get(public_id=booked["id"]).status == AppointmentStatus.BOOKED
    assert not AuditEvent.objects.filter(actor=schedule.alice_user, action=AuditAction.DENY).exists()


def test_cancel_by_a_partial_body(schedule, api_client_for, booked):
    patch = {"status": "cancelled", "cancelationReason": {"text": "Clash with work"}}
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type=FHIR_JSON
    )
    assert response.status_code == 200
    assert Appointment.objects.get(public_id=booked["id"]).cancellation_reason == "Clash with work"


def test_a_failing_json_patch_is_422_and_changes_nothing(schedule, api_client_for, booked, outcome_of):
    patch = [
        {"op": "test", "path": "/status", "value": "arrived"},
        {"op": "replace", "path": "/status", "value": "cancelled"},
    ]
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type="application/json-patch+json"
    )
    assert response.status_code == 422 and "test" in outcome_of(response).details.text
    assert Appointment.objects.get(public_id=booked["id"]).status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    "change, expression",
    [
        ({"start": schedule_time(0, dt.time(10, 0)).isoformat()}, "Appointment.start"),
        ({"reasonCode": [{"text": "Something else"}]}, "Appointment.reasonCode"),
        ({"appointmentType": {"text": "Follow-up"}}, "Appointment.appointmentType"),
    ],
)
def test_other_changes_by_put_are_422_only_cancellation(
    schedule, api_client_for, booked, outcome_of, change, expression
):
    response = api_client_for(schedule.alice_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps({**booked, **change}), content_type=FHIR_JSON
    )
    assert response.status_code == 422
    issue = outcome_of(response)
    assert issue.details.text.startswith("Only cancellation is supported") and issue.expression == [expression]


def test_put_must_name_the_same_id(schedule, api_client_for, booked, outcome_of):
    body = {**booked, "id": "00000000-0000-4000-8000-000000000000", "status": "cancelled"}
    response = api_client_for(schedule.alice_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps(body), content_type=FHIR_JSON
    )
    assert response.status_code == 400 and outcome_of(response).expression == ["Appointment.id"]


def test_put_unchanged_is_a_harmless_200(schedule, api_client_for, booked):
    response = api_client_for(schedule.alice_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps(booked), content_type=FHIR_JSON
    )
    assert response.status_code == 200 and response.json()["status"] == "booked"


def test_cancelling_someone_elses_appointment_is_404(schedule, api_client_for, booked):
    body = {**booked, "status": "cancelled", "cancelationReason": {"text": "Not needed"}}
    response = api_client_for(schedule.bob_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps(body), content_type=FHIR_JSON
    )
    assert response.status_code == 404
    assert Appointment.objects.get(public_id=booked["id"]).status == AppointmentStatus.BOOKED
    assert AuditEvent.objects.get(actor=schedule.bob_user, action=AuditAction.DENY).patient_id == schedule.alice.pk


def test_cancelling_after_the_start_is_422(schedule, api_client_for, booked, outcome_of):
    clock.freeze(dt.datetime.fromisoformat(booked["start"]) + dt.timedelta(minutes=1))
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}",
        json.dumps([{"op": "replace", "path": "/status", "value": "cancelled"}]),
        content_type="application/json-patch+json",
    )
    assert response.status_code == 422 and "already started" in outcome_of(response).details.text


def test_move_by_put_with_a_new_slot(schedule, api_client_for, booked):
    new_slot = slot_at(schedule, 2, QUARTER_PAST)
    body = {**booked, "slot": [{"reference": f"Slot/{new_slot.public_id}"}]}
    # Start and end may be left as they were (or be the new slot's); they are taken from the slot.
    response = api_client_for(schedule.alice_user).put(
        f"/fhir/Appointment/{booked['id']}", json.dumps(body), content_type=FHIR_JSON
    )
    assert response.status_code == 200, response.content
    resource = FhirAppointment.model_validate(response.json())
    assert resource.start == new_slot.starts_at and resource.slot[0].reference == f"Slot/{new_slot.public_id}"
    assert Appointment.objects.get(public_id=booked["id"]).slot == new_slot


def test_move_by_patch_onto_a_taken_slot_is_409(schedule, api_client_for, booked, outcome_of):
    taken = slot_at(schedule, 0, QUARTER_PAST)
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.carol,
        slot=taken,
        appointment_type="Follow-up",
        reason="Check-up",
    )
    patch = [{"op": "replace", "path": "/slot/0/reference", "value": f"Slot/{taken.public_id}"}]
    response = api_client_for(schedule.alice_user).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type="application/json-patch+json"
    )
    assert response.status_code == 409 and outcome_of(response).details.coding[0].code == "DUPLICATE_REJECTED"
    assert Appointment.objects.get(public_id=booked["id"]).slot == slot_at(schedule, 0, NINE)


def test_reception_checks_in_through_a_status_change(schedule, api_client_for, booked):
    patch = [{"op": "replace", "path": "/status", "value": "arrived"}]
    response = api_client_for(schedule.reception).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type="application/json-patch+json"
    )
    assert response.status_code == 200 and response.json()["status"] == "arrived"


def test_other_statuses_cannot_be_set(schedule, api_client_for, booked, outcome_of):
    patch = [{"op": "replace", "path": "/status", "value": "entered-in-error"}]
    response = api_client_for(schedule.reception).patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(patch), content_type="application/json-patch+json"
    )
    assert response.status_code == 422
    assert outcome_of(response).details.text.startswith("Only cancellation is supported")


@pytest.mark.parametrize("participant", [5, "Patient/x", {"actor": {"reference": "Patient/x"}}, [5]])
def test_oddly_shaped_participants_are_400_not_500(schedule, api_client_for, outcome_of, participant):
    body = {"resourceType": "Appointment", "status": "booked", "participant": participant}
    response = _post(api_client_for(schedule.alice_user), body)
    assert response.status_code == 400 and outcome_of(response).code == "invalid"


def test_absurdly_nested_json_is_400(schedule, api_client_for, outcome_of):
    body = "[" * 100_000 + "]" * 100_000
    response = api_client_for(schedule.alice_user).post("/fhir/Appointment", body, content_type=FHIR_JSON)
    assert response.status_code == 400 and outcome_of(response).code == "invalid"
