"""MedicationRequest: prescribing through FHIR, stopped by the safety checks (422) and overridden with
contained DetectedIssues (201); read and search within clinical access; cancel by PUT or PATCH."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.medicationrequest import MedicationRequest as FhirMedicationRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.services import allergy_record, condition_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.prescribing.models import Course, Prescription, PrescriptionStatus
from carebridge.prescribing.services import Order, prescription_cancel, prescription_issue

FHIR_JSON = "application/fhir+json"
SAFETY_WARNING = "urn:carebridge:safety-warning"
TONSILLITIS = "17741008"


@pytest.fixture
def tonsillitis(world):
    return condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code=TONSILLITIS)


def request_body(
    patient, condition, *, medicine="Amoxicillin", dose=500, frequency="Three times daily", days=7, **extra
) -> dict:
    body = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient.public_id}"},
        "medicationCodeableConcept": {"text": medicine},
        "dosageInstruction": [
            {"timing": {"code": {"text": frequency}}, "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "mg"}}]}
        ],
        "dispenseRequest": {
            "expectedSupplyDuration": {
                "value": days,
                "unit": "days",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            }
        },
        **extra,
    }
    if condition is not None:
        body["reasonReference"] = [{"reference": f"Condition/{condition.public_id}"}]
    return body


def with_overrides(body: dict, reasons: dict[str, str]) -> dict:
    """The same MedicationRequest, overriding each warning kind with a reason (contained DetectedIssues)."""
    contained = [
        {
            "resourceType": "DetectedIssue",
            "id": kind,
            "status": "final",
            "code": {"coding": [{"system": SAFETY_WARNING, "code": kind}]},
            "mitigation": [{"action": {"text": reason}}],
        }
        for kind, reason in reasons.items()
    ]
    return {**body, "contained": contained, "detectedIssue": [{"reference": f"#{kind}"} for kind in reasons]}


def post(api, body, path="/fhir/MedicationRequest"):
    return api.post(path, json.dumps(body), content_type=FHIR_JSON)


def outcome_issues(response) -> list:
    assert response["Content-Type"].startswith(FHIR_JSON)
    return OperationOutcome.model_validate(response.json()).issue


def issued(world, condition, medicine="paracetamol", dose="1000", frequency="Four times daily", days=5, **extra):
    return prescription_issue(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        condition=condition,
        order=Order(
            medicine=medicine, dose_value=Decimal(dose), dose_unit="mg", frequency=frequency, duration_days=days
        ),
        **extra,
    )


# --- The safety checks: 422, then override, then 201 ------------------------------------------------------


def test_a_warning_answers_422_and_contained_detected_issues_override_it(world, tonsillitis, api_client_for):
    allergy_record(actor=Actor.command_line(world.gp), patient=world.alice, substance="penicillins", reaction="Rash")
    api = api_client_for(world.gp)
    body = request_body(world.alice, tonsillitis)

    stopped = post(api, body)
    assert stopped.status_code == 422, stopped.content
    [issue] = outcome_issues(stopped)
    assert issue.severity == "error" and issue.code == "business-rule"
    assert [(coding.system, coding.code) for coding in issue.details.coding] == [(SAFETY_WARNING, "allergy")]
    assert issue.details.text.startswith("The patient is allergic to Penicillins (reaction: Rash)")
    assert not Prescription.objects.filter(patient=world.alice, medication_name="Amoxicillin").exists()
    # A warning is a rule, not an access decision: nothing in the trail says anyone was refused.
    assert not AuditEvent.objects.filter(action=AuditAction.DENY).exists()

    reason = "Had amoxicillin in 2024 with no reaction; the rash was from the virus"
    created = post(api, with_overrides(body, {"allergy": reason}))
    assert created.status_code == 201, created.content
    resource = FhirMedicationRequest.model_validate(created.json())
    stored = Prescription.objects.get(public_id=resource.id)
    assert created["Location"] == f"http://testserver/fhir/MedicationRequest/{stored.public_id}"
    assert stored.medicine_key == "amoxicillin" and stored.condition == tonsillitis
    assert stored.quantity_value == 21 and stored.quantity_unit == "capsules"  # worked out: 1 x 3 x 7
    [override] = stored.overrides.all()
    assert (override.kind, override.reason, override.overridden_by) == ("allergy", reason, world.gp.clinician)
    assert override.message == issue.details.text

    # The overrides come back as contained DetectedIssues, on the create's answer and on every read.
    read = api.get(f"/fhir/MedicationRequest/{stored.public_id}")
    assert read.status_code == 200
    for answer in (resource, FhirMedicationRequest.model_validate(read.json())):
        [detected] = answer.contained
        assert detected.get_resource_type() == "DetectedIssue"
        assert [ref.reference for ref in answer.detectedIssue] == [f"#{detected.id}"]
        assert detected.status == "final"
        assert [(coding.system, coding.code) for coding in detected.code.coding] == [(SAFETY_WARNING, "allergy")]
        assert detected.mitigation[0].action.text == reason
        assert detected.detail == override.message
        assert detected.mitigation[0].author.reference == f"Practitioner/{world.gp.clinician.public_id}"
    created_row = AuditEvent.objects.get(action=AuditAction.CREATE, object_type=AuditObject.PRESCRIPTION)
    assert created_row.detail["overridden"] == ["allergy"] and created_row.channel == "fhir"


def test_an_override_without_a_reason_is_no_override(world, tonsillitis, api_client_for):
    allergy_record(actor=Actor.command_line(world.gp), patient=world.alice, substance="penicillins")
    response = post(api_client_for(world.gp), with_overrides(request_body(world.alice, tonsillitis), {"allergy": " "}))
    assert response.status_code == 422
    assert [issue.details.coding[0].code for issue in outcome_issues(response)] == ["allergy"]
    assert not Prescription.objects.filter(medication_name="Amoxicillin").exists()


def test_each_warning_is_its_own_issue_and_a_free_text_medicine_warns_no_checks_ran(world, tonsillitis, api_client_for):
    api = api_client_for(world.gp)
    body = request_body(world.alice, tonsillitis, medicine="Snake oil", dose=5)
    body["dispenseRequest"]["quantity"] = {"value": 10, "unit": "ml"}
    response = post(api, body)
    assert response.status_code == 422
    [issue] = outcome_issues(response)
    assert issue.details.coding[0].code == "unchecked"
    assert "Snake oil is not in the formulary" in issue.details.text

    # Too much amoxicillin (1.5 g three times a day) for a patient allergic to it: two warnings, two issues.
    allergy_record(actor=Actor.command_line(world.gp), patient=world.alice, substance="amoxicillin")
    response = post(api, request_body(world.alice, tonsillitis, dose=1500))
    assert response.status_code == 422
    assert sorted(issue.details.coding[0].code for issue in outcome_issues(response)) == ["allergy", "dose"]

    overridden = post(api, with_overrides(body, {"unchecked": "Checked the interactions myself in the BNF"}))
    assert overridden.status_code == 201, overridden.content
    resource = FhirMedicationRequest.model_validate(overridden.json())
    assert resource.medicationCodeableConcept.text == "Snake oil"
    assert resource.medicationCodeableConcept.coding is None  # no dm+d code is known for free text


def test_an_override_must_be_contained_and_name_a_known_kind(world, tonsillitis, api_client_for):
    api = api_client_for(world.gp)
    body = with_overrides(request_body(world.alice, tonsillitis), {"allergy": "reason"})
    body["contained"][0]["code"]["coding"][0]["code"] = "bad-luck"
    response = post(api, body)
    assert response.status_code == 422
    [issue] = outcome_issues(response)
    assert issue.expression == ["MedicationRequest.contained"] and "bad-luck" not in issue.details.text
    assert "allergy, dose, duplicate-therapy, interaction, quantity, unchecked" in issue.details.text

    body = {**request_body(world.alice, tonsillitis), "detectedIssue": [{"reference": "DetectedIssue/123"}]}
    response = post(api, body)
    assert response.status_code == 422
    assert outcome_issues(response)[0].expression == ["MedicationRequest.detectedIssue"]


def test_a_prescription_must_name_its_condition(world, api_client_for):
    response = post(api_client_for(world.gp), request_body(world.alice, None))
    assert response.status_code == 422
    [issue] = outcome_issues(response)
    assert issue.code == "business-rule" and issue.expression == ["MedicationRequest.reasonReference"]
    assert issue.details.text == "Say which condition this prescription treats."


def test_a_repeat_carries_its_issues_and_review_date(world, tonsillitis, api_client_for):
    review = clock.today() + dt.timedelta(days=180)
    hypertension = condition_record(actor=Actor.command_line(world.gp), patient=world.alice, code="59621000")
    body = request_body(
        world.alice,
        hypertension,
        medicine="Amlodipine",
        dose=5,
        frequency="Once daily",
        days=28,
        courseOfTherapyType={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "code": "continuous",
                }
            ]
        },
        extension=[
            {
                "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation",
                "extension": [{"url": "authorisationExpiryDate", "valueDateTime": review.isoformat()}],
            }
        ],
    )
    body["dispenseRequest"] |= {"numberOfRepeatsAllowed": 5, "performer": {"display": "High Street Pharmacy"}}
    # Simvastatin with amlodipine: a known interaction, overridden at this dose.
    response = post(api_client_for(world.gp), with_overrides(body, {"interaction": "Simvastatin stays at 20 mg"}))
    assert response.status_code == 201, response.content
    stored = Prescription.objects.get(public_id=response.json()["id"])
    assert (stored.course, stored.issues_allowed, stored.review_date) == (Course.REPEAT, 6, review)
    assert stored.pharmacy_name == "High Street Pharmacy"
    resource = FhirMedicationRequest.model_validate(response.json())
    assert resource.courseOfTherapyType.coding[0].code == "continuous"
    assert resource.dispenseRequest.numberOfRepeatsAllowed == 5
    assert resource.dispenseRequest.performer.display == "High Street Pharmacy"
    assert resource.dispenseRequest.quantity.value == 28
    assert resource.dosageInstruction[0].timing.repeat.frequency == 1
    information = {part.url: part for part in resource.extension[0].extension}
    assert information["numberOfRepeatPrescriptionsIssued"].valueUnsignedInt == 1
    assert str(information["authorisationExpiryDate"].valueDateTime) == review.isoformat()


# --- Read and search ---------------------------------------------------------------------------------------


def test_search_by_patient_and_status_finds_only_what_the_user_may_see(world, tonsillitis, api_client_for):
    active = issued(world, tonsillitis)
    cancelled = issued(world, tonsillitis, medicine="ibuprofen", dose="400", frequency="Three times daily")
    prescription_cancel(actor=Actor.command_line(world.gp), prescription=cancelled, reason="Indigestion")
    simvastatin = world.alice_prescription
    api = api_client_for(world.gp)

    def ids(query: str) -> set[str]:
        response = api.get(f"/fhir/MedicationRequest?{query}")
        assert response.status_code == 200, response.content
        bundle = Bundle.model_validate(response.json())  # every entry checked against the R4B models
        return {entry.resource.id for entry in bundle.entry or []}

    alice = f"patient=Patient/{world.alice.public_id}"
    assert ids(alice) == {str(active.public_id), str(cancelled.public_id), str(simvastatin.public_id)}
    assert ids(f"{alice}&status=active") == {str(active.public_id), str(simvastatin.public_id)}
    assert ids(f"{alice}&status=cancelled") == {str(cancelled.public_id)}
    assert ids(f"{alice}&status=completed,on-hold") == set()
    assert ids(f"{alice}&authoredon={clock.today().isoformat()}&status=active") == {
        str(active.public_id),
        str(simvastatin.public_id),
    }
    assert ids(f"{alice}&authoredon=lt{clock.today().isoformat()}") == set()
    assert ids(f"patient=Patient/{world.bob.public_id}") == set()  # not the GP's patient
    assert api.get("/fhir/MedicationRequest?status=taken").status_code == 400

    cancelled_resource = FhirMedicationRequest.model_validate(
        api.get(f"/fhir/MedicationRequest/{cancelled.public_id}").json()
    )
    assert cancelled_resource.status == "cancelled" and cancelled_resource.statusReason.text == "Indigestion"
    searched = AuditEvent.objects.filter(action=AuditAction.SEARCH, object_type=AuditObject.PRESCRIPTION)
    assert searched.filter(patient_id=world.alice.pk).exists()


@pytest.mark.parametrize("who", ["reception", "other_gp", "bob_user", "porter"])
def test_a_medication_request_is_not_found_for_anyone_who_may_not_see_clinical_records(world, api_client_for, who):
    api = api_client_for(getattr(world, who))
    prescription = world.alice_prescription
    response = api.get(f"/fhir/MedicationRequest/{prescription.public_id}")
    assert response.status_code == 404
    assert outcome_issues(response)[0].code == "not-found"
    assert AuditEvent.objects.filter(action=AuditAction.DENY, actor=getattr(world, who)).exists()
    # A search finds nothing, rather than saying whether there was anything to find.
    searched = api.get(f"/fhir/MedicationRequest?patient=Patient/{world.alice.public_id}")
    assert searched.status_code == 200 and searched.json()["total"] == 0


def test_the_patient_reads_their_own_prescriptions(world, api_client_for):
    api = api_client_for(world.alice_user)
    response = api.get(f"/fhir/MedicationRequest/{world.alice_prescription.public_id}")
    assert response.status_code == 200
    resource = FhirMedicationRequest.model_validate(response.json())
    assert resource.subject.reference == f"Patient/{world.alice.public_id}"
    assert resource.reasonReference is None  # imported: it names no condition, and stays valid
    assert resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value == 20


# --- Status changes: PUT and PATCH ----------------------------------------------------------------------------


def test_patch_cancels_with_a_reason_and_refuses_without_one(world, tonsillitis, api_client_for):
    prescription = issued(world, tonsillitis)
    api = api_client_for(world.gp)
    path = f"/fhir/MedicationRequest/{prescription.public_id}"

    without = api.patch(path, json.dumps({"status": "cancelled"}), content_type=FHIR_JSON)
    assert without.status_code == 422
    assert outcome_issues(without)[0].expression == ["MedicationRequest.statusReason"]

    response = api.patch(
        path,
        json.dumps(
            [
                {"op": "replace", "path": "/status", "value": "cancelled"},
                {"op": "add", "path": "/statusReason", "value": {"text": "Prescribed in error"}},
            ]
        ),
        content_type="application/json-patch+json",
    )
    assert response.status_code == 200, response.content
    resource = FhirMedicationRequest.model_validate(response.json())
    assert resource.status == "cancelled" and resource.statusReason.text == "Prescribed in error"
    prescription.refresh_from_db()
    assert (prescription.status, prescription.cancellation_reason) == (
        PrescriptionStatus.CANCELLED,
        "Prescribed in error",
    )


def test_put_changes_only_the_status(world, tonsillitis, api_client_for):
    prescription = issued(world, tonsillitis)
    api = api_client_for(world.gp)
    path = f"/fhir/MedicationRequest/{prescription.public_id}"
    current = api.get(path).json()

    doubled = json.loads(json.dumps(current))
    doubled["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 2000
    response = api.put(path, json.dumps(doubled), content_type=FHIR_JSON)
    assert response.status_code == 422
    assert "Only cancellation is supported" in outcome_issues(response)[0].details.text
    assert outcome_issues(response)[0].expression == ["MedicationRequest.dosageInstruction"]

    completed = {**current, "status": "completed"}
    assert api.put(path, json.dumps(completed), content_type=FHIR_JSON).status_code == 422

    unchanged = api.put(path, json.dumps(current), content_type=FHIR_JSON)
    assert unchanged.status_code == 200

    cancelled = {**current, "status": "cancelled", "statusReason": {"text": "Patient declined"}}
    response = api.put(path, json.dumps(cancelled), content_type=FHIR_JSON)
    assert response.status_code == 200, response.content
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.CANCELLED


def test_only_clinicians_at_the_prescribing_surgery_cancel(world, tonsillitis, api_client_for):
    prescription = issued(world, tonsillitis)
    change = json.dumps({"status": "cancelled", "statusReason": {"text": "Not needed"}})
    path = f"/fhir/MedicationRequest/{prescription.public_id}"
    # The hospital's consultant may see alice (her referral) but did not prescribe this.
    refused = api_client_for(world.specialist).patch(path, change, content_type=FHIR_JSON)
    assert refused.status_code == 403
    assert outcome_issues(refused)[0].code == "forbidden"
    assert AuditEvent.objects.filter(
        action=AuditAction.DENY, actor=world.specialist, object_type=AuditObject.PRESCRIPTION
    ).exists()
    # Reception may not even see it.
    assert api_client_for(world.reception).patch(path, change, content_type=FHIR_JSON).status_code == 404
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.ISSUED


# --- The CapabilityStatement ------------------------------------------------------------------------------


def test_the_capability_statement_lists_the_clinical_resources(client):
    statement = CapabilityStatement.model_validate(client.get("/fhir/metadata").json())
    resources = {resource.type: resource for resource in statement.rest[0].resource}
    interactions = {name: {i.code for i in resource.interaction} for name, resource in resources.items()}
    assert interactions["MedicationRequest"] == {"read", "search-type", "create", "update", "patch"}
    assert interactions["Condition"] == {"read", "search-type", "create"}
    assert interactions["AllergyIntolerance"] == {"read", "search-type", "create"}
    assert interactions["Encounter"] == {"read", "search-type"}
    params = {param.name for param in resources["MedicationRequest"].searchParam}
    assert {"patient", "status", "authoredon"} <= params
    assert "Appointment" in resources  # alongside what was there
