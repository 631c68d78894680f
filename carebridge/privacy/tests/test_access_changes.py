"""Changes that could hand one person another's access: audited, put before the privacy officer, and
told to the person whose account it is."""

import pytest
from axes.models import AccessAttempt
from django.forms.models import model_to_dict
from django.urls import reverse

from carebridge.accounts.models import AccessChange, ApiToken, User
from carebridge.accounts.services import access_change_review, api_token_issue
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import NotPermitted
from carebridge.delivery.models import OutboundEmail
from carebridge.organisations.services import staff_member_update

ACCESS_CHANGES = reverse("privacy:access_changes")


@pytest.fixture
def addressed(world):
    """The GP and the receptionist with an address on their login and another on their work record."""
    for user in (world.gp, world.reception):
        user.email = f"{user.username}.home@example.org"
        user.save(update_fields=["email"])
    world.gp.clinician.email = "grace.patel@oaktree.example.nhs.uk"
    world.gp.clinician.save(update_fields=["email"])
    world.reception.staff_member.email = "reception@oaktree.example.nhs.uk"
    world.reception.staff_member.save(update_fields=["email"])
    return world


def _form_data(instance, **changes) -> dict:
    data = {name: ("" if value is None else value) for name, value in model_to_dict(instance).items()}
    data.update(changes)
    return data


def _emails_to(address: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(recipient=address, idempotency_key__startswith="access-change:"))


def _assert_told(change: AccessChange, *addresses: str, saying: str) -> None:
    assert sorted(change.told) == sorted(addresses)
    for address in addresses:
        (email,) = _emails_to(address)
        assert email.subject == "A change to your Carebridge login"
        assert saying in email.body
        assert email.patient_id is None


