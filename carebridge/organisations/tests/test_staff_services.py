"""Who may change the records that decide who sees what, and the audit row every change and refusal leaves.

The world's manager runs Oak Tree Surgery (`world.surgery`): its receptionist is theirs to manage; the
hospital's people are not theirs even to know about (NotFound), the surgery's clinicians are visible
but not theirs to change (NotPermitted).
"""

import datetime as dt

import pytest

from carebridge.accounts.models import AccountKind, ApiToken, User
from carebridge.accounts.services import api_token_issue, user_deactivate, user_reactivate, user_update
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.core.roles import Role, role_of
from carebridge.delivery.models import OutboundEmail
from carebridge.organisations import services
from carebridge.organisations.models import AccessLevel, ClinicianTitle, FacilityType, StaffMember


def web(user) -> Actor:
    return Actor(user=user, channel="web")


def new_starter(world, facility=None) -> StaffMember:
    """A staff member with no login yet: what a manager creates a login for."""
    return StaffMember.objects.create(
        source_id="ST-new",
        first_name="Nora",
        last_name="Newman",
        job_title="Receptionist",
        facility=facility or world.surgery,
        employment_status="part_time",
        start_date=dt.date(2026, 1, 5),
        access_level=AccessLevel.BASIC,
        email="nora.newman@oaktree.nhs.uk",
    )


def denials(actor_user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.DENY, actor=actor_user))


# --- A manager at their own facility ------------------------------------------------------------------------


def test_a_manager_changes_a_receptionists_job_and_access_level_and_it_is_audited(world):
    receptionist = world.reception.staff_member
    changed = services.staff_member_update(
        actor=web(world.manager),
        staff_member=receptionist,
        job_title="Medical Secretary",
        access_level=AccessLevel.STANDARD,
    )
    changed.refresh_from_db()
    assert (changed.job_title, changed.access_level) == ("Medical Secretary", AccessLevel.STANDARD)
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_type=AuditObject.STAFF_MEMBER)
    assert event.actor == world.manager and event.object_id == str(receptionist.public_id)
    assert event.detail["before"] == {"job_title": "Receptionist", "access_level": "basic"}
    assert event.detail["after"] == {"job_title": "Medical Secretary", "access_level": "standard"}


def test_a_change_that_changes_nothing_writes_nothing(world):
    services.staff_member_update(
        actor=web(world.manager), staff_member=world.reception.staff_member, job_title="Receptionist"
    )
    assert not AuditEvent.objects.filter(object_type=AuditObject.STAFF_MEMBER).exists()


def test_a_manager_creates_a_login_and_the_new_starter_is_emailed_a_link(world):
    starter = new_starter(world)
    user = services.staff_login_create(
        actor=web(world.manager), staff_member=starter, username="Nora.Newman", email="nora.newman@oaktree.nhs.uk"
    )
    starter.refresh_from_db()
    assert starter.user == user and user.username == "nora.newman" and user.kind == AccountKind.STAFF
    assert not user.has_usable_password() and role_of(user) == Role.FRONT_DESK
    email = OutboundEmail.objects.get(recipient="nora.newman@oaktree.nhs.uk")
    assert "/accounts/set-password/" in email.body and "nora.newman" in email.body
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type=AuditObject.USER, object_id=str(user.pk), actor=world.manager
    ).exists()
    linked = AuditEvent.objects.get(object_type=AuditObject.STAFF_MEMBER, object_id=str(starter.public_id))
    assert linked.detail["operation"] == "staff_login_create" and linked.detail["login"] == "nora.newman"


def test_a_login_is_not_created_with_a_taken_username_or_a_bad_address(world):
    starter = new_starter(world)
    with pytest.raises(Invalid) as taken:
        services.staff_login_create(
            actor=web(world.manager), staff_member=starter, username="RECEPTION", email="not-an-address"
        )
    assert set(taken.value.fields) == {"username", "email"}
    starter.refresh_from_db()
    assert starter.user is None and not OutboundEmail.objects.exists()


def test_a_second_login_for_the_same_person_is_refused(world):
    with pytest.raises(Invalid):
        services.staff_login_create(
            actor=web(world.manager),
            staff_member=world.reception.staff_member,
            username="rita2",
            email="rita@oaktree.nhs.uk",
        )
    assert not User.objects.filter(username="rita2").exists()


def test_a_manager_deactivates_and_reactivates_a_staff_login(world):
    _, token = api_token_issue(actor=web(world.admin), user=world.reception)
    user_deactivate(actor=web(world.manager), user=world.reception)
    world.reception.refresh_from_db()
    assert not world.reception.is_active and role_of(world.reception) == Role.NONE
    assert ApiToken.objects.get(user=world.reception).is_revoked
    user_reactivate(actor=web(world.manager), user=world.reception)
    world.reception.refresh_from_db()
    assert world.reception.is_active
    # Reopening a login does not bring its old tokens back.
    assert ApiToken.objects.get(user=world.reception).is_revoked
    changes = [
        (event.detail["before"], event.detail["after"])
        for event in AuditEvent.objects.filter(object_type=AuditObject.USER, action=AuditAction.UPDATE).order_by("id")
    ]
    assert changes == [({"is_active": True}, {"is_active": False}), ({"is_active": False}, {"is_active": True})]


