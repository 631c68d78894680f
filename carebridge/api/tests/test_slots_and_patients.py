"""GET /api/slots (free slots where the user books) and GET /api/patients (lookup within access)."""

import datetime as dt
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from ninja.responses import NinjaJSONEncoder
from pydantic import TypeAdapter

from carebridge.api import schemas
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.testing.schedule import MONDAY_MORNING, slot_at

NINE = dt.time(9, 0)


def test_a_patient_sees_free_slots_at_their_own_surgery_soonest_first(schedule, api_client_for):
    response = api_client_for(schedule.alice_user).get("/api/slots", {"limit": 5})
    assert response.status_code == 200
    slots = response.json()
    assert len(slots) == 5
    first = slot_at(schedule, 0, NINE)
    assert slots[0]["id"] == str(first.public_id)
    assert slots[0]["clinician"] == {"id": str(schedule.gp.clinician.public_id), "name": "Dr. Grace Patel"}
    assert slots[0]["facility"]["name"] == "Oak Tree Surgery"
    assert slots[0]["minutes"] == 15 and slots[0]["appointment_types"] == ["Routine Consultation", "Follow-up"]
    assert [slot["starts_at"] for slot in slots] == sorted(slot["starts_at"] for slot in slots)
    assert dt.datetime.fromisoformat(slots[0]["starts_at"]) == first.starts_at


def test_a_booked_slot_is_no_longer_listed(schedule, api_client_for):
    taken = slot_at(schedule, 0, NINE)
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=taken,
        appointment_type="Routine Consultation",
        reason="Check-up",
    )
    ids = [slot["id"] for slot in api_client_for(schedule.alice_user).get("/api/slots").json()]
    assert str(taken.public_id) not in ids
    assert str(slot_at(schedule, 0, dt.time(9, 15)).public_id) in ids


def test_slots_filter_by_date_clinician_and_type(schedule, api_client_for):
    api = api_client_for(schedule.reception)
    tuesday = (MONDAY_MORNING.date() + dt.timedelta(days=1)).isoformat()
    slots = api.get(
        "/api/slots",
        {
            "date": tuesday,
            "clinician": str(schedule.gp.clinician.public_id),
            "appointment_type": "Follow-up",
            "limit": 500,
        },
    ).json()
    assert len(slots) == 12  # 09:00-12:00 in 15-minute slots
    assert all(slot["starts_at"].startswith(tuesday) for slot in slots)
    assert api.get("/api/slots", {"appointment_type": "Vaccination"}).json() == []
    assert api.get("/api/slots", {"clinician": str(schedule.nurse.clinician.public_id)}).json() == []


def test_a_patient_of_another_surgery_sees_none_of_its_slots(schedule, api_client_for):
    api = api_client_for(schedule.bob_user)
    assert api.get("/api/slots").json() == []
    assert api.get("/api/slots", {"facility": str(schedule.surgery.public_id)}).json() == []


def test_people_without_a_facility_to_book_at_see_no_slots(schedule, api_client_for):
    assert api_client_for(schedule.porter).get("/api/slots").json() == []
    assert api_client_for(schedule.admin).get("/api/slots").json() == []


def test_slot_search_costs_two_queries_however_many_slots(schedule, api_client_for):
    api = api_client_for(schedule.reception)
    api.get("/api/me")  # last_used_at is written now, not during the measured request
    with CaptureQueriesContext(connection) as queries:
        assert len(api.get("/api/slots", {"limit": 100}).json()) == 100
    assert len(queries) == 2  # the token, the slots with their clinician and facility


def test_every_page_size_gives_exactly_that_many_soonest_first(schedule, api_client_for):
    # Page sizes share compiled queries (rounded up to a few sizes): each still gets exactly its own count.
    api = api_client_for(schedule.reception)
    longest = [slot["id"] for slot in api.get("/api/slots", {"limit": 60}).json()]
    assert len(longest) == 60
    for limit in (1, 7, 10, 11, 26, 60):
        assert [slot["id"] for slot in api.get("/api/slots", {"limit": limit}).json()] == longest[:limit]


