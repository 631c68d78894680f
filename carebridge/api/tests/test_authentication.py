"""Bearer tokens are the only way in: no token, a bad or revoked one, or a session cookie alone get 401."""

import datetime as dt

import pytest
from django.test import Client

from carebridge.accounts.models import ApiToken
from carebridge.accounts.services import api_token_revoke
from carebridge.core.actor import Actor
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