def test_a_manager_sends_a_new_set_password_link_which_ends_the_old_password(world):
    with pytest.raises(Invalid):
        # The world's logins have no email address to send a link to.
        services.staff_login_invite(actor=web(world.manager), staff_member=world.reception.staff_member)
    User.objects.filter(pk=world.reception.pk).update(email="rita@oaktree.nhs.uk")
    services.staff_login_invite(actor=web(world.manager), staff_member=world.reception.staff_member)
    world.reception.refresh_from_db()
    assert not world.reception.has_usable_password()
    assert "/accounts/set-password/" in OutboundEmail.objects.get(recipient="rita@oaktree.nhs.uk").body
    assert (
        AuditEvent.objects.get(object_type=AuditObject.STAFF_MEMBER, action=AuditAction.UPDATE).detail["operation"]
        == "staff_login_invite"
    )


# --- What a manager may never do ---------------------------------------------------------------------------


def test_a_manager_may_not_change_their_own_job_or_access_level(world):
    with pytest.raises(NotPermitted):
        services.staff_member_update(
            actor=web(world.manager), staff_member=world.manager.staff_member, access_level=AccessLevel.BASIC
        )
    world.manager.staff_member.refresh_from_db()
    assert world.manager.staff_member.access_level == AccessLevel.MANAGER
    assert denials(world.manager)[0].detail["operation"] == "staff_member_update"


def test_a_manager_may_not_close_their_own_login(world):
    with pytest.raises(Invalid, match="cannot deactivate your own login"):
        user_deactivate(actor=web(world.manager), user=world.manager)
    world.manager.refresh_from_db()
    # A broken rule, not an access denial: refused with its reason, but no DENY row.
    assert world.manager.is_active and denials(world.manager) == []


def test_a_manager_may_not_move_a_staff_member_to_another_facility(world):
    with pytest.raises(NotPermitted):
        services.staff_member_update(
            actor=web(world.manager), staff_member=world.reception.staff_member, facility=world.other_surgery
        )
    world.reception.staff_member.refresh_from_db()
    assert world.reception.staff_member.facility == world.surgery and len(denials(world.manager)) == 1


def test_a_manager_may_not_change_a_clinician_at_their_own_facility(world):
    nurse = world.nurse.clinician
    with pytest.raises(NotPermitted):
        services.clinician_update(actor=web(world.manager), clinician=nurse, is_prescriber=True)
    with pytest.raises(NotPermitted):
        services.clinician_update(actor=web(world.manager), clinician=nurse, registration_number="N999999")
    with pytest.raises(NotPermitted):
        user_deactivate(actor=web(world.manager), user=world.gp)
    nurse.refresh_from_db()
    assert not nurse.is_prescriber and nurse.registration_number == "N123456"
    world.gp.refresh_from_db()
    assert world.gp.is_active and len(denials(world.manager)) == 3


def test_a_manager_may_change_their_facilitys_details_but_not_its_type(world):
    services.facility_update(actor=web(world.manager), facility=world.surgery, phone_number="0121 496 0000")
    with pytest.raises(NotPermitted):
        services.facility_update(actor=web(world.manager), facility=world.surgery, facility_type=FacilityType.HOSPITAL)
    world.surgery.refresh_from_db()
    assert world.surgery.phone_number == "0121 496 0000" and world.surgery.is_gp_surgery
    assert AuditEvent.objects.filter(object_type=AuditObject.FACILITY, action=AuditAction.UPDATE).count() == 1
    assert AuditEvent.objects.filter(object_type=AuditObject.FACILITY, action=AuditAction.DENY).count() == 1


# The hospital's receptionist, as each service would be asked about them by the surgery's manager.
ANOTHER_FACILITYS_PERSON = {
    "job": lambda world, actor: services.staff_member_update(
        actor=actor, staff_member=world.hospital_reception.staff_member, access_level=AccessLevel.MANAGER
    ),
    "login": lambda world, actor: services.staff_login_create(
        actor=actor, staff_member=new_starter(world, world.hospital), username="newbie", email="n@h.nhs.uk"
    ),
    "deactivate": lambda world, actor: user_deactivate(actor=actor, user=world.hospital_reception),
    "reactivate": lambda world, actor: user_reactivate(actor=actor, user=world.hospital_reception),
    "invite": lambda world, actor: services.staff_login_invite(
        actor=actor, staff_member=world.hospital_reception.staff_member
    ),
    "facility": lambda world, actor: services.facility_update(actor=actor, facility=world.hospital, name="Mine"),
}


