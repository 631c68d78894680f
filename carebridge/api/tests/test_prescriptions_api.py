"""The REST API's clinical record and prescribing, and who may prescribe through every channel.

The table at the end says once what each person in the test world gets when they prescribe for alice,
and sends each case through the web page, REST and FHIR (carebridge/testing/parity.py): the three must
agree, with the same audit rows, and every refusal must be in the trail.
"""

import datetime as dt
import json
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.models import Allergy, Condition, Consultation
from carebridge.clinical.services import allergy_record, condition_record, consultation_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.prescribing.models import Prescription, PrescriptionStatus, RepeatRequest, RepeatRequestStatus
from carebridge.testing import parity
from carebridge.testing.parity import FHIR_JSON, JSON, NOT_FOUND, NOT_PERMITTED, OK, Request

TONSILLITIS = "17741008"
HYPERTENSION = "59621000"


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type=JSON)


def denied(user, object_type=None) -> bool:
    rows = AuditEvent.objects.filter(action=AuditAction.DENY, actor=user)
    return rows.filter(object_type=object_type).exists() if object_type else rows.exists()


@pytest.fixture
def tonsillitis(world):
    return condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code=TONSILLITIS)


def amoxicillin(world, condition, **extra) -> dict:
    return {
        "patient": str(world.alice.public_id),
        "condition": str(condition.public_id),
        "medicine": "amoxicillin",
        "dose_value": "500",
        "dose_unit": "mg",
        "frequency": "Three times daily",
        "duration_days": 7,
        **extra,
    }


@pytest.fixture
def repeat(world, api_client_for):
    """Amlodipine 5 mg once daily, a repeat of 3 issues, issued by the GP through the API."""
    hypertension = condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code=HYPERTENSION)
    body = amoxicillin(
        world,
        hypertension,
        medicine="amlodipine",
        dose_value=5,
        frequency="Once daily",
        duration_days=28,
        course="continuous",
        issues_allowed=3,
        review_date=(clock.today() + dt.timedelta(days=180)).isoformat(),
        overrides={"interaction": "Simvastatin stays at 20 mg"},
    )
    response = post(api_client_for(world.gp), "/api/prescriptions", body)
    assert response.status_code == 201, response.content
    return Prescription.objects.get(public_id=response.json()["id"])


# --- Consultations, problems and allergies -------------------------------------------------------------------


def test_a_gp_records_and_reads_consultations_problems_and_allergies(world, api_client_for):
    api = api_client_for(world.gp)
    alice = world.alice.public_id
    recorded = post(
        api,
        f"/api/patients/{alice}/consultations",
        {
            "symptoms": "Sore throat for four days",
            "findings": "Exudate on both tonsils",
            "assessment": "Bacterial",
            "plan": "Antibiotics",
            "condition_code": TONSILLITIS,
        },
    )
    assert recorded.status_code == 201, recorded.content
    body = recorded.json()
    consultation = Consultation.objects.get(public_id=body["id"])
    assert body["symptoms"] == "Sore throat for four days" and body["findings"] == "Exudate on both tonsils"
    assert body["condition"]["code"] == TONSILLITIS and body["condition"]["status"] == "active"
    assert body["clinician"]["id"] == str(world.gp.clinician.public_id)
    assert api.get(f"/api/consultations/{consultation.public_id}").json() == body
    assert [row["id"] for row in api.get(f"/api/patients/{alice}/consultations").json()] == [body["id"]]

    allergy = post(
        api, f"/api/patients/{alice}/allergies", {"substance": "penicillins", "reaction": "Rash", "severity": "severe"}
    )
    assert allergy.status_code == 201, allergy.content
    assert allergy.json()["display"] == "Penicillins" and allergy.json()["coded"] is True
    free_text = post(api, f"/api/patients/{alice}/allergies", {"text": "Sticking plasters"})
    assert free_text.status_code == 201 and free_text.json()["coded"] is False
    assert {row["display"] for row in api.get(f"/api/patients/{alice}/allergies").json()} == {
        "Penicillins",
        "Sticking plasters",
    }
    unknown = post(api, f"/api/patients/{alice}/allergies", {"substance": "kryptonite"})
    assert unknown.status_code == 422 and unknown.json()["fields"] == {
        "substance": "Choose the substance from the list."
    }

    problem = post(api, f"/api/patients/{alice}/conditions", {"text": "Low mood"})
    assert problem.status_code == 201 and problem.json()["coded"] is False
    resolved = post(api, f"/api/conditions/{problem.json()['id']}/resolve", {})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = post(api, f"/api/conditions/{problem.json()['id']}/resolve", {})
    assert again.status_code == 422 and again.json()["code"] == "invalid"
    listed = api.get(f"/api/patients/{alice}/conditions").json()
    assert [(row["display"], row["status"]) for row in listed] == [
        ("Acute tonsillitis", "active"),
        ("Low mood", "resolved"),
    ]


