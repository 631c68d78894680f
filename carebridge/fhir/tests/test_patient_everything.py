"""Patient/$everything: the whole record as one Bundle that validates against the R4 models, holding every
resource of the patient (counted against the database) and nobody else's; for clinicians who may see the
patient and the patient themself, refused (audited) to everyone else."""

from collections import Counter

import pytest
from fhir.resources.R4B.bundle import Bundle

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.models import Allergy, Condition, Consultation
from carebridge.prescribing.models import Prescription
from carebridge.referrals.models import Referral, ReferralDocument
from carebridge.scheduling.models import Appointment
from carebridge.subject_access.tests.conftest import full_record  # noqa: F401  (a fixture, used by name)


def _everything(api, patient):
    return api.get(f"/fhir/Patient/{patient.public_id}/$everything")


def _public_ids(patient) -> dict[str, set[str]]:
    """Every resource of `patient` as the database holds it, by FHIR resource type."""
    referrals = {
        str(public_id) for public_id in Referral.objects.filter(patient=patient).values_list("public_id", flat=True)
    }
    return {
        "Patient": {str(patient.public_id)},
        "Appointment": {
            str(row) for row in Appointment.objects.filter(patient=patient).values_list("public_id", flat=True)
        },
        "Encounter": {
            str(row) for row in Consultation.objects.filter(patient=patient).values_list("public_id", flat=True)
        },
        "Condition": {
            str(row) for row in Condition.objects.filter(patient=patient).values_list("public_id", flat=True)
        },
        "AllergyIntolerance": {
            str(row) for row in Allergy.objects.filter(patient=patient).values_list("public_id", flat=True)
        },
        "MedicationRequest": {
            str(row) for row in Prescription.objects.filter(patient=patient).values_list("public_id", flat=True)
        },
        "ServiceRequest": referrals,
        "Task": referrals,
        "DocumentReference": {
            str(row)
            for row in ReferralDocument.objects.filter(referral__patient=patient).values_list("public_id", flat=True)
        },
    }


@pytest.mark.parametrize("who", ["gp", "specialist", "alice_user"])
def test_the_bundle_holds_every_resource_of_the_patient_and_nobody_else_s(world, api_client_for, full_record, who):
    response = _everything(api_client_for(getattr(world, who)), world.alice)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())  # every entry parsed as its R4 resource
    assert bundle.type == "searchset"
    found: dict[str, set[str]] = {}
    for entry in bundle.entry:
        found.setdefault(entry.resource.get_resource_type(), set()).add(entry.resource.id)
        assert entry.fullUrl.endswith(f"/fhir/{entry.resource.get_resource_type()}/{entry.resource.id}")
    expected = _public_ids(world.alice)
    assert found == expected
    assert bundle.total == len(bundle.entry) == sum(len(ids) for ids in expected.values())
    counts = Counter(entry.resource.get_resource_type() for entry in bundle.entry)
    assert counts["ServiceRequest"] == counts["Task"] == 2
    assert counts["DocumentReference"] == 2  # the dermatology referral's letter and its attachment
    # Nobody else's: none of Bob's records, and nothing that names him.
    bob_ids = set().union(*_public_ids(world.bob).values())
    assert not bob_ids & set().union(*found.values())
    assert "Baker" not in response.content.decode() and "bronchitis" not in response.content.decode()
    # Documents are listed, not carried: each is read on its own.
    for entry in bundle.entry:
        if entry.resource.get_resource_type() == "DocumentReference":
            assert entry.resource.content[0].attachment.data is None
    # The read is audited as a read of the record, for this purpose.
    assert AuditEvent.objects.filter(
        actor=getattr(world, who),
        action=AuditAction.VIEW,
        object_type=AuditObject.PATIENT,
        patient_id=world.alice.pk,
        detail__purpose="fhir $everything",
    ).exists()


def test_a_patient_with_little_recorded_gets_only_their_patient_resource(world, api_client_for):
    bundle = Bundle.model_validate(_everything(api_client_for(world.gp), world.carol).json())
    assert [entry.resource.get_resource_type() for entry in bundle.entry] == ["Patient"]
    assert bundle.entry[0].resource.id == str(world.carol.public_id)


@pytest.mark.parametrize("who", ["reception", "hospital_reception", "manager"])
def test_staff_who_see_the_patient_but_not_the_clinical_record_are_refused_403(world, api_client_for, outcome_of, who):
    user = getattr(world, who)
    response = _everything(api_client_for(user), world.alice)
    assert response.status_code == 403
    assert outcome_of(response).code == "forbidden"
    assert AuditEvent.objects.filter(
        actor=user, action=AuditAction.DENY, patient_id=world.alice.pk, detail__operation="fhir $everything"
    ).exists()


@pytest.mark.parametrize("who", ["other_gp", "other_specialist", "bob_user", "porter", "admin", "privacy"])
def test_everyone_who_may_not_see_the_patient_is_answered_404_audited(world, api_client_for, outcome_of, who):
    user = getattr(world, who)
    response = _everything(api_client_for(user), world.alice)
    assert response.status_code == 404
    assert outcome_of(response).code == "not-found"
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, patient_id=world.alice.pk).exists()


def test_a_missing_patient_is_404_and_only_get_is_allowed(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    assert api.get("/fhir/Patient/not-a-patient/$everything").status_code == 404
    refused = api.post(f"/fhir/Patient/{world.alice.public_id}/$everything")
    assert refused.status_code == 405
    assert refused["Allow"] == "GET"


def test_the_capability_statement_names_the_operation(world, client):
    statement = client.get("/fhir/metadata").json()
    patient = next(resource for resource in statement["rest"][0]["resource"] if resource["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"
    assert patient["operation"][0]["definition"] == "http://hl7.org/fhir/OperationDefinition/Patient-everything"
