"""pytest fixtures shared by every app, loaded as a plugin (`-p` in pyproject.toml).

Loaded before Django is set up, so models are imported inside the fixtures, not at the top.
"""

import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests create many users. Production hashing is asserted separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def base_clock():
    """Every test starts with the clock stopped at the suite's base moment (carebridge/testing/days.py).

    Autouse, so it runs before `world` and any other fixture that builds data: nothing a test sees
    depends on the day the suite runs. A test that moves the clock is undone by the next test's start.
    """
    from carebridge.core import clock
    from carebridge.testing.days import BASE_MOMENT

    clock.freeze(BASE_MOMENT)
    yield
    clock.freeze(None)


@pytest.fixture
def world(db):
    from carebridge.testing.world import build_world

    return build_world()


@pytest.fixture
def client_for(client):
    """client_for(user): a test client signed in as that user."""

    from django.test import Client

    def sign_in(user) -> Client:
        signed_in = Client()
        signed_in.force_login(user)
        return signed_in

    return sign_in


@pytest.fixture
def schedule(world, settings):
    """The world, with the GP working 09:00-12:00 weekdays in 15-minute slots; clock on a Monday, 07:00.

    The Monday is the base day's, or the first one after it (carebridge/testing/schedule.py).
    """
    from carebridge.testing.schedule import build_schedule

    return build_schedule(world, settings)
