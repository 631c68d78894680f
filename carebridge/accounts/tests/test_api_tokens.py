"""API tokens: issued once on the command line, stored only as a hash, checked in one query, revocable."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carebridge.accounts.models import ApiToken
from carebridge.accounts.services import api_token_issue, api_token_revoke
from carebridge.api.auth import user_for_token
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.testing.days import BASE_DAY


def _command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_prints_a_token_that_works_and_stores_only_its_hash(world, client):
    token, message = _command("reception", "--label", "front desk tablet")
    assert token.startswith("cb_") and len(token) > 40
    assert "will not be shown again" in message
    stored = ApiToken.objects.get()
    assert stored.user == world.reception and stored.label == "front desk tablet"
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in vars(stored).values())
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["username"] == "reception"
    event = AuditEvent.objects.get(object_type="api_token", action=AuditAction.CREATE)
    assert event.detail == {"user": "reception", "label": "front desk tablet"} and event.channel == "cli"


def test_every_issue_is_a_new_token(world):
    first, _ = _command("alice")
    second, _ = _command("alice")
    assert first != second
    assert ApiToken.objects.filter(user=world.alice_user).count() == 2


def test_the_command_refuses_an_unknown_or_inactive_user(world):
    world.porter.is_active = False
    world.porter.save()
    for username in ("nobody", "porter"):
        with pytest.raises(SystemExit) as exit_status:
            _command(username)
        assert exit_status.value.code == 2
    assert not ApiToken.objects.exists()


def test_the_hyphenated_command_name_is_accepted():
    from carebridge.manage import _command_names

    assert _command_names(["carebridge", "api-token", "alice"])[1] == "api_token"


def test_a_token_authenticates_in_one_query_with_the_role_loaded(world):
    from carebridge.core.roles import Role, role_of

    _, token = api_token_issue(actor=Actor.command_line(), user=world.gp, label="")
    ApiToken.objects.update(last_used_at=clock.now())
    with CaptureQueriesContext(connection) as queries:
        user = user_for_token(token)
        # What the access layer and the scheduling rules read about the user costs nothing more.
        assert role_of(user) == Role.GP
        assert user.clinician.workplace == world.surgery
    assert len(queries) == 1
    assert "token_hash" in queries[0]["sql"]


def test_last_used_is_written_at_most_once_a_minute(world):
    clock.freeze(clock.london_datetime(BASE_DAY, dt.time(9, 0)))
    api_token, token = api_token_issue(actor=Actor.command_line(), user=world.gp, label="")
    assert user_for_token(token) == world.gp
    api_token.refresh_from_db()
    first_use = api_token.last_used_at
    assert first_use == clock.now()
    clock.freeze(first_use + dt.timedelta(seconds=30))
    with CaptureQueriesContext(connection) as queries:
        user_for_token(token)
    assert len(queries) == 1  # the lookup only
    api_token.refresh_from_db()
    assert api_token.last_used_at == first_use
    clock.freeze(first_use + dt.timedelta(minutes=2))
    user_for_token(token)
    api_token.refresh_from_db()
    assert api_token.last_used_at == first_use + dt.timedelta(minutes=2)


def test_revoked_unknown_and_inactive_tokens_do_not_authenticate(world):
    revoked, revoked_token = api_token_issue(actor=Actor.command_line(), user=world.gp, label="")
    _, inactive_token = api_token_issue(actor=Actor.command_line(), user=world.nurse, label="")
    api_token_revoke(actor=Actor.command_line(world.admin), api_token=revoked)
    world.nurse.is_active = False
    world.nurse.save()
    assert user_for_token(revoked_token) is None
    assert user_for_token(inactive_token) is None
    assert user_for_token("cb_not-a-token") is None
    assert user_for_token("") is None
    assert AuditEvent.objects.filter(
        object_type="api_token", action=AuditAction.UPDATE, object_id=str(revoked.pk)
    ).exists()


def test_the_admin_lists_tokens_read_only_and_revokes_them(world, client_for):
    api_token, token = api_token_issue(actor=Actor.command_line(), user=world.gp, label="practice laptop")
    admin = client_for(world.admin)
    listing = admin.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200 and b"practice laptop" in listing.content
    assert token.encode() not in listing.content and api_token.token_hash.encode() not in listing.content
    assert admin.get("/admin/accounts/apitoken/add/").status_code == 403
    response = admin.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [api_token.pk]})
    assert response.status_code == 302
    api_token.refresh_from_db()
    assert api_token.revoked_at is not None
    assert user_for_token(token) is None
