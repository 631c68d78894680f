"""What the FHIR API reads and what it refuses: references to other servers, unknown status words, and
search parameters it does not use (left out of the self link; refused with Prefer: handling=strict)."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle

from carebridge.clinical.services import condition_record
from carebridge.core.actor import Actor
from carebridge.prescribing.models import Prescription
from carebridge.scheduling.models import Appointment
from carebridge.testing.schedule import slot_at

FHIR_JSON = "application/fhir+json"
NINE = dt.time(9, 0)


def _booking(patient, slot_reference: str, **extra) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": slot_reference}],
        "appointmentType": {"text": "Routine Consultation"},
        "reasonCode": [{"text": "Check-up"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.public_id}"}, "status": "accepted"}],
        **extra,
    }


def _post(api, path: str, body: dict):
    return api.post(path, json.dumps(body), content_type=FHIR_JSON)


def _links(response) -> dict[str, dict[str, list[str]]]:
    bundle = Bundle.model_validate(response.json())
    return {link.relation: parse_qs(urlsplit(link.url).query) for link in bundle.link}


# --- References to another server --------------------------------------------------------------------------


def test_a_slot_on_another_server_is_refused_not_booked_here(schedule, api_client_for, outcome_of):
    slot = slot_at(schedule, 0, NINE)
    api = api_client_for(schedule.alice_user)
    elsewhere = _post(
        api, "/fhir/Appointment", _booking(schedule.alice, f"http://elsewhere/fhir/Slot/{slot.public_id}")
    )
    assert elsewhere.status_code == 422
    issue = outcome_of(elsewhere)
    assert issue.code == "not-found" and "http://elsewhere/fhir/Slot/" in issue.details.text
    assert not Appointment.objects.filter(slot=slot).exists()
    # This server's own absolute address names the same slot as Slot/<id>.
    here = _post(api, "/fhir/Appointment", _booking(schedule.alice, f"http://testserver/fhir/Slot/{slot.public_id}"))
    assert here.status_code == 201, here.content
    assert Appointment.objects.get(slot=slot).patient == schedule.alice


def test_a_move_to_a_slot_on_another_server_is_refused(schedule, api_client_for, outcome_of):
    first, other = slot_at(schedule, 0, NINE), slot_at(schedule, 0, dt.time(9, 15))
    api = api_client_for(schedule.alice_user)
    booked = _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{first.public_id}")).json()
    move = {"slot": [{"reference": f"https://elsewhere.example/fhir/Slot/{other.public_id}"}]}
    response = api.patch(
        f"/fhir/Appointment/{booked['id']}", json.dumps(move), content_type="application/merge-patch+json"
    )
    assert response.status_code == 422 and outcome_of(response).code == "not-found"
    assert Appointment.objects.get(public_id=booked["id"]).slot == first


def test_a_prescription_for_a_patient_on_another_server_is_refused(world, api_client_for, outcome_of):
    tonsillitis = condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code="17741008")
    before = Prescription.objects.count()
    body = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"http://elsewhere/fhir/Patient/{world.alice.public_id}"},
        "reasonReference": [{"reference": f"Condition/{tonsillitis.public_id}"}],
        "medicationCodeableConcept": {"text": "Amoxicillin"},
        "dosageInstruction": [
            {"timing": {"code": {"text": "Three times daily"}}, "doseAndRate": [{"doseQuantity": {"value": 500}}]}
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 7, "unit": "days"}},
    }
    response = _post(api_client_for(world.gp), "/fhir/MedicationRequest", body)
    assert response.status_code == 422 and outcome_of(response).code == "not-found"
    assert Prescription.objects.count() == before


def test_a_search_for_a_patient_on_another_server_finds_nothing_here(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{slot_at(schedule, 0, NINE).public_id}"))
    here = f"http://testserver/fhir/Patient/{schedule.alice.public_id}"
    assert api.get("/fhir/Appointment", {"patient": here}).json()["total"] >= 1
    for parameter in ("patient", "actor"):
        elsewhere = api.get(
            "/fhir/Appointment", {parameter: f"http://elsewhere/fhir/Patient/{schedule.alice.public_id}"}
        )
        assert elsewhere.status_code == 200 and elsewhere.json()["total"] == 0


# --- Status words ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/fhir/Appointment", "status"),
        ("/fhir/Slot", "status"),
        ("/fhir/MedicationRequest", "status"),
        ("/fhir/Condition", "clinical-status"),
    ],
)
def test_an_unknown_status_in_a_search_is_a_400(world, api_client_for, outcome_of, path, parameter):
    response = api_client_for(world.gp).get(path, {parameter: "sideways"})
    assert response.status_code == 400
    issue = outcome_of(response)
    assert issue.code == "invalid" and issue.expression == [parameter] and "sideways" in issue.details.text


def test_a_status_r4_has_but_carebridge_never_records_finds_nothing(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{slot_at(schedule, 0, NINE).public_id}"))
    assert api.get("/fhir/Appointment", {"status": "booked"}).json()["total"] >= 1
    assert api.get("/fhir/Appointment", {"status": "waitlist"}).json()["total"] == 0


def test_an_unknown_status_in_a_write_is_a_422(schedule, api_client_for, outcome_of):
    slot = slot_at(schedule, 0, NINE)
    api = api_client_for(schedule.alice_user)
    created = _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{slot.public_id}", status="sideways"))
    assert created.status_code == 422 and outcome_of(created).expression == ["Appointment.status"]
    assert not Appointment.objects.filter(slot=slot).exists()
    booked = _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{slot.public_id}")).json()
    changed = api.patch(
        f"/fhir/Appointment/{booked['id']}",
        json.dumps({"status": "sideways"}),
        content_type="application/merge-patch+json",
    )
    assert changed.status_code == 422 and outcome_of(changed).expression == ["Appointment.status"]
    assert Appointment.objects.get(public_id=booked["id"]).status == "booked"


# --- Parameters the server does not use -------------------------------------------------------------------


def test_the_self_link_names_only_the_parameters_the_search_used(schedule, api_client_for):
    api = api_client_for(schedule.alice_user)
    for time in (NINE, dt.time(9, 15)):
        _post(api, "/fhir/Appointment", _booking(schedule.alice, f"Slot/{slot_at(schedule, 0, time).public_id}"))
    patient = f"Patient/{schedule.alice.public_id}"
    response = api.get("/fhir/Appointment", {"patient": patient, "_sort": "-start", "colour": "blue", "_count": 1})
    without = api.get("/fhir/Appointment", {"patient": patient})
    assert response.status_code == 200 and response.json()["total"] == without.json()["total"] >= 2
    links = _links(response)
    assert links["self"] == {"patient": [patient], "_count": ["1"]}
    assert links["next"] == {"patient": [patient], "_count": ["1"], "_offset": ["1"]}
    # A string parameter's modifiers are parameters the search uses.
    found = api.get("/fhir/Practitioner", {"family:exact": schedule.gp.clinician.last_name, "_elements": "name"})
    assert _links(found)["self"] == {"family:exact": [schedule.gp.clinician.last_name]}


def test_prefer_handling_strict_refuses_a_parameter_the_server_does_not_use(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    strict = {"headers": {"Prefer": "handling=strict"}}
    refused = api.get("/fhir/Patient", {"family": "Smith", "_sort": "family", "colour": "blue"}, **strict)
    assert refused.status_code == 400
    issue = outcome_of(refused)
    assert issue.code == "not-supported" and issue.expression == ["_sort", "colour"]
    assert "_sort, colour" in issue.details.text
    assert api.get("/fhir/Patient", {"family": "Smith", "_count": 5}, **strict).status_code == 200
    # Lenient by default, as R4 search says.
    assert api.get("/fhir/Patient", {"family": "Smith", "_sort": "family"}).status_code == 200