def test_the_search_answers_exactly_the_documented_shape(schedule, api_client_for):
    # The search's answer is not validated by django-ninja on the way out (api.slots says why): it must
    # be what SlotOut would have made of it, field for field.
    answer = api_client_for(schedule.reception).get("/api/slots", {"limit": 3}).json()
    documented = TypeAdapter(list[schemas.SlotOut]).validate_python(answer)
    assert answer == json.loads(json.dumps([slot.model_dump() for slot in documented], cls=NinjaJSONEncoder))
    assert set(answer[0]) == set(schemas.SlotOut.model_fields)
    assert answer[0]["clinician"]["name"] == "Dr. Grace Patel" and answer[0]["minutes"] == 15


def test_bad_query_values_are_422(schedule, api_client_for):
    api = api_client_for(schedule.reception)
    assert api.get("/api/slots", {"date": "tomorrow"}).status_code == 422
    assert api.get("/api/slots", {"limit": 0}).status_code == 422


# --- Patients ---------------------------------------------------------------------------------------


def test_reception_finds_a_patient_of_their_surgery_by_nhs_number(world, api_client_for):
    response = api_client_for(world.reception).get("/api/patients", {"nhs_number": "943 476 5919"})
    assert response.status_code == 200
    [found] = response.json()
    assert found["id"] == str(world.alice.public_id)
    assert found["nhs_number"] == "9434765919" and found["registered_surgery"]["name"] == "Oak Tree Surgery"
    event = AuditEvent.objects.get(actor=world.reception, action=AuditAction.SEARCH)
    assert event.channel == "api" and event.patient_id == world.alice.pk


def test_the_lookup_finds_only_patients_the_user_may_see(world, api_client_for):
    for user in (world.other_reception, world.other_gp, world.bob_user, world.porter):
        assert api_client_for(user).get("/api/patients", {"nhs_number": world.alice.nhs_number}).json() == []


def test_lookup_by_surname_and_date_of_birth(world, api_client_for):
    found = api_client_for(world.gp).get("/api/patients", {"last_name": "archer", "date_of_birth": "1980-05-17"}).json()
    assert [patient["id"] for patient in found] == [str(world.alice.public_id)]


def test_a_lookup_without_criteria_is_400(world, api_client_for):
    response = api_client_for(world.reception).get("/api/patients")
    assert response.status_code == 400 and "NHS number" in response.json()["detail"]


def test_nhs_number_lookup_costs_a_fixed_number_of_queries(world, api_client_for):
    api = api_client_for(world.reception)
    api.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/patients", {"nhs_number": world.alice.nhs_number})
    assert len(queries) == 3  # the token, the patient within access, the audit row


def test_a_patient_record_is_read_through_access_and_audited(world, api_client_for):
    response = api_client_for(world.reception).get(f"/api/patients/{world.alice.public_id}")
    assert response.status_code == 200
    assert response.json()["last_name"] == "Archer" and "phone_number" in response.json()
    assert AuditEvent.objects.filter(actor=world.reception, action=AuditAction.VIEW, patient_id=world.alice.pk).exists()


def test_a_patient_without_a_relationship_is_404_and_the_refusal_audited(world, api_client_for):
    response = api_client_for(world.other_gp).get(f"/api/patients/{world.alice.public_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not-found"}
    denial = AuditEvent.objects.get(actor=world.other_gp, action=AuditAction.DENY)
    assert denial.patient_id == world.alice.pk and denial.channel == "api"


def test_a_missing_patient_looks_like_a_forbidden_one(world, api_client_for):
    api = api_client_for(world.other_gp)
    forbidden = api.get(f"/api/patients/{world.alice.public_id}")
    missing = api.get("/api/patients/00000000-0000-4000-8000-000000000000")
    garbage = api.get("/api/patients/not-an-id")
    assert forbidden.status_code == missing.status_code == garbage.status_code == 404
    assert forbidden.json() == missing.json() == garbage.json()
