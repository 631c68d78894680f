"""Patient (through the access layer), Practitioner, Organization and Location (directory data)."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner

from carebridge.audit.models import AuditAction, AuditEvent

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def _bundle(response) -> Bundle:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "searchset"
    return bundle


def _ids(bundle: Bundle) -> list[str]:
    return [entry.resource.id for entry in bundle.entry or []]


# --- Patient ------------------------------------------------------------------------------------------


def test_a_gp_reads_a_registered_patient(world, api_client_for):
    response = api_client_for(world.gp).get(f"/fhir/Patient/{world.alice.public_id}")
    assert response.status_code == 200
    patient = Patient.model_validate(response.json())
    assert patient.id == str(world.alice.public_id)
    nhs_number = next(identifier for identifier in patient.identifier if identifier.system == NHS)
    assert nhs_number.value == "9434765919"
    assert nhs_number.extension[0].valueCodeableConcept.coding[0].code == "01"  # verified
    assert (patient.name[0].family, patient.name[0].given) == ("Archer", ["Alice"])
    assert (patient.gender, patient.birthDate.isoformat()) == ("female", "1980-05-17")
    assert patient.generalPractitioner[0].reference == f"Organization/{world.surgery.public_id}"
    event = AuditEvent.objects.get(actor=world.gp, action=AuditAction.VIEW)
    assert event.patient_id == world.alice.pk and event.channel == "fhir"


def test_a_gp_without_a_relationship_gets_404_and_the_refusal_is_audited(world, api_client_for, outcome_of):
    response = api_client_for(world.other_gp).get(f"/fhir/Patient/{world.alice.public_id}")
    assert response.status_code == 404
    issue = outcome_of(response)
    assert issue.code == "not-found"
    denial = AuditEvent.objects.get(actor=world.other_gp, action=AuditAction.DENY)
    assert denial.patient_id == world.alice.pk and denial.channel == "fhir"


def test_missing_and_forbidden_patients_answer_alike(world, api_client_for):
    api = api_client_for(world.other_gp)
    forbidden = api.get(f"/fhir/Patient/{world.alice.public_id}")
    missing = api.get("/fhir/Patient/00000000-0000-4000-8000-000000000000")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()


def test_patient_search_by_nhs_number(world, api_client_for):
    bundle = _bundle(api_client_for(world.reception).get("/fhir/Patient", {"identifier": f"{NHS}|9434765919"}))
    assert bundle.total == 1 and _ids(bundle) == [str(world.alice.public_id)]
    assert bundle.link[0].relation == "self" and "identifier=" in bundle.link[0].url
    assert bundle.entry[0].fullUrl == f"http://testserver/fhir/Patient/{world.alice.public_id}"
    event = AuditEvent.objects.get(actor=world.reception, action=AuditAction.SEARCH)
    assert event.patient_id == world.alice.pk


def test_patient_search_is_limited_to_visible_patients(world, api_client_for):
    for user in (world.other_gp, world.other_reception, world.bob_user, world.porter):
        bundle = _bundle(api_client_for(user).get("/fhir/Patient", {"identifier": f"{NHS}|9434765919"}))
        assert bundle.total == 0 and not bundle.entry
    # With no criteria, everyone they may see and nobody else: the surgery's two patients, by surname.
    assert _ids(_bundle(api_client_for(world.reception).get("/fhir/Patient"))) == [
        str(world.alice.public_id),
        str(world.carol.public_id),
    ]
    assert _ids(_bundle(api_client_for(world.bob_user).get("/fhir/Patient"))) == [str(world.bob.public_id)]


def test_patient_search_by_family_and_birthdate(world, api_client_for):
    api = api_client_for(world.gp)
    assert _ids(_bundle(api.get("/fhir/Patient", {"family": "arch"}))) == [str(world.alice.public_id)]
    assert _bundle(api.get("/fhir/Patient", {"family:exact": "arch"})).total == 0
    # Alice and Carol, both at the GP's surgery, share a birthday; Bob shares it too but is not the GP's.
    surgery_patients = [str(world.alice.public_id), str(world.carol.public_id)]
    assert _ids(_bundle(api.get("/fhir/Patient", {"birthdate": "1980-05-17"}))) == surgery_patients
    assert _ids(_bundle(api.get("/fhir/Patient", {"birthdate": "1980"}))) == surgery_patients
    assert _bundle(api.get("/fhir/Patient", {"birthdate": "gt1980-05-17"})).total == 0
    assert _ids(_bundle(api.get("/fhir/Patient", {"birthdate": ["ge1980-01-01", "lt1981-01-01"]}))) == surgery_patients
    assert _bundle(api.get("/fhir/Patient", {"identifier": "https://example.org/other|9434765919"})).total == 0


def test_search_pages_with_count_and_a_next_link(world, api_client_for):
    bundle = _bundle(api_client_for(world.admin).get("/fhir/Practitioner", {"_count": 2}))
    assert bundle.total == 6 and len(bundle.entry) == 2
    following = next(link.url for link in bundle.link if link.relation == "next")
    second = _bundle(api_client_for(world.admin).get(following.removeprefix("http://testserver")))
    assert len(second.entry) == 2 and not set(_ids(second)) & set(_ids(bundle))


# --- Practitioner, Organization, Location ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["porter", "bob_user", "admin"])
def test_anyone_with_a_token_reads_the_directory(world, api_client_for, name):
    api = api_client_for(getattr(world, name))
    practitioner = Practitioner.model_validate(api.get(f"/fhir/Practitioner/{world.gp.clinician.public_id}").json())
    assert practitioner.identifier[0].system == "https://fhir.hl7.org.uk/Id/gmc-number"
    assert practitioner.identifier[0].value == "1234567"
    assert practitioner.name[0].prefix == ["Dr."] and practitioner.name[0].family == "Patel"
    organization = Organization.model_validate(api.get(f"/fhir/Organization/{world.surgery.public_id}").json())
    assert organization.name == "Oak Tree Surgery" and organization.type[0].text == "GP Surgery"


def test_nurses_are_identified_by_their_nmc_number(world, api_client_for):
    api = api_client_for(world.gp)
    nurse = Practitioner.model_validate(api.get(f"/fhir/Practitioner/{world.nurse.clinician.public_id}").json())
    assert (nurse.identifier[0].system, nurse.identifier[0].value) == (
        "https://fhir.hl7.org.uk/Id/nmc-number",
        "N123456",
    )
    found = _bundle(api.get("/fhir/Practitioner", {"identifier": "https://fhir.hl7.org.uk/Id/nmc-number|N123456"}))
    assert _ids(found) == [str(world.nurse.clinician.public_id)]
    # A nurse's PIN is not a GMC number.
    assert (
        _bundle(api.get("/fhir/Practitioner", {"identifier": "https://fhir.hl7.org.uk/Id/gmc-number|N123456"})).total
        == 0
    )
    assert _ids(_bundle(api.get("/fhir/Practitioner", {"family": "patel"}))) == [str(world.gp.clinician.public_id)]


def test_organizations_by_ods_code_or_carebridge_id(world, api_client_for):
    world.hospital.ods_code = "RR101"
    world.hospital.save()
    api = api_client_for(world.gp)
    hospital = Organization.model_validate(api.get(f"/fhir/Organization/{world.hospital.public_id}").json())
    assert (hospital.identifier[0].system, hospital.identifier[0].value) == (
        "https://fhir.nhs.uk/Id/ods-organization-code",
        "RR101",
    )
    found = _bundle(api.get("/fhir/Organization", {"identifier": "https://fhir.nhs.uk/Id/ods-organization-code|RR101"}))
    assert _ids(found) == [str(world.hospital.public_id)]
    surgery = Organization.model_validate(api.get(f"/fhir/Organization/{world.surgery.public_id}").json())
    assert surgery.identifier[0].value == "S1" and "carebridge" in surgery.identifier[0].system
    assert _bundle(api.get("/fhir/Organization", {"name": "oak"})).total == 1


def test_a_facility_is_also_a_location(world, api_client_for):
    api = api_client_for(world.gp)
    location = Location.model_validate(api.get(f"/fhir/Location/{world.hospital.public_id}").json())
    assert location.managingOrganization.reference == f"Organization/{world.hospital.public_id}"
    found = _bundle(api.get("/fhir/Location", {"organization": f"Organization/{world.hospital.public_id}"}))
    assert _ids(found) == [str(world.hospital.public_id)]


def test_unknown_directory_ids_are_404(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    for path in ("/fhir/Practitioner/00000000-0000-4000-8000-000000000000", "/fhir/Organization/nope"):
        response = api.get(path)
        assert response.status_code == 404 and outcome_of(response).code == "not-found"