def test_a_consultation_needs_the_patients_account(world, api_client_for):
    response = post(api_client_for(world.gp), f"/api/patients/{world.alice.public_id}/consultations", {"symptoms": " "})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Write what the patient describes.",
        "code": "invalid",
        "fields": {"symptoms": "Write what the patient describes."},
    }


@pytest.mark.parametrize("path", ["consultations", "allergies", "conditions", "prescriptions"])
def test_reception_sees_the_patient_but_not_the_clinical_record(world, api_client_for, path):
    consultation_record(actor=Actor.command_line(world.gp), patient=world.alice, symptoms="Cough")
    api = api_client_for(world.reception)
    assert api.get(f"/api/patients/{world.alice.public_id}").status_code == 200  # demographics, yes
    response = api.get(f"/api/patients/{world.alice.public_id}/{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not-found"}
    assert denied(world.reception, AuditObject.PATIENT)


def test_clinical_records_are_not_found_for_reception_or_strangers(world, api_client_for, tonsillitis):
    consultation = consultation_record(actor=Actor.command_line(world.gp), patient=world.alice, symptoms="Cough")
    for who in (world.reception, world.other_gp, world.bob_user):
        api = api_client_for(who)
        assert api.get(f"/api/consultations/{consultation.public_id}").status_code == 404
        assert api.get(f"/api/prescriptions/{world.alice_prescription.public_id}").status_code == 404
        assert post(api, f"/api/conditions/{tonsillitis.public_id}/resolve", {}).status_code == 404
        # Reception is refused the clinical records themselves; the others the patient they belong to.
        refused_as = (AuditObject.CONSULTATION, AuditObject.PRESCRIPTION, AuditObject.CONDITION)
        if who != world.reception:
            refused_as = (AuditObject.PATIENT,)
        for object_type in refused_as:
            assert AuditEvent.objects.filter(
                action=AuditAction.DENY, actor=who, object_type=object_type, patient_id=world.alice.pk
            ).exists(), (who, object_type)
    # Recording is the service's decision: reception may see alice, but is not a clinician.
    response = post(
        api_client_for(world.reception), f"/api/patients/{world.alice.public_id}/consultations", {"symptoms": "Cough"}
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only clinicians record consultations.", "code": "not-permitted"}
    assert denied(world.reception, AuditObject.CONSULTATION)
    assert not Allergy.objects.exists() and Condition.objects.filter(status="resolved").count() == 0
    assert post(api_client_for(world.gp), f"/api/consultations/{consultation.public_id}", {}).status_code == 405


# --- Prescribing ----------------------------------------------------------------------------------------------


def test_issue_stops_on_a_warning_and_goes_ahead_with_a_reason(world, api_client_for, tonsillitis):
    allergy_record(actor=Actor.command_line(world.gp), patient=world.alice, substance="penicillins")
    api = api_client_for(world.gp)
    stopped = post(api, "/api/prescriptions", amoxicillin(world, tonsillitis))
    assert stopped.status_code == 422
    body = stopped.json()
    assert body["code"] == "safety-warning"
    [warning] = body["warnings"]
    assert warning["kind"] == "allergy" and warning["message"].startswith("The patient is allergic to Penicillins")
    assert body["detail"] == warning["message"]
    assert not Prescription.objects.filter(medication_name="Amoxicillin").exists()

    issued = post(
        api, "/api/prescriptions", amoxicillin(world, tonsillitis, overrides={"allergy": "Tolerated it in 2024"})
    )
    assert issued.status_code == 201, issued.content
    out = issued.json()
    assert (out["medicine"], out["dose_value"], out["dose_unit"], out["quantity_value"], out["quantity_unit"]) == (
        "Amoxicillin",
        "500",
        "mg",
        "21",
        "capsules",
    )
    assert out["condition"] == {"id": str(tonsillitis.public_id), "name": "Acute tonsillitis"}
    assert out["status"] == "issued" and out["course"] == "acute" and out["issues_allowed"] == 1
    assert [(o["kind"], o["reason"]) for o in out["overrides"]] == [("allergy", "Tolerated it in 2024")]
    assert out["overrides"][0]["overridden_by"]["id"] == str(world.gp.clinician.public_id)
    assert api.get(f"/api/prescriptions/{out['id']}").json() == out
    assert out["id"] in [row["id"] for row in api.get(f"/api/patients/{world.alice.public_id}/prescriptions").json()]


def test_issue_refuses_nonsense_naming_the_input(world, api_client_for, tonsillitis):
    api = api_client_for(world.gp)
    response = post(api, "/api/prescriptions", amoxicillin(world, tonsillitis, duration_days=0))
    assert response.status_code == 422 and response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"duration_days"} and "warnings" not in response.json()
    response = post(api, "/api/prescriptions", {**amoxicillin(world, tonsillitis), "condition": None})
    assert response.json()["fields"] == {"condition": "Say which condition this prescription treats."}
    # A decimal with more places than a prescription keeps does not match the description (django-ninja
    # refuses it before the rules see it), answered in the same shape as a rule's refusal.
    response = post(api, "/api/prescriptions", amoxicillin(world, tonsillitis, dose_value="0.00001"))
    assert response.status_code == 422 and response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == {"dose_value"} and "dose_value" in response.json()["detail"]
    assert Prescription.objects.count() == 1  # only the world's


