"""The CapabilityStatement, and the OperationOutcomes every failure answers with."""

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from carebridge.accounts.models import ApiToken
from carebridge.accounts.services import api_token_revoke
from carebridge.core.actor import Actor


def test_the_capability_statement_is_valid_r4_and_open_to_all(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    statement = CapabilityStatement.model_validate(response.json())
    assert (statement.status, statement.kind, statement.fhirVersion) == ("active", "instance", "4.0.1")
    assert "json" in statement.format
    [rest] = statement.rest
    assert rest.mode == "server"
    resources = {resource.type: resource for resource in rest.resource}
    assert set(resources) == {
        "Patient",
        "Practitioner",
        "Organization",
        "Location",
        "HealthcareService",
        "Schedule",
        "Slot",
        "Appointment",
        "MedicationRequest",
        "Condition",
        "AllergyIntolerance",
        "Encounter",
        "ServiceRequest",
        "Task",
        "DocumentReference",
    }
    assert [i.code for i in resources["Appointment"].interaction] == [
        "read",
        "search-type",
        "create",
        "update",
        "patch",
    ]
    assert [i.code for i in resources["Slot"].interaction] == ["read", "search-type"]
    assert {param.name for param in resources["Slot"].searchParam} >= {"schedule", "schedule.actor", "start", "status"}
    assert {param.name for param in resources["Appointment"].searchParam} >= {"patient", "actor", "date", "status"}
    assert {param.name for param in resources["Patient"].searchParam} >= {"identifier", "family", "birthdate"}
    assert statement.implementation.url == "http://testserver/fhir/"


def test_no_token_is_401_with_an_operation_outcome(world, client, outcome_of):
    response = client.get(f"/fhir/Patient/{world.alice.public_id}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="carebridge"'
    assert outcome_of(response).code == "login"


@pytest.mark.parametrize("header", ["Bearer cb_wrong", "Basic Z3A6cGFzcw=="])
def test_a_bad_token_is_401(world, client, outcome_of, header):
    response = client.get("/fhir/Slot", headers={"Authorization": header})
    assert response.status_code == 401 and outcome_of(response).code == "login"


def test_a_revoked_token_is_401(world, client, token_for, outcome_of):
    token = token_for(world.gp)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/fhir/Practitioner", headers=headers).status_code == 200
    api_token_revoke(actor=Actor.command_line(world.admin), api_token=ApiToken.objects.get(user=world.gp))
    response = client.get("/fhir/Practitioner", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert outcome_of(response).code == "login"


def test_a_session_cookie_is_not_enough(world, client_for):
    assert client_for(world.gp).get("/fhir/Practitioner").status_code == 401


def test_unknown_resource_types_and_interactions_are_404(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    for path in (
        "/fhir/Observation",
        "/fhir/Observation/123",
        f"/fhir/Patient/{world.alice.public_id}/_history",
        "/fhir/",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert outcome_of(response).code in ("not-found", "not-supported")


def test_a_wrong_method_is_405_with_allow(world, api_client_for, outcome_of):
    api = api_client_for(world.gp)
    response = api.delete(f"/fhir/Patient/{world.alice.public_id}")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert outcome_of(response).code == "not-supported"
    response = api.post("/fhir/Slot", {}, content_type="application/fhir+json")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert api.delete("/fhir/Appointment/x")["Allow"] == "GET, PUT, PATCH"
    assert api.put("/fhir/Appointment", {}, content_type="application/fhir+json")["Allow"] == "GET, POST"


def test_only_json_is_spoken(world, api_client_for, outcome_of):
    response = api_client_for(world.gp).get("/fhir/Practitioner", {"_format": "xml"})
    assert response.status_code == 406 and outcome_of(response).code == "not-supported"


def test_a_bad_search_value_is_400(world, api_client_for, outcome_of):
    response = api_client_for(world.gp).get("/fhir/Patient", {"birthdate": "yesterday"})
    assert response.status_code == 400
    issue = outcome_of(response)
    assert issue.code == "invalid" and issue.expression == ["birthdate"]
