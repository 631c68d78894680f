"""Bearer tokens are the only way in: no token, a bad or revoked one, or a session cookie alone get 401."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from carebridge.accounts.models import ApiToken
from carebridge.accounts.services import api_token_revoke
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.testing.days import BASE_MOMENT
from carebridge.testing.schedule import slot_at


def test_no_token_is_401_with_a_bearer_challenge(world, client):
    response = client.get("/api/slots")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="carebridge"'
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer cb_made-up", "Bearer ", "Basic YWxpY2U6cGFzc3dvcmQ=", "cb_no-scheme"])
def test_a_bad_token_is_401(world, client, header):
    response = client.get("/api/slots", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="carebridge"')


def test_an_unknown_token_is_named_invalid_in_the_challenge(world, client):
    response = client.get("/api/slots", headers={"Authorization": "Bearer cb_made-up"})
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_revoked_token_stops_working_at_once(world, token_for):
    token = token_for(world.reception)
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/me").status_code == 200
    api_token_revoke(actor=Actor.command_line(world.admin), api_token=ApiToken.objects.get(user=world.reception))
    assert api.get("/api/me").status_code == 401


def test_a_deactivated_user_token_stops_working(world, api_client_for):
    api = api_client_for(world.gp)
    world.gp.is_active = False
    world.gp.save()
    assert api.get("/api/me").status_code == 401


def test_a_signed_in_browser_session_does_not_authenticate_the_api(world, client_for):
    # The API never reads the session cookie, which is why CSRF does not apply to it.
    assert client_for(world.reception).get("/api/me").status_code == 401


def test_token_requests_need_no_csrf_token(schedule, token_for):
    strict = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token_for(schedule.reception)}"})
    response = strict.post(
        "/api/appointments",
        {
            "patient": str(schedule.alice.public_id),
            "slot": str(slot_at(schedule, 0, dt.time(9)).public_id),
            "appointment_type": "Routine Consultation",
            "reason": "Check-up",
        },
        content_type="application/json",
    )
    assert response.status_code == 201


def test_the_token_acts_as_its_user(world, api_client_for):
    response = api_client_for(world.alice_user).get("/api/me")
    assert response.json() == {"username": "alice", "role": "Patient", "name": "Alice Archer"}


@pytest.mark.parametrize("path", ["/api/patients/{patient}", "/fhir/Patient/{patient}"])
def test_a_token_call_from_a_signed_in_browser_leaves_its_web_session_alone(world, client_for, token_for, path):
    # The idle sign-out is about the person at the screen: a script calling the API with a token from
    # the same browser neither keeps the web session going nor ends it (core.middleware.bearer_api_call).
    browser = client_for(world.reception)
    assert browser.get("/").wsgi_request.user.is_authenticated
    token = {"Authorization": f"Bearer {token_for(world.gp)}"}
    address = path.format(patient=world.alice.public_id)

    clock.freeze(BASE_MOMENT + dt.timedelta(minutes=29))
    assert browser.get(address, headers=token).status_code == 200
    clock.freeze(BASE_MOMENT + dt.timedelta(minutes=31))
    assert browser.get(address, headers=token).status_code == 200  # no sign-out here, and the GP's answer
    assert not AuditEvent.objects.filter(action=AuditAction.SIGN_OUT).exists()
    # The API calls did not count as activity: 31 minutes after the page, the page signs out.
    assert not browser.get("/").wsgi_request.user.is_authenticated
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_OUT, actor=world.reception).count() == 1


def test_a_token_call_costs_the_same_statements_with_a_session_cookie_or_without(world, client_for, token_for):
    token = {"Authorization": f"Bearer {token_for(world.reception)}"}
    browser, script = client_for(world.reception), Client(headers=token)
    browser.get("/api/me", headers=token)  # last_used_at is written now, not during the measured requests
    counts = []
    for client in (browser, script):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/patients", {"nhs_number": world.alice.nhs_number}, headers=token).status_code == 200
        counts.append(len(queries))
    assert counts == [3, 3]  # the token, the patient within access, the audit row: no session, no user