def test_cancel_and_supply(world, api_client_for, tonsillitis):
    api = api_client_for(world.gp)
    first = post(api, "/api/prescriptions", amoxicillin(world, tonsillitis)).json()
    assert post(api, f"/api/prescriptions/{first['id']}/cancel", {"reason": ""}).json()["fields"] == {
        "reason": "Say why the prescription is cancelled."
    }
    cancelled = post(api, f"/api/prescriptions/{first['id']}/cancel", {"reason": "Wrong patient record"})
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancellation_reason"]) == (
        "cancelled",
        "Wrong patient record",
    )

    second = post(api, "/api/prescriptions", amoxicillin(world, tonsillitis)).json()
    dispensed = post(api, f"/api/prescriptions/{second['id']}/supply", {"status": "dispensed"})
    assert dispensed.status_code == 200
    assert (dispensed.json()["status"], dispensed.json()["collection_date"]) == ("dispensed", clock.today().isoformat())
    too_late = post(api, f"/api/prescriptions/{second['id']}/cancel", {"reason": "Changed my mind"})
    assert too_late.status_code == 422 and "can no longer be cancelled" in too_late.json()["detail"]
    collected = post(api, f"/api/prescriptions/{second['id']}/supply", {"status": "collected"})
    assert collected.json()["status"] == "collected"
    future = post(
        api,
        f"/api/prescriptions/{second['id']}/supply",
        {"status": "collected", "on": (clock.today() + dt.timedelta(days=1)).isoformat()},
    )
    assert future.status_code == 422

    # The hospital's consultant sees alice but does not work at the prescribing surgery.
    refused = post(
        api_client_for(world.specialist), f"/api/prescriptions/{second['id']}/supply", {"status": "dispensed"}
    )
    assert refused.status_code == 403 and denied(world.specialist, AuditObject.PRESCRIPTION)


