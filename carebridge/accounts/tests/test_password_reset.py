"""A patient who has forgotten their password resets it with an emailed link that works once and expires."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from carebridge.accounts.password_reset import address_fingerprint
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.delivery.models import OutboundEmail
from carebridge.delivery.tests.mail_testing import body_of, mail_server, run_queued_mail  # noqa: F401 (fixture)
from carebridge.testing.days import BASE_MOMENT

REQUEST_URL = reverse("accounts:password_reset")
SENT_URL = reverse("accounts:password_reset_sent")
ADDRESS = "alice.archer@example.org"
NEW_PASSWORD = "harbour-lantern-plum-42"
LINK = re.compile(r"^(http://\S+/accounts/password-reset/\S+/)$", re.MULTILINE)


@pytest.fixture
def alice_login(world):
    world.alice_user.email = ADDRESS
    world.alice_user.save(update_fields=["email"])
    return world.alice_user


def _reset_emails():
    return OutboundEmail.objects.filter(idempotency_key__startswith="password-reset:")


def _ask(address: str = ADDRESS):
    return Client().post(REQUEST_URL, {"email": address})


def _link_path(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return urlsplit(found.group(1)).path


def _set_password(path: str, password: str = NEW_PASSWORD):
    """Open the link and submit a new password, as the patient's browser does (one client throughout)."""
    browser = Client()
    opened = browser.get(path)
    if opened.status_code != 302:  # the link did not work: the page says why
        return opened
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_the_sign_in_page_links_to_the_reset(db):
    page = Client().get(reverse("accounts:login")).content.decode()
    assert f'href="{REQUEST_URL}"' in page and "Forgotten your password?" in page


def test_a_request_queues_one_email_with_a_link_through_the_outbox(alice_login, mail_server):  # noqa: F811
    response = _ask("  Alice.Archer@EXAMPLE.org ")
    assert response.status_code == 302 and response["Location"] == SENT_URL
    email = _reset_emails().get()
    assert email.recipient == ADDRESS and email.patient_id is not None
    assert "alice" in email.body  # the username, which the patient may have forgotten too
    run_queued_mail()
    [message] = mail_server.messages
    assert message["To"] == ADDRESS
    assert _link_path(body_of(message)).startswith("/accounts/password-reset/")


def test_the_link_sets_a_new_password_once(alice_login):
    _ask()
    path = _link_path(_reset_emails().get().body)
    response = _set_password(path)
    assert response.status_code == 302 and response["Location"] == reverse("records:my_record")
    alice_login.refresh_from_db()
    assert alice_login.check_password(NEW_PASSWORD)
    again = _set_password(path, "another-password-entirely-7")
    assert again.status_code == 200 and "This link has already been used" in again.content.decode()
    alice_login.refresh_from_db()
    assert alice_login.check_password(NEW_PASSWORD)


def test_the_new_password_goes_through_the_validators(alice_login):
    _ask()
    response = _set_password(_link_path(_reset_emails().get().body), password="password")
    assert response.status_code == 200
    assert "This password is too common" in response.content.decode()
    alice_login.refresh_from_db()
    assert not alice_login.check_password("password")


def test_an_expired_link_fails(alice_login, settings):
    _ask()
    path = _link_path(_reset_emails().get().body)
    clock.freeze(BASE_MOMENT + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
    response = _set_password(path)
    assert response.status_code == 200 and "This link has expired" in response.content.decode()
    alice_login.refresh_from_db()
    assert not alice_login.check_password(NEW_PASSWORD)


def test_a_link_still_works_just_before_it_expires(alice_login, settings):
    _ask()
    path = _link_path(_reset_emails().get().body)
    clock.freeze(BASE_MOMENT + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60))
    assert _set_password(path).status_code == 302


def test_an_unknown_address_gets_the_same_page_and_no_email(alice_login):
    response = _ask("nobody@example.org")
    assert response.status_code == 302 and response["Location"] == SENT_URL
    assert not _reset_emails().exists()
    event = AuditEvent.objects.get(object_type="user", reason="Password reset requested")
    assert event.actor is None
    assert event.detail == {
        "password_reset": "no patient login has this address",
        "address": address_fingerprint("nobody@example.org"),
    }
    assert "nobody" not in str(event.detail)


def test_staff_are_not_reset_by_email(world):
    world.reception.email = "rita@nhs.example"
    world.reception.save(update_fields=["email"])
    assert _ask("rita@nhs.example")["Location"] == SENT_URL
    assert not _reset_emails().exists()


def test_a_second_request_within_minutes_sends_no_second_email(alice_login):
    _ask()
    clock.freeze(BASE_MOMENT + dt.timedelta(minutes=3))
    _ask()
    assert _reset_emails().count() == 1
    outcomes = list(
        AuditEvent.objects.filter(object_id=str(alice_login.pk), reason="Password reset requested")
        .order_by("at")
        .values_list("detail__password_reset", flat=True)
    )
    assert outcomes == ["sent", "not sent: one was sent less than 5 minutes ago"]
    clock.freeze(BASE_MOMENT + dt.timedelta(minutes=6))
    _ask()
    assert _reset_emails().count() == 2


def test_no_more_than_six_emails_a_day(alice_login):
    for attempt in range(8):
        clock.freeze(BASE_MOMENT + dt.timedelta(minutes=10 * attempt))
        _ask()
    assert _reset_emails().count() == 6


def test_the_request_and_the_change_are_audited(alice_login):
    _ask()
    requested = AuditEvent.objects.get(object_id=str(alice_login.pk), reason="Password reset requested")
    assert requested.action == AuditAction.SEARCH and requested.detail == {"password_reset": "sent"}
    assert requested.patient_id == alice_login.patient.pk
    _set_password(_link_path(_reset_emails().get().body))
    changed = AuditEvent.objects.get(object_id=str(alice_login.pk), action=AuditAction.UPDATE)
    assert changed.actor == alice_login and changed.reason == "Password reset by email"
    assert changed.detail == {"password": "set with a password reset link"}


def test_a_closed_login_is_sent_nothing(alice_login):
    alice_login.is_active = False
    alice_login.save(update_fields=["is_active"])
    _ask()
    assert not _reset_emails().exists()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_in_a_browser_a_patient_resets_their_password_from_the_sign_in_page(
    alice_login,
    mail_server,  # noqa: F811
    page,
    width,
):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(reverse("accounts:login"))
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Enter your email address")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    run_queued_mail()
    page.goto(_link_path(body_of(mail_server.messages[0])))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page.get_by_test_id("username")).to_have_text("alice")
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password and sign in").click()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    page.goto(_link_path(body_of(mail_server.messages[0])))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
