"""Signing in: every role lands on its own home page; wrong passwords are audited and lock out."""

import base64
import hashlib
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.testing.world import PASSWORD

LOGIN = reverse("accounts:login")

HOME_HEADINGS = {
    "gp": "GP at Oak Tree Surgery",
    "nurse": "Nurse at Oak Tree Surgery",
    "specialist": "Specialist at Heartlands Hospital",
    "reception": "Reception and appointments at Oak Tree Surgery",
    "hospital_reception": "Reception and appointments at Heartlands Hospital",
    "manager": "Facility manager at Oak Tree Surgery",
    "admin": "System administration",
    "privacy": "Privacy office",
    "porter": "Signed in",
}


@pytest.mark.parametrize("name, heading", HOME_HEADINGS.items())
def test_each_role_signs_in_and_lands_on_its_home_page(world, name, heading):
    user = getattr(world, name)
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, follow=True)
    assert f"<h1>{heading}</h1>" in response.content.decode()
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.SIGN_IN).exists()


def test_a_patient_lands_on_their_own_record(world):
    response = Client().post(LOGIN, {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("records:my_record")
    assert "Your record" in response.content.decode()


def test_a_wrong_password_is_refused_plainly_and_audited(world):
    response = Client().post(LOGIN, {"username": "gp", "password": "not-the-password"})
    assert "The username or password is not right." in response.content.decode()
    failure = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failure.detail == {"username": "gp"}


def test_repeated_failures_lock_the_account_even_with_the_right_password(world):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "gp", "password": "not-the-password"})
    response = client.post(LOGIN, {"username": "gp", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.SIGN_IN).exists()


def test_sign_out_needs_a_post_and_is_audited(world, client_for):
    client = client_for(world.gp)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert AuditEvent.objects.filter(actor=world.gp, action=AuditAction.SIGN_OUT).exists()
    assert client.get(reverse("accounts:home")).status_code == 302


def test_passwords_are_hashed_with_argon2_in_the_application_settings():
    # The test run swaps in a fast hasher; the application's own settings module is what ships.
    from carebridge.config import settings as shipped

    assert shipped.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_pages_carry_a_content_security_policy_and_safe_headers(db):
    response = Client().get(LOGIN)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_one_inline_script_a_page_runs_is_the_one_the_policy_allows_by_its_hash(db):
    # The hash is of the script's text as the page carries it, so an edit to the template or to the
    # script that leaves the policy behind fails here, not silently in people's browsers.
    response = Client().get(LOGIN)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.content.decode(), re.DOTALL)
    assert len(inline) == 1 and "nhsuk-frontend-supported" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_sources = re.search(r"script-src ([^;]*)", response["Content-Security-Policy"]).group(1).split()
    assert sorted(script_sources) == sorted(["'self'", f"'sha256-{digest}'"])


def test_sign_in_refuses_a_post_without_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "gp", "password": PASSWORD})
    assert response.status_code == 403


def test_an_email_username_signs_in_whatever_its_case(world):
    world.alice_user.username = "alice.archer@example.org"
    world.alice_user.save()
    response = Client().post(LOGIN, {"username": "  Alice.Archer@Example.org ", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("records:my_record")


def test_changing_the_case_of_the_username_does_not_dodge_the_lockout(world):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "gp" if attempt % 2 else "GP", "password": "not-the-password"})
    assert client.post(LOGIN, {"username": "Gp", "password": PASSWORD}).status_code == 429