@pytest.mark.parametrize("change", sorted(ANOTHER_FACILITYS_PERSON))
def test_another_facilitys_people_are_not_found_by_a_manager_and_the_refusal_is_audited(world, change):
    with pytest.raises(NotFound):
        ANOTHER_FACILITYS_PERSON[change](world, web(world.manager))
    world.hospital_reception.refresh_from_db()
    world.hospital_reception.staff_member.refresh_from_db()
    assert world.hospital_reception.is_active
    assert world.hospital_reception.staff_member.access_level == AccessLevel.STANDARD
    assert not User.objects.filter(username="newbie").exists()
    assert len(denials(world.manager)) == 1


# Who else asks, and what they are told: colleagues at the surgery may not; anyone else learns nothing.
OTHERS = [
    ("reception", NotPermitted),
    ("gp", NotPermitted),
    ("nurse", NotPermitted),
    ("porter", NotFound),
    ("alice_user", NotFound),
    ("other_reception", NotFound),
    ("privacy", NotFound),
]


@pytest.mark.parametrize(("who", "refusal"), OTHERS)
def test_nobody_else_changes_staff_and_each_refusal_is_audited(world, who, refusal):
    actor = web(getattr(world, who))
    target = world.manager.staff_member if who == "reception" else world.reception.staff_member
    attempts = [
        lambda: services.staff_member_update(actor=actor, staff_member=target, access_level=AccessLevel.MANAGER),
        lambda: services.staff_login_create(
            actor=actor, staff_member=new_starter(world), username="x1", email="x1@oaktree.nhs.uk"
        ),
        lambda: user_deactivate(actor=actor, user=target.user),
        lambda: services.staff_login_invite(actor=actor, staff_member=target),
    ]
    for attempt in attempts:
        with pytest.raises(refusal):
            attempt()
        StaffMember.objects.filter(source_id="ST-new").delete()
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert target.access_level != AccessLevel.MANAGER or target == world.manager.staff_member
    assert target.user.is_active and not User.objects.filter(username="x1").exists()
    assert len(denials(getattr(world, who))) == len(attempts)


# --- The system administrator ------------------------------------------------------------------------------


def test_the_system_administrator_changes_anything_through_the_services(world):
    admin = web(world.admin)
    services.clinician_update(
        actor=admin,
        clinician=world.nurse.clinician,
        workplace=world.hospital,
        title=ClinicianTitle.STAFF_NURSE,
        is_prescriber=True,
    )
    services.staff_member_update(
        actor=admin,
        staff_member=world.manager.staff_member,
        facility=world.hospital,
        job_title="Hospital Administrator",
    )
    services.facility_update(actor=admin, facility=world.other_surgery, ods_code="M85001")
    user_update(actor=admin, user=world.privacy, kind=AccountKind.SYSTEM_ADMIN)
    user_deactivate(actor=admin, user=world.gp)
    world.nurse.clinician.refresh_from_db()
    world.manager.staff_member.refresh_from_db()
    world.privacy.refresh_from_db()
    assert world.nurse.clinician.workplace == world.hospital and world.nurse.clinician.is_prescriber
    assert world.manager.staff_member.facility == world.hospital
    assert world.privacy.is_superuser and role_of(world.privacy) == Role.SYSTEM_ADMIN
    events = AuditEvent.objects.filter(actor=world.admin, action=AuditAction.UPDATE)
    assert {event.object_type for event in events} == {"clinician", "staff_member", "facility", "user"}
    nurse_event = events.get(object_type=AuditObject.CLINICIAN)
    assert nurse_event.detail["before"]["workplace"] == "S1" and nurse_event.detail["after"]["workplace"] == "H1"


def test_a_login_keeps_the_kind_its_record_needs(world):
    with pytest.raises(Invalid):
        user_update(actor=web(world.admin), user=world.reception, kind=AccountKind.CLINICIAN)
    world.reception.refresh_from_db()
    assert world.reception.kind == AccountKind.STAFF


def test_only_the_system_administrator_adds_clinicians(world):
    with pytest.raises(NotPermitted):
        services.clinician_create(
            actor=web(world.manager),
            first_name="Ivy",
            last_name="Green",
            title=ClinicianTitle.GP,
            speciality="General Practice",
            registration_number="7654321",
            workplace=world.surgery,
            employment_status="full_time",
            start_date=dt.date(2026, 1, 1),
        )
    clinician = services.clinician_create(
        actor=web(world.admin),
        first_name="Ivy",
        last_name="Green",
        title=ClinicianTitle.GP,
        speciality="General Practice",
        registration_number="7654321",
        workplace=world.surgery,
        employment_status="full_time",
        start_date=dt.date(2026, 1, 1),
    )
    assert AuditEvent.objects.get(object_type=AuditObject.CLINICIAN, action=AuditAction.CREATE).object_id == str(
        clinician.public_id
    )
