"""The manager's staff pages: their own facility's people only; everyone else gets 404, audited."""

import datetime as dt
import re

import pytest

from carebridge.accounts.models import User
from carebridge.accounts.services import api_token_issue
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core.actor import Actor
from carebridge.delivery.models import OutboundEmail
from carebridge.organisations.models import AccessLevel, StaffMember
from carebridge.testing.world import PASSWORD


def _starter(world) -> StaffMember:
    return StaffMember.objects.create(
        source_id="ST-new",
        first_name="Nora",
        last_name="Newman",
        job_title="Receptionist",
        facility=world.surgery,
        employment_status="part_time",
        start_date=dt.date(2026, 1, 5),
        access_level=AccessLevel.BASIC,
        email="nora.newman@oaktree.nhs.uk",
    )


def test_the_manager_reaches_the_staff_list_from_home_and_sees_each_persons_login(world, client_for):
    starter = _starter(world)
    User.objects.filter(pk=world.reception.pk).update(is_active=False)
    manager = client_for(world.manager)
    assert 'href="/staff/"' in manager.get("/").content.decode()
    page = manager.get("/staff/").content.decode()
    rows = {
        person.user.username if person.user else "none": page.split(f'data-testid="staff-{person.public_id}"')[1].split(
            "</tr>"
        )[0]
        for person in StaffMember.objects.filter(facility=world.surgery)
    }
    assert set(rows) == {"reception", "manager", "none"}
    assert "Deactivated" in rows["reception"] and "Reactivate login" in rows["reception"]
    assert "No login" in rows["none"] and f"/staff/{starter.public_id}/login/" in rows["none"]
    assert "(you)" in rows["manager"] and "Change job" not in rows["manager"]
    # Nobody from another facility is listed.
    assert "Hal Reed" not in page and "Pete Lowe" not in page


