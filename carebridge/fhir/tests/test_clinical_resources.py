"""Condition, AllergyIntolerance and Encounter: the problem list, allergies and consultations through FHIR,
each checked against the R4B models, and none of it shown to anyone who may not see clinical records."""

import json

import pytest
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance as FhirAllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition as FhirCondition
from fhir.resources.R4B.encounter import Encounter as FhirEncounter

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.models import Allergy, Condition, ConditionStatus
from carebridge.clinical.services import allergy_record, condition_record, condition_resolve, consultation_record
from carebridge.core.actor import Actor

FHIR_JSON = "application/fhir+json"
SNOMED = "http://snomed.info/sct"
VOCABULARY = "urn:carebridge:formulary-vocabulary"
TONSILLITIS = "17741008"


def post(api, resource_type, body):
    return api.post(
        f"/fhir/{resource_type}", json.dumps({"resourceType": resource_type, **body}), content_type=FHIR_JSON
    )


def entries(response) -> list:
    assert response.status_code == 200, response.content
    return [entry.resource for entry in Bundle.model_validate(response.json()).entry or []]


# --- Condition ------------------------------------------------------------------------------------------


def test_a_coded_condition_is_created_read_and_searched(world, api_client_for):
    api = api_client_for(world.gp)
    subject = {"reference": f"Patient/{world.alice.public_id}"}
    response = post(
        api,
        "Condition",
        {
            "subject": subject,
            "code": {"coding": [{"system": SNOMED, "code": TONSILLITIS}]},
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
        },
    )
    assert response.status_code == 201, response.content
    created = FhirCondition.model_validate(response.json())
    stored = Condition.objects.get(public_id=created.id)
    assert response["Location"] == f"http://testserver/fhir/Condition/{stored.public_id}"
    assert (stored.code, stored.display, stored.patient) == (TONSILLITIS, "Acute tonsillitis", world.alice)
    assert [(c.system, c.code, c.display) for c in created.code.coding] == [(SNOMED, TONSILLITIS, "Acute tonsillitis")]
    assert created.clinicalStatus.coding[0].code == "active"
    assert created.category[0].coding[0].code == "problem-list-item"
    assert created.recorder.reference == f"Practitioner/{world.gp.clinician.public_id}"

    uncoded = post(api, "Condition", {"subject": subject, "code": {"text": "Worried about memory"}})
    assert uncoded.status_code == 201
    resource = FhirCondition.model_validate(uncoded.json())
    assert resource.code.text == "Worried about memory" and resource.code.coding is None

    condition_resolve(actor=Actor.command_line(world.gp), condition=stored)
    read = FhirCondition.model_validate(api.get(f"/fhir/Condition/{stored.public_id}").json())
    assert read.clinicalStatus.coding[0].code == "resolved" and read.abatementDateTime is not None

    alice = f"patient=Patient/{world.alice.public_id}"
    assert {found.id for found in entries(api.get(f"/fhir/Condition?{alice}"))} == {created.id, resource.id}
    assert [found.id for found in entries(api.get(f"/fhir/Condition?{alice}&clinical-status=active"))] == [resource.id]
    assert [found.id for found in entries(api.get(f"/fhir/Condition?{alice}&code={SNOMED}|{TONSILLITIS}"))] == [
        created.id
    ]


def test_a_condition_off_the_coded_list_or_created_resolved_is_refused(world, api_client_for):
    api = api_client_for(world.gp)
    subject = {"reference": f"Patient/{world.alice.public_id}"}
    off_list = post(api, "Condition", {"subject": subject, "code": {"coding": [{"system": SNOMED, "code": "12345"}]}})
    assert off_list.status_code == 422
    assert off_list.json()["issue"][0]["expression"] == ["Condition.code"]
    resolved = post(
        api,
        "Condition",
        {
            "subject": subject,
            "code": {"text": "Flu"},
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}]
            },
        },
    )
    assert resolved.status_code == 422
    assert not Condition.objects.filter(patient=world.alice).exists()


# --- AllergyIntolerance -------------------------------------------------------------------------------------


def test_an_allergy_is_created_in_the_formulary_vocabulary_and_the_checks_use_it(world, api_client_for):
    api = api_client_for(world.gp)
    response = post(
        api,
        "AllergyIntolerance",
        {
            "patient": {"reference": f"Patient/{world.alice.public_id}"},
            "code": {"coding": [{"system": VOCABULARY, "code": "penicillins"}]},
            "reaction": [{"manifestation": [{"text": "Hives"}], "severity": "severe"}],
        },
    )
    assert response.status_code == 201, response.content
    created = FhirAllergyIntolerance.model_validate(response.json())
    stored = Allergy.objects.get(public_id=created.id)
    assert (stored.substance, stored.coded, stored.reaction, stored.severity) == (
        "penicillins",
        True,
        "Hives",
        "severe",
    )
    assert [(c.system, c.code, c.display) for c in created.code.coding] == [(VOCABULARY, "penicillins", "Penicillins")]
    assert created.category == ["medication"]
    assert created.reaction[0].manifestation[0].text == "Hives" and created.reaction[0].severity == "severe"

    free_text = post(
        api,
        "AllergyIntolerance",
        {
            "patient": {"reference": f"Patient/{world.alice.public_id}"},
            "code": {"text": "Elastoplast"},
        },
    )
    assert free_text.status_code == 201
    resource = FhirAllergyIntolerance.model_validate(free_text.json())
    assert resource.code.coding is None and resource.code.text == "Elastoplast"
    # No reaction written: it says so, and the severity is still sent.
    assert resource.reaction[0].manifestation[0].text == "Reaction not recorded"
    assert resource.reaction[0].severity == "moderate"
    assert Allergy.objects.get(public_id=resource.id).reaction == ""

    found = entries(api.get(f"/fhir/AllergyIntolerance?patient=Patient/{world.alice.public_id}"))
    assert {allergy.id for allergy in found} == {created.id, resource.id}

    # The safety checks match the coded allergy.
    tonsillitis = condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code=TONSILLITIS)
    prescribed = api.post(
        "/api/prescriptions",
        {
            "patient": str(world.alice.public_id),
            "condition": str(tonsillitis.public_id),
            "medicine": "co-amoxiclav",
            "dose_value": "500",
            "dose_unit": "mg",
            "frequency": "Three times daily",
            "duration_days": 7,
        },
        content_type="application/json",
    )
    assert prescribed.status_code == 422
    assert [warning["kind"] for warning in prescribed.json()["warnings"]] == ["allergy"]