def test_a_repeat_is_requested_by_the_patient_and_approved_or_refused_by_the_surgery(world, api_client_for, repeat):
    patient_api, gp_api = api_client_for(world.alice_user), api_client_for(world.gp)
    asked = post(patient_api, f"/api/prescriptions/{repeat.public_id}/repeat-requests", {"note": "Running low"})
    assert asked.status_code == 201, asked.content
    request = asked.json()
    assert (request["status"], request["note"], request["medicine"]) == ("pending", "Running low", "Amlodipine")
    assert request["surgery"]["id"] == str(world.surgery.public_id)
    twice = post(patient_api, f"/api/prescriptions/{repeat.public_id}/repeat-requests", {})
    assert twice.status_code == 422 and "already asked" in twice.json()["detail"]
    # Only the patient asks.
    assert post(gp_api, f"/api/prescriptions/{repeat.public_id}/repeat-requests", {}).status_code == 403

    assert [row["id"] for row in gp_api.get("/api/repeat-requests").json()] == [request["id"]]
    assert api_client_for(world.other_gp).get("/api/repeat-requests").json() == []
    assert api_client_for(world.reception).get("/api/repeat-requests").json() == []
    # The practice nurse sees Alice's record but does not prescribe: the queue is not theirs, as on the page.
    assert api_client_for(world.nurse).get("/api/repeat-requests").json() == []
    assert AuditEvent.objects.filter(
        action=AuditAction.SEARCH, object_type=AuditObject.REPEAT_REQUEST, actor=world.gp, patient_id=world.alice.pk
    ).exists()

    # The practice nurse sees the queue but does not prescribe; reception does not even see the request.
    nurse = post(api_client_for(world.nurse), f"/api/repeat-requests/{request['id']}/approve", {})
    assert nurse.status_code == 403 and denied(world.nurse, AuditObject.REPEAT_REQUEST)
    assert post(api_client_for(world.reception), f"/api/repeat-requests/{request['id']}/approve", {}).status_code == 404
    assert denied(world.reception, AuditObject.REPEAT_REQUEST)

    # The checks run again: the interaction overridden at the first issue must be overridden again.
    stopped = post(gp_api, f"/api/repeat-requests/{request['id']}/approve", {})
    assert stopped.status_code == 422 and [w["kind"] for w in stopped.json()["warnings"]] == ["interaction"]
    assert RepeatRequest.objects.get(public_id=request["id"]).status == RepeatRequestStatus.PENDING
    approved = post(
        gp_api,
        f"/api/repeat-requests/{request['id']}/approve",
        {"overrides": {"interaction": "Still on 20 mg simvastatin"}},
    )
    assert approved.status_code == 201, approved.content
    second = approved.json()
    assert (second["issue_number"], second["previous"], second["medicine"]) == (2, str(repeat.public_id), "Amlodipine")
    assert [(o["kind"], o["reason"]) for o in second["overrides"]] == [("interaction", "Still on 20 mg simvastatin")]
    assert RepeatRequest.objects.get(public_id=request["id"]).status == RepeatRequestStatus.APPROVED
    assert gp_api.get("/api/repeat-requests").json() == []

    asked = post(patient_api, f"/api/prescriptions/{second['id']}/repeat-requests", {}).json()
    assert post(gp_api, f"/api/repeat-requests/{asked['id']}/refuse", {"reason": ""}).status_code == 422
    refused = post(
        gp_api, f"/api/repeat-requests/{asked['id']}/refuse", {"reason": "Please book a blood pressure check"}
    )
    assert refused.status_code == 200
    assert (refused.json()["status"], refused.json()["refusal_reason"]) == (
        "refused",
        "Please book a blood pressure check",
    )
    assert refused.json()["decided_by"]["id"] == str(world.gp.clinician.public_id)


def test_a_repeat_is_reissued_by_a_prescriber(world, api_client_for, repeat):
    overrides = {"overrides": {"interaction": "Still on 20 mg simvastatin"}}
    reissued = post(api_client_for(world.gp), f"/api/prescriptions/{repeat.public_id}/reissue", overrides)
    assert reissued.status_code == 201, reissued.content
    assert reissued.json()["issue_number"] == 2 and reissued.json()["status"] == PrescriptionStatus.ISSUED
    again = post(api_client_for(world.gp), f"/api/prescriptions/{repeat.public_id}/reissue", overrides)
    assert again.status_code == 422 and again.json()["detail"] == "The next issue of this repeat has already been made."


