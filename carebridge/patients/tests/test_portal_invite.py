"""Reception invites a patient to the portal: an email with a one-time link to set a password."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from carebridge.accounts.models import AccountKind, User
from carebridge.accounts.services import user_create
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound
from carebridge.delivery.models import OutboundEmail
from carebridge.delivery.tests.mail_testing import body_of, mail_server, run_queued_mail  # noqa: F401 (fixture)
from carebridge.patients.models import Patient
from carebridge.patients.services import patient_portal_invite, patient_register
from carebridge.testing.days import BASE_MOMENT, long_day
from carebridge.testing.world import VALID_NHS_NUMBERS

# Mid-morning on the suite's base day, when Carol registers and is invited.
INVITED_AT = BASE_MOMENT + dt.timedelta(hours=3)
NEW_PASSWORD = "plum-orchard-lantern-42"
LINK = re.compile(r"^(http://\S+/accounts/invitation/\S+/)$", re.MULTILINE)


@pytest.fixture
def carol(world) -> Patient:
    """Newly registered at the world's surgery, with an email address and no login yet."""
    clock.freeze(INVITED_AT)
    return register("Carol", "Cole", VALID_NHS_NUMBERS[2], "Carol.Cole@example.com", world)


def register(first: str, last: str, number: str, email: str, world) -> Patient:
    return patient_register(
        actor=Actor.command_line(world.reception),
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1990, 1, 2),
        nhs_number_text=number,
        gender="female",
        email=email,
    )


def invite(world, patient: Patient, by: str = "reception") -> User:
    return patient_portal_invite(actor=Actor(user=getattr(world, by), channel="web"), patient=patient)


def link_in(message) -> str:
    """The path of the invitation link in a delivered message."""
    found = LINK.search(body_of(message))
    assert found, body_of(message)
    return urlsplit(found.group(1)).path


def set_password(client: Client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    form_page = client.get(path)
    assert form_page.status_code == 302  # the token moves to the session, out of the address bar
    return client.post(form_page["Location"], {"new_password1": password, "new_password2": again or password})


def test_the_invitation_arrives_and_its_link_sets_the_password_and_signs_the_patient_in(world, carol, mail_server):
    user = invite(world, carol)
    assert user.kind == AccountKind.PATIENT and not user.has_usable_password()
    assert user.username == "carol.cole@example.com"
    carol.refresh_from_db()
    assert carol.user == user
    assert run_queued_mail() == ["sent"]

    [message] = mail_server.messages
    assert message["To"] == "Carol.Cole@example.com"
    assert message["Subject"] == "Oak Tree Surgery invites you to Carebridge"
    body = body_of(message)
    assert "Dear Carol Cole," in body
    assert "    carol.cole@example.com\n" in body
    # 72 hours after the invitation, written in London time.
    expires = (INVITED_AT + dt.timedelta(hours=72)).astimezone(clock.LONDON)
    assert f"The link works once, until {expires:%H:%M} on {long_day(expires)}." in body
    path = link_in(message)

    client = Client()
    redirect = client.get(path)
    assert redirect.status_code == 302 and "/set-password/" in redirect["Location"]
    page = client.get(redirect["Location"]).content.decode()
    assert "Set your password" in page and "carol.cole@example.com" in page
    response = client.post(redirect["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("records:my_record")
    assert "Your record" in client.get(response["Location"]).content.decode()

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_type="portal_invitation", actor=world.reception, patient_id=carol.pk
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="user", patient_id=carol.pk).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="user", actor=user, patient_id=carol.pk
    ).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN, actor=user).exists()
    # From now on the patient signs in like anyone else.
    signed_in = Client().post(reverse("accounts:login"), {"username": user.username, "password": NEW_PASSWORD})
    assert signed_in["Location"] == reverse("accounts:home")


