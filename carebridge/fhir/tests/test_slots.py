"""Schedule and Slot: per-clinician schedules, slot search by schedule, practitioner, start and status."""

import datetime as dt

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.testing.schedule import MONDAY_MORNING, slot_at

NINE = dt.time(9, 0)


def _slots(response) -> list[Slot]:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate(response.json())
    return [Slot.model_validate(entry.resource.model_dump()) for entry in bundle.entry or []]


def _total(response) -> int:
    return Bundle.model_validate(response.json()).total


def test_a_slot_reads_as_a_valid_r4_slot(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    response = api_client_for(schedule.alice_user).get(f"/fhir/Slot/{slot.public_id}")
    resource = Slot.model_validate(response.json())
    assert resource.status == "free"
    assert resource.schedule.reference == f"Schedule/{schedule.gp.clinician.public_id}"
    assert resource.start == slot.starts_at and resource.end == slot.ends_at
    assert [concept.text for concept in resource.serviceType] == ["Routine Consultation", "Follow-up"]


def test_slot_status_follows_its_appointment(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    api = api_client_for(schedule.reception)
    appointment = services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=slot,
        appointment_type="Follow-up",
        reason="Check-up",
    )
    assert Slot.model_validate(api.get(f"/fhir/Slot/{slot.public_id}").json()).status == "busy"
    services.appointment_cancel(actor=Actor.command_line(schedule.reception), appointment=appointment, reason="Ill")
    assert Slot.model_validate(api.get(f"/fhir/Slot/{slot.public_id}").json()).status == "free"
    clock.freeze(slot.starts_at)
    assert Slot.model_validate(api.get(f"/fhir/Slot/{slot.public_id}").json()).status == "busy-unavailable"


def test_search_by_schedule_or_practitioner_within_a_day(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    gp = schedule.gp.clinician.public_id
    tuesday = (MONDAY_MORNING.date() + dt.timedelta(days=1)).isoformat()
    by_schedule = _slots(
        api.get("/fhir/Slot", {"schedule": f"Schedule/{gp}", "start": [f"ge{tuesday}", f"le{tuesday}"], "_count": 100})
    )
    assert len(by_schedule) == 12
    assert all(slot.start.astimezone(clock.LONDON).date().isoformat() == tuesday for slot in by_schedule)
    by_actor = _slots(api.get("/fhir/Slot", {"schedule.actor": f"Practitioner/{gp}", "start": tuesday, "_count": 100}))
    assert [slot.id for slot in by_actor] == [slot.id for slot in by_schedule]
    assert _total(api.get("/fhir/Slot", {"schedule.actor": f"Practitioner/{schedule.nurse.clinician.public_id}"})) == 0


def test_search_by_exact_start_and_status(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=slot,
        appointment_type="Follow-up",
        reason="Check-up",
    )
    api = api_client_for(schedule.reception)
    start = slot.starts_at.isoformat()
    assert [s.id for s in _slots(api.get("/fhir/Slot", {"start": start}))] == [str(slot.public_id)]
    assert _total(api.get("/fhir/Slot", {"start": start, "status": "free"})) == 0
    assert _total(api.get("/fhir/Slot", {"start": start, "status": "busy"})) == 1
    assert _total(api.get("/fhir/Slot", {"status": "free"})) == 119
    assert _total(api.get("/fhir/Slot", {"status": "busy,free"})) == 120
    assert _total(api.get("/fhir/Slot", {"service-type": "Follow-up"})) == 120
    assert _total(api.get("/fhir/Slot", {"service-type": "Vaccination"})) == 0
    assert _total(api.get("/fhir/Slot", {"start": "gt" + start, "status": "free"})) == 119
    assert _total(api.get("/fhir/Slot", {"start": "lt" + start})) == 0
    assert api.get("/fhir/Slot", {"status": "taken"}).status_code == 400


def test_a_withdrawn_slot_is_busy_unavailable(schedule, api_client_for):
    slot = slot_at(schedule, 0, NINE)
    services.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=slot,
        appointment_type="Follow-up",
        reason="Check-up",
    )
    services.exception_add(
        actor=Actor.command_line(schedule.manager),
        facility=schedule.surgery,
        clinician=schedule.gp.clinician,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        reason="Training",
    )
    # Still held by its appointment (listed for rebooking): busy; once that is cancelled it stays unavailable.
    api = api_client_for(schedule.reception)
    assert Slot.model_validate(api.get(f"/fhir/Slot/{slot.public_id}").json()).status == "busy"
    appointment = slot.appointments.get()
    services.appointment_cancel(actor=Actor.command_line(schedule.reception), appointment=appointment, reason="Moved")
    assert Slot.model_validate(api.get(f"/fhir/Slot/{slot.public_id}").json()).status == "busy-unavailable"


def test_a_patient_sees_no_slots_at_another_surgery(schedule, api_client_for, outcome_of):
    api = api_client_for(schedule.bob_user)
    assert _total(api.get("/fhir/Slot")) == 0
    response = api.get(f"/fhir/Slot/{slot_at(schedule, 0, NINE).public_id}")
    assert response.status_code == 404 and outcome_of(response).code == "not-found"
    assert _total(api_client_for(schedule.hospital_reception).get("/fhir/Slot")) == 0
    assert _total(api_client_for(schedule.porter).get("/fhir/Slot")) == 0


def test_the_schedule_is_per_clinician(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    gp = schedule.gp.clinician
    resource = Schedule.model_validate(api.get(f"/fhir/Schedule/{gp.public_id}").json())
    assert resource.actor[0].reference == f"Practitioner/{gp.public_id}"
    assert resource.actor[1].reference == f"Location/{schedule.surgery.public_id}"
    found = Bundle.model_validate(api.get("/fhir/Schedule", {"actor": f"Practitioner/{gp.public_id}"}).json())
    assert [entry.resource.id for entry in found.entry] == [str(gp.public_id)]
    assert api_client_for(schedule.bob_user).get(f"/fhir/Schedule/{gp.public_id}").status_code == 404