def test_an_unknown_substance_is_refused_naming_the_code(world, api_client_for):
    response = post(
        api_client_for(world.gp),
        "AllergyIntolerance",
        {
            "patient": {"reference": f"Patient/{world.alice.public_id}"},
            "code": {"coding": [{"system": VOCABULARY, "code": "kryptonite"}]},
        },
    )
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["AllergyIntolerance.code"]


# --- Encounter ----------------------------------------------------------------------------------------------


def test_a_consultation_is_an_encounter(world, api_client_for):
    consultation = consultation_record(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        symptoms="Sore throat for four days",
        findings="Exudate on both tonsils",
        condition_code=TONSILLITIS,
    )
    api = api_client_for(world.gp)
    response = api.get(f"/fhir/Encounter/{consultation.public_id}")
    assert response.status_code == 200
    encounter = FhirEncounter.model_validate(response.json())
    assert encounter.status == "finished" and encounter.class_fhir.code == "AMB"
    assert encounter.subject.reference == f"Patient/{world.alice.public_id}"
    assert encounter.participant[0].individual.reference == f"Practitioner/{world.gp.clinician.public_id}"
    assert encounter.reasonReference[0].reference == f"Condition/{consultation.condition.public_id}"
    assert encounter.serviceProvider.reference == f"Organization/{world.surgery.public_id}"
    assert encounter.period.start == consultation.started_at
    # The notes are not in the Encounter (R4 has no place for them); the REST API has them.
    assert "Exudate" not in response.content.decode()

    found = entries(api.get(f"/fhir/Encounter?patient=Patient/{world.alice.public_id}"))
    assert [resource.id for resource in found] == [str(consultation.public_id)]
    assert entries(api.get(f"/fhir/Encounter?patient=Patient/{world.bob.public_id}")) == []


# --- Who sees them --------------------------------------------------------------------------------------------


@pytest.fixture
def clinical_records(world):
    gp = Actor.command_line(world.gp)
    consultation = consultation_record(actor=gp, patient=world.alice, symptoms="Cough", condition_code=TONSILLITIS)
    allergy = allergy_record(actor=gp, patient=world.alice, substance="penicillins")
    return {"Encounter": consultation, "Condition": consultation.condition, "AllergyIntolerance": allergy}


@pytest.mark.parametrize("resource_type", ["Encounter", "Condition", "AllergyIntolerance"])
@pytest.mark.parametrize("who", ["reception", "hospital_reception", "other_gp", "bob_user"])
def test_clinical_resources_are_not_found_for_anyone_who_may_not_see_them(
    world, clinical_records, api_client_for, resource_type, who
):
    user = getattr(world, who)
    api = api_client_for(user)
    record = clinical_records[resource_type]
    response = api.get(f"/fhir/{resource_type}/{record.public_id}")
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"
    object_type = {
        "Encounter": AuditObject.CONSULTATION,
        "Condition": AuditObject.CONDITION,
        "AllergyIntolerance": AuditObject.ALLERGY,
    }[resource_type]
    assert AuditEvent.objects.filter(
        action=AuditAction.DENY, actor=user, object_type__in=[object_type, AuditObject.PATIENT]
    ).exists()
    searched = api.get(f"/fhir/{resource_type}?patient=Patient/{world.alice.public_id}")
    assert searched.status_code == 200 and searched.json()["total"] == 0


@pytest.mark.parametrize("who, status", [("reception", 403), ("nurse", 201), ("other_gp", 404), ("alice_user", 403)])
def test_who_may_add_a_problem(world, api_client_for, who, status):
    response = post(
        api_client_for(getattr(world, who)),
        "Condition",
        {
            "subject": {"reference": f"Patient/{world.alice.public_id}"},
            "code": {"text": "Low mood"},
        },
    )
    assert response.status_code == status, response.content
    assert Condition.objects.filter(patient=world.alice, status=ConditionStatus.ACTIVE).exists() == (status == 201)
    if status in (403, 404):
        assert AuditEvent.objects.filter(action=AuditAction.DENY, actor=getattr(world, who)).exists()