def test_the_link_works_once(world, carol, mail_server):
    invite(world, carol)
    run_queued_mail()
    path = link_in(mail_server.messages[0])
    assert set_password(Client(), path).status_code == 302

    again = Client().get(path)
    assert again.status_code == 200
    assert "This link has already been used" in again.content.decode()
    user = User.objects.get(patient=carol)
    assert user.check_password(NEW_PASSWORD)


def test_a_second_tab_with_the_same_link_cannot_set_another_password(world, carol, mail_server):
    invite(world, carol)
    run_queued_mail()
    path = link_in(mail_server.messages[0])
    first_tab, second_tab = Client(), Client()
    first_form = first_tab.get(path)["Location"]
    second_form = second_tab.get(path)["Location"]
    first_tab.post(first_form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    late = second_tab.post(
        second_form, {"new_password1": "another-long-phrase-77", "new_password2": "another-long-phrase-77"}
    )
    assert late.status_code == 200 and "This link has already been used" in late.content.decode()
    assert User.objects.get(patient=carol).check_password(NEW_PASSWORD)


def test_setting_the_password_checks_the_link_again_under_the_lock(world, carol):
    from carebridge.accounts.invitations import (
        InvitationNoLongerValid,
        portal_invitation_accept,
        portal_invitation_tokens,
    )

    user = invite(world, carol)
    token = portal_invitation_tokens.make_token(user)
    actor = Actor(user=user, channel="web")
    portal_invitation_accept(actor=actor, user=user, token=token, password=NEW_PASSWORD)
    # A request that passed the page's check a moment before the other one saved.
    with pytest.raises(InvitationNoLongerValid):
        portal_invitation_accept(actor=actor, user=user, token=token, password="another-long-phrase-77")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_link_says_so_plainly(world, carol, mail_server):
    invite(world, carol)
    run_queued_mail()
    path = link_in(mail_server.messages[0])
    clock.freeze(INVITED_AT + dt.timedelta(hours=71, minutes=59))
    assert Client().get(path).status_code == 302  # still good

    clock.freeze(INVITED_AT + dt.timedelta(hours=72, seconds=1))
    response = Client().get(path)
    assert response.status_code == 200
    assert "This link has expired" in response.content.decode()
    assert not User.objects.get(patient=carol).has_usable_password()


def test_a_new_invitation_replaces_the_links_of_earlier_ones(world, carol, mail_server):
    first_user = invite(world, carol)
    second_user = invite(world, carol)
    assert first_user.pk == second_user.pk
    assert sorted(OutboundEmail.objects.values_list("idempotency_key", flat=True)) == [
        f"portal-invite:{carol.public_id}:1",
        f"portal-invite:{carol.public_id}:2",
    ]
    run_queued_mail()
    old, new = (link_in(message) for message in mail_server.messages)
    response = Client().get(old)
    assert response.status_code == 200 and "This link does not work" in response.content.decode()
    assert set_password(Client(), new).status_code == 302


def test_a_tampered_or_misdirected_link_shows_a_clear_page(world, carol, mail_server):
    invite(world, carol)
    run_queued_mail()
    path = link_in(mail_server.messages[0])
    uid, token = path.rstrip("/").split("/")[-2:]
    tampered = path.replace(token, token[:-1] + ("0" if token[-1] != "0" else "1"))
    gp_uid = urlsafe_base64_encode(force_bytes(world.gp.pk))
    not_a_patient = reverse("accounts:portal_invitation", kwargs={"uidb64": gp_uid, "token": token})
    nonsense = reverse("accounts:portal_invitation", kwargs={"uidb64": uid, "token": "not-a-token"})
    for bad in (tampered, not_a_patient, nonsense):
        response = Client().get(bad)
        assert response.status_code == 200, bad
        assert "This link does not work" in response.content.decode()


def test_the_password_rules_apply_and_errors_are_shown_with_the_form(world, carol, mail_server):
    invite(world, carol)
    run_queued_mail()
    client = Client()
    form_url = client.get(link_in(mail_server.messages[0]))["Location"]

    too_short = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    page = too_short.content.decode()
    assert too_short.status_code == 200 and "There is a problem" in page and "too short" in page
    mismatch = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert "didn’t match" in mismatch.content.decode()
    assert not User.objects.get(patient=carol).has_usable_password()
    # Still usable after the mistakes.
    assert client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302


@pytest.mark.parametrize("by", ["reception", "manager"])
def test_reception_and_managers_at_the_patients_surgery_may_invite(world, carol, by):
    user = invite(world, carol, by=by)
    assert OutboundEmail.objects.get().patient_id == carol.pk
    assert AuditEvent.objects.get(object_type="portal_invitation").actor == getattr(world, by)
    assert user.patient == carol


@pytest.mark.parametrize(
    "by", ["other_reception", "hospital_reception", "gp", "nurse", "porter", "admin", "privacy", "alice_user"]
)
def test_anyone_else_is_refused_and_the_refusal_is_audited(world, carol, by):
    with pytest.raises(NotFound):
        invite(world, carol, by=by)
    denial = AuditEvent.objects.get(action=AuditAction.DENY)
    assert denial.actor == getattr(world, by)
    assert denial.object_type == "portal_invitation" and denial.patient_id == carol.pk
    assert not OutboundEmail.objects.exists()
    carol.refresh_from_db()
    assert carol.user is None
    assert not AuditEvent.objects.filter(object_type="portal_invitation", action=AuditAction.CREATE).exists()


def test_a_patient_without_an_email_address_cannot_be_invited(world):
    clock.freeze(INVITED_AT)
    dan = register("Dan", "Dale", VALID_NHS_NUMBERS[3], "", world)
    with pytest.raises(Invalid, match="no email address"):
        invite(world, dan)
    dan.refresh_from_db()
    assert dan.user is None and not OutboundEmail.objects.exists()


def test_a_patient_already_using_the_portal_is_not_invited_again(world):
    Patient.objects.filter(pk=world.alice.pk).update(email="alice@example.com")
    with pytest.raises(Invalid, match="already uses the portal"):
        invite(world, world.alice)
    assert not OutboundEmail.objects.exists()
    assert world.alice_user.check_password("correct-horse-battery")


def test_a_login_made_earlier_but_never_used_is_the_one_invited(world, carol):
    made = user_create(
        actor=Actor.command_line(world.admin),
        username="carol-cole",
        kind=AccountKind.PATIENT,
        password=None,
        email="Carol.Cole@example.com",
        linked_record=carol,
    )
    carol.refresh_from_db()
    assert invite(world, carol).pk == made.pk
    assert User.objects.filter(kind=AccountKind.PATIENT, patient=carol).count() == 1


def test_a_closed_login_is_not_reopened_by_an_invitation(world, carol):
    made = user_create(
        actor=Actor.command_line(world.admin),
        username="carol-cole",
        kind=AccountKind.PATIENT,
        password=None,
        linked_record=carol,
    )
    User.objects.filter(pk=made.pk).update(is_active=False)
    carol.refresh_from_db()
    with pytest.raises(Invalid, match="has been closed"):
        invite(world, carol)


def test_family_members_sharing_an_address_get_usernames_of_their_own(world, carol):
    cara = register("Cara", "Cole", VALID_NHS_NUMBERS[3], "carol.cole@example.com", world)
    assert invite(world, carol).username == "carol.cole@example.com"
    assert invite(world, cara).username == "carol.cole@example.com-2"


@pytest.mark.browser
def test_in_a_browser_the_patient_follows_the_link_sets_a_password_and_sees_their_record(
    world, carol, mail_server, page
):
    from playwright.sync_api import expect

    invite(world, carol)
    run_queued_mail()
    page.goto(link_in(mail_server.messages[0]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    expect(page.get_by_test_id("username")).to_have_text("carol.cole@example.com")
    page.get_by_label("Create a password").fill("short")
    page.get_by_label("Type the password again").fill("short")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("too short")

    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_test_id("patient-name")).to_have_text("Carol COLE")

    page.goto(link_in(mail_server.messages[0]))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