def test_a_password_set_by_the_administrator_is_reviewed_and_told_to_its_owner(addressed, client_for):
    world = addressed
    response = client_for(world.admin).post(
        f"/admin/accounts/user/{world.gp.pk}/password/",
        {"password1": "another-long-passphrase-7", "password2": "another-long-passphrase-7", "usable_password": "true"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type=AuditObject.USER, action=AuditAction.UPDATE, actor=world.admin)
    change = AccessChange.objects.get()
    assert change.audit_event == event and change.user == world.gp and change.operation == "user_password_set"
    assert change.changed_by == world.admin and change.reviewed_at is None
    _assert_told(
        change, "gp.home@example.org", "grace.patel@oaktree.example.nhs.uk", saying="Password set by someone else"
    )
    body = _emails_to("gp.home@example.org")[0].body
    assert "(gp)" in body and "the system administrator" in body
    # No patient is named: the GP's patients are nobody's business here.
    for patient in (world.alice, world.bob, world.carol):
        assert patient.last_name not in body and patient.nhs_number not in body


def test_linking_someone_elses_login_to_the_gps_record_is_reviewed_and_told_to_both(addressed, client_for):
    world = addressed
    admin = client_for(world.admin)
    admin.post(
        "/admin/accounts/user/add/",
        {
            "username": "impostor",
            "password1": "a-long-passphrase-99",
            "password2": "a-long-passphrase-99",
            "usable_password": "true",
            "kind": "clinician",
        },
    )
    impostor = User.objects.get(username="impostor")
    assert not AccessChange.objects.exists()  # a clinician login linked to nobody opens nothing yet
    clinician = world.gp.clinician
    data = _form_data(clinician, user=impostor.pk, start_date="2015-01-01")
    response = admin.post(f"/admin/organisations/clinician/{clinician.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(object_type=AuditObject.CLINICIAN, action=AuditAction.UPDATE)
    linked, unlinked = AccessChange.objects.order_by("pk")
    assert linked.user == impostor and linked.summary == "Login: gp → impostor" and linked.audit_event == event
    assert unlinked.user == world.gp and unlinked.summary == "Login: no longer stands for Dr. Grace Patel"
    # The GP hears of it at the address on their clinician record and at their own login's.
    assert "grace.patel@oaktree.example.nhs.uk" in linked.told
    assert "gp.home@example.org" in unlinked.told


def test_an_administrators_move_of_a_staff_member_is_reviewed_and_told(addressed, client_for):
    world = addressed
    staff = world.reception.staff_member
    data = _form_data(staff, facility=world.hospital.pk, start_date="2018-01-01")
    assert client_for(world.admin).post(f"/admin/organisations/staffmember/{staff.pk}/change/", data).status_code == 302
    change = AccessChange.objects.get()
    assert change.summary == f"Facility: {world.surgery.name} → {world.hospital.name}"
    _assert_told(change, "reception.home@example.org", "reception@oaktree.example.nhs.uk", saying=world.hospital.name)


def test_a_managers_change_of_job_is_reviewed_too(addressed):
    world = addressed
    staff_member_update(
        actor=Actor(user=world.manager, channel="web"),
        staff_member=world.reception.staff_member,
        job_title="Ward Clerk",
    )
    change = AccessChange.objects.get()
    assert change.changed_by == world.manager and change.summary == "Job title: Receptionist → Ward Clerk"
    assert "your facility's manager" in _emails_to("reception.home@example.org")[0].body


def test_a_login_reopened_and_an_email_changed_are_reviewed(addressed, client_for):
    world = addressed
    world.gp.is_active = False
    world.gp.save(update_fields=["is_active"])
    data = {
        "username": "gp",
        "first_name": "Grace",
        "last_name": "Patel",
        "email": "someone.else@example.org",
        "kind": "clinician",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client_for(world.admin).post(f"/admin/accounts/user/{world.gp.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    operations = sorted(AccessChange.objects.values_list("operation", flat=True))
    assert operations == ["user_reactivate", "user_update"]
    update = AccessChange.objects.get(operation="user_update")
    # The old address is the one the GP still reads.
    assert "gp.home@example.org" in update.told and "someone.else@example.org" in update.told


def test_an_api_token_issued_for_someone_is_reviewed_and_told(addressed):
    world = addressed
    api_token, _token = api_token_issue(actor=Actor.command_line(), user=world.gp, label="lab system")
    change = AccessChange.objects.get()
    assert change.operation == "api_token_issue" and change.audit_event.object_id == str(api_token.pk)
    assert "command line" in _emails_to("gp.home@example.org")[0].body


def test_a_change_that_hands_over_nothing_is_audited_but_not_flagged(addressed, client_for):
    world = addressed
    clinician = world.gp.clinician
    data = _form_data(clinician, phone_number="0121 000 0000", start_date="2015-01-01")
    assert (
        client_for(world.admin).post(f"/admin/organisations/clinician/{clinician.pk}/change/", data).status_code == 302
    )
    assert AuditEvent.objects.filter(object_type=AuditObject.CLINICIAN, action=AuditAction.UPDATE).exists()
    assert not AccessChange.objects.exists() and not OutboundEmail.objects.exists()


def test_a_change_for_someone_without_an_address_is_listed_as_not_told(world, client_for):
    client_for(world.admin).post(
        f"/admin/accounts/user/{world.porter.pk}/password/",
        {"password1": "another-long-passphrase-7", "password2": "another-long-passphrase-7", "usable_password": "true"},
    )
    assert AccessChange.objects.get().told == []
    page = client_for(world.privacy).get(ACCESS_CHANGES).content.decode()
    assert "Not told:" in page


def test_the_privacy_officer_reviews_the_change_and_the_review_is_audited(addressed, client_for):
    world = addressed
    client_for(world.admin).post(
        f"/admin/accounts/user/{world.gp.pk}/password/",
        {"password1": "another-long-passphrase-7", "password2": "another-long-passphrase-7", "usable_password": "true"},
    )
    change = AccessChange.objects.get()
    privacy = client_for(world.privacy)
    page = privacy.get(ACCESS_CHANGES).content.decode()
    assert "Grace Patel" in page and "Password set by someone else" in page and "gp.home@example.org" in page
    response = privacy.post(
        reverse("privacy:access_change_review", args=[change.pk]), {"note": "Expected: locked out, confirmed by phone"}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.reviewed_by == world.privacy and change.review_note == "Expected: locked out, confirmed by phone"
    review = AuditEvent.objects.get(actor=world.privacy, action=AuditAction.UPDATE, object_type=AuditObject.USER)
    assert review.detail["operation"] == "access_change_review" and review.detail["change"] == change.pk
    assert "Password set by someone else" not in privacy.get(ACCESS_CHANGES).content.decode()
    assert "Password set by someone else" in privacy.get(ACCESS_CHANGES, {"show": "all"}).content.decode()


@pytest.mark.parametrize("name", ["admin", "gp", "manager"])
def test_only_the_privacy_officer_sees_the_list(world, client_for, name):
    user = getattr(world, name)
    assert client_for(user).get(ACCESS_CHANGES).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type=AuditObject.PRIVACY).exists()


def test_nobody_else_records_a_review(addressed):
    world = addressed
    api_token_issue(actor=Actor.command_line(), user=world.gp)
    change = AccessChange.objects.get()
    with pytest.raises(NotPermitted):
        access_change_review(actor=Actor(user=world.admin, channel="web"), change_id=change.pk, note="fine")
    change.refresh_from_db()
    assert change.reviewed_at is None
    assert AuditEvent.objects.filter(actor=world.admin, action=AuditAction.DENY, object_type=AuditObject.USER).exists()


# --- The rest of the admin site: every change audited -----------------------------------------------------


def test_revoking_a_token_in_the_admin_is_audited(world, client_for):
    api_token, _ = api_token_issue(actor=Actor.command_line(), user=world.gp)
    response = client_for(world.admin).post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [api_token.pk], "index": 0}
    )
    assert response.status_code == 302
    api_token.refresh_from_db()
    assert api_token.revoked_at is not None
    event = AuditEvent.objects.get(object_type=AuditObject.API_TOKEN, action=AuditAction.UPDATE)
    assert event.actor == world.admin and event.detail["revoked"] is True
    assert ApiToken.objects.filter(pk=api_token.pk).exists()


def test_lifting_a_sign_in_lockout_in_the_admin_is_audited(world, client_for):
    attempt = AccessAttempt.objects.create(
        username="gp", ip_address="203.0.113.7", user_agent="", failures_since_start=5, attempt_time=clock.now()
    )
    response = client_for(world.admin).post(
        "/admin/axes/accessattempt/", {"action": "lift", "_selected_action": [attempt.pk], "index": 0}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    event = AuditEvent.objects.get(object_type=AuditObject.SIGN_IN, action=AuditAction.DELETE)
    assert (
        event.actor == world.admin and event.detail["username"] == "gp" and event.detail["ip_address"] == "203.0.113.7"
    )


def test_an_admin_change_to_a_facility_is_audited_and_not_flagged(world, client_for):
    facility = world.other_surgery
    data = _form_data(facility, phone_number="0121 111 1111", specialities_offered="[]")
    response = client_for(world.admin).post(f"/admin/organisations/facility/{facility.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(object_type=AuditObject.FACILITY, action=AuditAction.UPDATE)
    assert event.actor == world.admin and event.detail["after"] == {"phone_number": "0121 111 1111"}
    assert not AccessChange.objects.exists()


def test_the_admin_offers_no_unaudited_changes(world, client_for):
    admin = client_for(world.admin)
    index = admin.get(reverse("admin:index")).content.decode()
    assert "/admin/auth/group/" not in index  # groups give no power in Carebridge
    assert "/admin/axes/accesslog/" not in index and "/admin/axes/accessattempt/" in index
    attempt = AccessAttempt.objects.create(
        username="gp", ip_address="203.0.113.7", user_agent="", failures_since_start=5, attempt_time=clock.now()
    )
    assert admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_only_the_system_administrator_lifts_a_lockout(world):
    from carebridge.accounts.services import sign_in_lockout_clear

    attempt = AccessAttempt.objects.create(
        username="gp", ip_address="203.0.113.7", user_agent="", failures_since_start=5, attempt_time=clock.now()
    )
    with pytest.raises(NotPermitted):
        sign_in_lockout_clear(actor=Actor(user=world.manager, channel="web"), attempts=[attempt])
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert AuditEvent.objects.filter(
        actor=world.manager, action=AuditAction.DENY, object_type=AuditObject.SIGN_IN
    ).exists()