def test_the_manager_changes_a_job_and_it_applies_on_the_receptionists_next_page(world, client_for):
    reception = client_for(world.reception)
    assert reception.get("/appointments/day/").status_code == 200
    response = client_for(world.manager).post(
        f"/staff/{world.reception.staff_member.public_id}/job/",
        {"job_title": "Porter", "access_level": "basic", "employment_status": "full_time"},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/"
    world.reception.staff_member.refresh_from_db()
    assert world.reception.staff_member.job_title == "Porter"
    assert AuditEvent.objects.filter(object_type=AuditObject.STAFF_MEMBER, action=AuditAction.UPDATE).count() == 1
    # The same session, next request: a porter has no day list.
    assert reception.get("/appointments/day/").status_code == 404


def test_a_bad_job_form_shows_its_errors(world, client_for):
    response = client_for(world.manager).post(
        f"/staff/{world.reception.staff_member.public_id}/job/",
        {"job_title": "Chief of Everything", "access_level": "", "employment_status": "x"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a job from the list." in page and "Choose their access level." in page
    assert "nhsuk-error-summary" in page
    assert not AuditEvent.objects.filter(object_type=AuditObject.STAFF_MEMBER, action=AuditAction.UPDATE).exists()


def test_the_manager_creates_a_login_and_the_starter_sets_a_password_with_the_link(world, client_for, client):
    starter = _starter(world)
    manager = client_for(world.manager)
    form = manager.get(f"/staff/{starter.public_id}/login/").content.decode()
    assert 'value="nora.newman"' in form
    response = manager.post(
        f"/staff/{starter.public_id}/login/", {"username": "nora.newman", "email": "nora.newman@oaktree.nhs.uk"}
    )
    assert response.status_code == 302
    link = re.search(r"http://\S+/accounts/set-password/\S+", OutboundEmail.objects.get().body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    landing = client.get(f"/{path}", follow=True)
    assert b"Set your password" in landing.content
    done = client.post(
        landing.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase-42", "new_password2": "a-long-new-passphrase-42"},
    )
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200
    assert User.objects.get(username="nora.newman").check_password("a-long-new-passphrase-42")


def test_a_taken_username_or_a_bad_address_is_shown_on_the_form_not_a_500(world, client_for):
    starter = _starter(world)
    response = client_for(world.manager).post(
        f"/staff/{starter.public_id}/login/", {"username": "Reception", "email": "nowhere"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter an email address like" in page
    response = client_for(world.manager).post(
        f"/staff/{starter.public_id}/login/", {"username": "Reception", "email": "n@oaktree.nhs.uk"}
    )
    assert response.status_code == 200 and "This username is taken" in response.content.decode()
    starter.refresh_from_db()
    assert starter.user is None


def test_the_manager_deactivates_a_login_after_confirming_and_it_can_no_longer_sign_in(world, client_for, client):
    _, token = api_token_issue(actor=Actor(user=world.admin, channel="cli"), user=world.reception)
    reception = client_for(world.reception)
    manager = client_for(world.manager)
    url = f"/staff/{world.reception.staff_member.public_id}/login/deactivate/"
    assert b"Deactivate login" in manager.get(url).content
    world.reception.refresh_from_db()
    assert world.reception.is_active  # asking is not doing
    assert manager.post(url).status_code == 302
    world.reception.refresh_from_db()
    assert not world.reception.is_active
    # The open session ends, a new sign-in is refused, and the API token no longer works.
    assert reception.get("/appointments/day/").status_code == 302
    refused = client.post("/accounts/sign-in/", {"username": "reception", "password": PASSWORD})
    assert refused.status_code == 200 and client.get("/").status_code == 302
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert manager.post(f"/staff/{world.reception.staff_member.public_id}/login/reactivate/").status_code == 302
    assert client.post("/accounts/sign-in/", {"username": "reception", "password": PASSWORD}).status_code == 302
    assert AuditEvent.objects.filter(object_type=AuditObject.USER, action=AuditAction.UPDATE).count() == 2


# The pages about one person (the list has no address for another facility: it is always one's own).
PERSON_PAGES = ["/staff/{id}/job/", "/staff/{id}/login/", "/staff/{id}/login/deactivate/"]


@pytest.mark.parametrize("page", PERSON_PAGES)
def test_another_facilitys_staff_are_not_found_by_the_manager_and_it_is_audited(world, client_for, page):
    target = world.hospital_reception.staff_member
    manager = client_for(world.manager)
    url = page.format(id=target.public_id)
    assert manager.get(url).status_code == 404
    assert (
        manager.post(
            url,
            {
                "job_title": "Porter",
                "access_level": "manager",
                "employment_status": "full_time",
                "username": "x",
                "email": "x@h.nhs.uk",
            },
        ).status_code
        == 404
    )
    target.refresh_from_db()
    world.hospital_reception.refresh_from_db()
    assert target.job_title == "Appointments Coordinator" and world.hospital_reception.is_active
    denied = AuditEvent.objects.filter(action=AuditAction.DENY, actor=world.manager)
    assert denied.count() == 2 and {event.object_id for event in denied} == {str(target.public_id)}


@pytest.mark.parametrize("who", ["reception", "gp", "porter", "alice_user", "admin", "privacy"])
@pytest.mark.parametrize("page", ["/staff/", *PERSON_PAGES])
def test_nobody_but_a_manager_uses_the_staff_pages_and_each_refusal_is_audited(world, client_for, who, page):
    user = getattr(world, who)
    url = page.format(id=world.reception.staff_member.public_id)
    browser = client_for(user)
    assert browser.get(url).status_code == 404
    if page != "/staff/":
        assert (
            browser.post(
                url, {"job_title": "Practice Manager", "access_level": "manager", "employment_status": "full_time"}
            ).status_code
            == 404
        )
    world.reception.staff_member.refresh_from_db()
    world.reception.refresh_from_db()
    assert world.reception.staff_member.access_level == AccessLevel.BASIC and world.reception.is_active
    assert AuditEvent.objects.filter(
        action=AuditAction.DENY, actor=user, object_type=AuditObject.STAFF_MEMBER
    ).count() == (1 if page == "/staff/" else 2)