# --- OpenAPI -------------------------------------------------------------------------------------------------


def test_the_openapi_description_has_the_clinical_endpoints_and_their_answers(client):
    description = client.get("/api/openapi.json").json()
    paths = description["paths"]
    prescribe = paths["/api/prescriptions"]["post"]
    assert prescribe["operationId"] == "prescribe" and prescribe["tags"] == ["prescriptions"]
    assert set(prescribe["responses"]) == {"201", "400", "401", "403", "404", "422"}
    refusal = prescribe["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert refusal == "#/components/schemas/Refusal"
    schemas = description["components"]["schemas"]
    assert {"warnings", "fields", "detail", "code"} <= set(schemas["Refusal"]["properties"])
    assert set(schemas["PrescriptionIn"]["required"]) == {
        "patient",
        "medicine",
        "dose_value",
        "dose_unit",
        "frequency",
        "duration_days",
    }
    for path, method, tag in [
        ("/api/patients/{patient_id}/consultations", "get", "clinical"),
        ("/api/patients/{patient_id}/consultations", "post", "clinical"),
        ("/api/consultations/{consultation_id}", "get", "clinical"),
        ("/api/patients/{patient_id}/allergies", "post", "clinical"),
        ("/api/patients/{patient_id}/conditions", "get", "clinical"),
        ("/api/conditions/{condition_id}/resolve", "post", "clinical"),
        ("/api/patients/{patient_id}/prescriptions", "get", "prescriptions"),
        ("/api/prescriptions/{prescription_id}", "get", "prescriptions"),
        ("/api/prescriptions/{prescription_id}/cancel", "post", "prescriptions"),
        ("/api/prescriptions/{prescription_id}/supply", "post", "prescriptions"),
        ("/api/prescriptions/{prescription_id}/reissue", "post", "prescriptions"),
        ("/api/prescriptions/{prescription_id}/repeat-requests", "post", "prescriptions"),
        ("/api/repeat-requests", "get", "prescriptions"),
        ("/api/repeat-requests/{request_id}/approve", "post", "prescriptions"),
        ("/api/repeat-requests/{request_id}/refuse", "post", "prescriptions"),
    ]:
        operation = paths[path][method]
        assert operation["tags"] == [tag], path
        success = "201" if "201" in operation["responses"] else "200"
        assert "$ref" in json.dumps(operation["responses"][success]), f"{path}: no response schema"


# --- Who may prescribe, through every channel -----------------------------------------------------------------


def _condition(targets: parity.Targets) -> Condition:
    return Condition.objects.get(patient__public_id=targets.alice, code=TONSILLITIS)


def _web_prescribe(targets: parity.Targets, actor: str) -> Request:
    form = {
        "condition": str(_condition(targets).public_id),
        "medicine": "amoxicillin",
        "dose_value": "500",
        "dose_unit": "mg",
        "frequency": "Three times daily",
        "duration_days": "7",
        "quantity_value": "",
        "quantity_unit": "",
        "instructions": "",
        "pharmacy": "",
        "course": "acute",
        "issues_allowed": "1",
    }
    return Request("POST", reverse("prescribing:new", args=[targets.alice]), form)


def _rest_prescribe(targets: parity.Targets, actor: str) -> Request:
    return Request(
        "POST",
        "/api/prescriptions",
        {
            "patient": str(targets.alice),
            "condition": str(_condition(targets).public_id),
            "medicine": "amoxicillin",
            "dose_value": "500",
            "dose_unit": "mg",
            "frequency": "Three times daily",
            "duration_days": 7,
        },
        JSON,
    )


def _fhir_prescribe(targets: parity.Targets, actor: str) -> Request:
    return Request(
        "POST",
        "/fhir/MedicationRequest",
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{targets.alice}"},
            "reasonReference": [{"reference": f"Condition/{_condition(targets).public_id}"}],
            "medicationCodeableConcept": {"text": "Amoxicillin"},
            "dosageInstruction": [
                {
                    "timing": {"code": {"text": "Three times daily"}},
                    "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg"}}],
                }
            ],
            "dispenseRequest": {"expectedSupplyDuration": {"value": 7, "unit": "days", "code": "d"}},
        },
        FHIR_JSON,
    )


