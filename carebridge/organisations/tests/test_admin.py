"""The admin site changes people and logins only through the services: every save is audited, nothing is deleted."""

from django.forms.models import model_to_dict

from carebridge.accounts.models import User
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.organisations.models import Clinician, StaffMember


def _form_data(instance, **changes) -> dict:
    """What the admin's change form posts: every field as it is, with `changes` made."""
    data = {name: ("" if value is None else value) for name, value in model_to_dict(instance).items()}
    data.update(changes)
    return data


def test_an_admin_change_to_a_staff_members_facility_is_saved_through_the_service_and_audited(world, client_for):
    staff = world.reception.staff_member
    data = _form_data(staff, facility=world.hospital.pk, job_title="Ward Clerk", start_date="2018-01-01")
    response = client_for(world.admin).post(f"/admin/organisations/staffmember/{staff.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    staff.refresh_from_db()
    assert staff.facility == world.hospital and staff.job_title == "Ward Clerk"
    event = AuditEvent.objects.get(object_type=AuditObject.STAFF_MEMBER, action=AuditAction.UPDATE)
    assert event.actor == world.admin
    assert event.detail["before"] == {"job_title": "Receptionist", "facility": "S1"}
    assert event.detail["after"] == {"job_title": "Ward Clerk", "facility": "H1"}


def test_an_admin_change_to_a_clinicians_workplace_is_audited(world, client_for):
    nurse = world.nurse.clinician
    data = _form_data(nurse, workplace=world.hospital.pk, is_prescriber="on", start_date="2015-01-01")
    assert client_for(world.admin).post(f"/admin/organisations/clinician/{nurse.pk}/change/", data).status_code == 302
    nurse.refresh_from_db()
    assert nurse.workplace == world.hospital and nurse.is_prescriber
    event = AuditEvent.objects.get(object_type=AuditObject.CLINICIAN, action=AuditAction.UPDATE)
    assert event.detail["after"] == {"workplace": "H1", "is_prescriber": True}


def test_an_admin_add_goes_through_the_service(world, client_for):
    data = {
        "first_name": "Nora",
        "last_name": "Newman",
        "job_title": "Receptionist",
        "facility": world.surgery.pk,
        "employment_status": "part_time",
        "start_date": "2026-01-05",
        "access_level": "basic",
    }
    response = client_for(world.admin).post("/admin/organisations/staffmember/add/", data)
    assert response.status_code == 302
    created = StaffMember.objects.get(last_name="Newman")
    event = AuditEvent.objects.get(object_type=AuditObject.STAFF_MEMBER, action=AuditAction.CREATE)
    assert event.object_id == str(created.public_id) and event.detail["after"]["facility"] == "S1"


def test_an_admin_refusal_is_a_message_and_an_audit_row_not_a_500(world, client_for):
    # The gp's login already stands for the gp: linking it to the receptionist's record is refused.
    staff = world.reception.staff_member
    data = _form_data(staff, user=world.gp.pk, start_date="2018-01-01")
    response = client_for(world.admin).post(f"/admin/organisations/staffmember/{staff.pk}/change/", data, follow=True)
    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.user == world.reception
    assert AuditEvent.objects.filter(
        object_type=AuditObject.STAFF_MEMBER, action=AuditAction.DENY, actor=world.admin
    ).exists()


def test_an_admin_deactivation_of_a_login_goes_through_the_service(world, client_for):
    user = world.porter
    data = {
        "username": "porter",
        "first_name": "Pete",
        "last_name": "Lowe",
        "email": "",
        "kind": "staff",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }  # is_active unticked
    response = client_for(world.admin).post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert not user.is_active
    event = AuditEvent.objects.get(object_type=AuditObject.USER, action=AuditAction.UPDATE)
    assert event.detail["operation"] == "user_deactivate" and event.actor == world.admin


def test_an_admin_password_change_is_audited(world, client_for):
    admin = client_for(world.admin)
    response = admin.post(
        f"/admin/accounts/user/{world.porter.pk}/password/",
        {"password1": "another-long-passphrase-7", "password2": "another-long-passphrase-7", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    world.porter.refresh_from_db()
    assert world.porter.check_password("another-long-passphrase-7")
    event = AuditEvent.objects.get(object_type=AuditObject.USER, action=AuditAction.UPDATE)
    assert event.detail["operation"] == "user_password_set" and "another" not in str(event.detail)


def test_an_admin_user_add_goes_through_user_create(world, client_for):
    response = client_for(world.admin).post(
        "/admin/accounts/user/add/",
        {
            "username": "newclinician",
            "password1": "a-long-passphrase-99",
            "password2": "a-long-passphrase-99",
            "usable_password": "true",
            "kind": "clinician",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    created = User.objects.get(username="newclinician")
    assert AuditEvent.objects.get(object_type=AuditObject.USER, action=AuditAction.CREATE).object_id == str(created.pk)


def test_nothing_is_deleted_in_the_admin(world, client_for):
    admin = client_for(world.admin)
    for url in (
        f"/admin/accounts/user/{world.porter.pk}/delete/",
        f"/admin/organisations/staffmember/{world.porter.staff_member.pk}/delete/",
        f"/admin/organisations/clinician/{world.gp.clinician.pk}/delete/",
        f"/admin/organisations/facility/{world.other_surgery.pk}/delete/",
    ):
        assert admin.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=world.porter.pk).exists() and Clinician.objects.filter(pk=world.gp.clinician.pk)
    listing = admin.get("/admin/accounts/user/").content.decode()
    assert "delete_selected" not in listing


def test_only_the_system_administrator_enters_the_admin_site(world, client_for):
    for user in (world.manager, world.reception):
        assert client_for(user).get("/admin/organisations/staffmember/").status_code == 302


def test_the_admin_pages_still_open(world, client_for):
    admin = client_for(world.admin)
    for url in (
        f"/admin/accounts/user/{world.reception.pk}/change/",
        f"/admin/accounts/user/{world.reception.pk}/password/",
        "/admin/accounts/user/add/",
        f"/admin/organisations/staffmember/{world.reception.staff_member.pk}/change/",
        f"/admin/organisations/clinician/{world.gp.clinician.pk}/change/",
        f"/admin/organisations/facility/{world.surgery.pk}/change/",
        "/admin/organisations/facility/add/",
    ):
        assert admin.get(url).status_code == 200, url
