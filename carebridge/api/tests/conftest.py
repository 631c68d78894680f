"""Fixtures for the API tests: bearer tokens issued through the real service, and clients that send them.

`world` and `schedule` (the GP's weekday sessions, clock frozen on Monday 2026-11-30 07:00) are the
shared fixtures of carebridge.testing.
"""

import pytest
from django.test import Client

from carebridge.accounts.services import api_token_issue
from carebridge.core.actor import Actor


@pytest.fixture
def token_for(db):
    """token_for(user): a new bearer token acting as that user."""

    def issue(user) -> str:
        _, token = api_token_issue(actor=Actor.command_line(), user=user, label="test")
        return token

    return issue


@pytest.fixture
def api_client_for(token_for):
    """api_client_for(user): a test client that sends `Authorization: Bearer <token>` on every request."""

    def make(user) -> Client:
        return Client(headers={"Authorization": f"Bearer {token_for(user)}"})

    return make