PRESCRIBE = parity.Action(name="prescribe", web=_web_prescribe, rest=_rest_prescribe, fhir=_fhir_prescribe)

# Every person in the test world, prescribing amoxicillin for alice's tonsillitis. Seeing alice is not
# enough (404 otherwise): only doctors, and nurses registered as prescribers, prescribe (403 otherwise,
# which tells a receptionist nothing clinical: only that they may not prescribe).
WHO_MAY_PRESCRIBE: dict[str, str] = {
    "gp": OK,
    "specialist": OK,  # alice's consultant, by her referral
    "nurse": NOT_PERMITTED,  # a practice nurse who is not a prescriber
    "hospital_nurse": NOT_PERMITTED,
    "reception": NOT_PERMITTED,  # sees alice's record, not its clinical part, and may not prescribe
    "manager": NOT_PERMITTED,
    "hospital_reception": NOT_PERMITTED,
    "alice_user": NOT_PERMITTED,  # her own record
    "other_gp": NOT_FOUND,
    "other_specialist": NOT_FOUND,
    "other_reception": NOT_FOUND,
    "porter": NOT_FOUND,
    "admin": NOT_FOUND,
    "privacy": NOT_FOUND,
    "bob_user": NOT_FOUND,
}


@pytest.fixture
def targets(schedule):
    built = parity.build_targets(schedule)
    condition_record(actor=Actor.command_line(schedule.gp), patient=schedule.alice, code=TONSILLITIS)
    return built


def test_the_table_says_what_everyone_in_the_world_gets(world):
    assert set(WHO_MAY_PRESCRIBE) == set(world.users_by_name())
    assert {OK, NOT_FOUND, NOT_PERMITTED} == set(WHO_MAY_PRESCRIBE.values())


@pytest.mark.parametrize("actor, expected", list(WHO_MAY_PRESCRIBE.items()), ids=list(WHO_MAY_PRESCRIBE))
def test_who_may_prescribe_is_the_same_on_every_channel(targets, actor, expected):
    results = [parity.run(PRESCRIBE, channel, targets, actor) for channel in parity.CHANNELS]
    problems = [
        f"{result.channel}: {result.outcome}, not {expected}" for result in results if result.outcome != expected
    ]
    first = results[0]
    problems += [
        f"{result.channel} wrote other audit rows than {first.channel}"
        for result in results[1:]
        if Counter(result.rows) != Counter(first.rows)
    ]
    for result in results:
        problems += parity.audit_problems(result, changes=True)
        created = {row for row in result.rows if row[:2] == (AuditAction.CREATE, AuditObject.PRESCRIPTION)}
        if result.outcome == OK and not created:
            problems.append(f"{result.channel}: prescribed without a create row for the prescription")
    report = [f"prescribe by {actor}: expected {expected}", *problems]
    for result in results:
        report += [result.line(), *(f"      {row}" for row in result.rows)]
    assert not problems, "\n".join(report)


def test_issuing_a_prescription_costs_a_bounded_number_of_statements(world, api_client_for, tonsillitis):
    api = api_client_for(world.gp)
    api.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        assert post(api, "/api/prescriptions", amoxicillin(world, tonsillitis)).status_code == 201
    # Token; patient, care relationships, emergency grants, read audit; the condition; then in the
    # transaction: the service's own access check (relationships, emergency grants), allergies, the
    # patient's prescriptions (duplicates and interactions), insert, audit; the answer re-reads the
    # prescription and its overrides. Measured at 16 on SQLite and PostgreSQL (32 before full_clean
    # stopped asking the database what the service had already checked).
    assert len(queries) <= 16
