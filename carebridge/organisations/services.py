"""Changes to facilities, clinicians and staff members: the records that decide who may see what.

A clinician's workplace and title, a staff member's facility, job and access level, and the login
linked to either decide which patients' records that person reaches (core.roles, the access layer). So
each change is one transaction that writes its audit row, with the fields' values before and after,
whoever makes it: a manager's page, the admin site or a command. Refusals are audited after the
transaction rolls back (accounts.services.refusals_audited).

Who may change what:
  - the system administrator (and the `carebridge` command line): anything;
  - a facility manager (practice manager, hospital administrator): the staff of their own facility
    (their job, access level, employment and contact details, and their login), and their facility's
    contact details; never their own job or access level, never a clinician, never a facility's type
    or ODS code, never another facility's people;
  - everyone else: nothing. Someone at the same facility is told they may not (NotPermitted); anyone
    else gets NotFound, so nobody learns who works where.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from carebridge.accounts.models import AccountKind, User
from carebridge.accounts.services import (
    access_change_flag,
    is_system_administrator,
    require_people_manager,
    user_create,
)
from carebridge.accounts.staff_invitations import staff_invitation_link
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.changes import KEEP, Keep, apply_changes, audit_value
from carebridge.core.errors import Invalid, NotPermitted, full_clean_or_refuse
from carebridge.delivery.models import OutboundEmail, RemoteEndpoint
from carebridge.delivery.services import email_enqueue, email_is_valid_address
from carebridge.organisations.models import (
    AccessLevel,
    Clinician,
    ClinicianTitle,
    Facility,
    FacilityType,
    StaffMember,
    SystemAccount,
)


def _require_system_administrator(actor: Actor, *, facility_id: int | None, refusal: str) -> None:
    require_people_manager(actor, facility_id=facility_id, refusal=refusal)
    if not is_system_administrator(actor):
        raise NotPermitted(refusal)


def _audit_change(
    *,
    actor: Actor,
    object_type: AuditObject,
    instance: Any,
    operation: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=object_type,
        object_id=str(instance.public_id),
        detail={"operation": operation, "name": str(instance), "before": before, "after": after},
    )


def _audit_create(
    *, actor: Actor, object_type: AuditObject, instance: Facility | Clinician | StaffMember, fields: Iterable[str]
) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=object_type,
        object_id=str(instance.public_id),
        detail={"name": str(instance), "after": {name: audit_value(getattr(instance, name)) for name in fields}},
    )


def _require_unlinked_login(user: User | None, kind: AccountKind, field: str = "user") -> None:
    """A login linked to a record must be of that record's kind and stand for nobody else."""
    if user is None:
        return
    if user.kind != kind:
        message = f"The login {user.username} is not a {kind.label.lower()} login."
        raise Invalid(message, fields={field: message})
    # Read afresh: a form that assigned this login to the record being saved has already set the
    # login's cached reverse link to that very record, which is not someone else.
    user = User.objects.get(pk=user.pk)
    for accessor in ("patient", "clinician", "staff_member"):
        if getattr(user, accessor, None) is not None:
            message = f"The login {user.username} already stands for someone else."
            raise Invalid(message, fields={field: message})


# --- Changes that hand over access ------------------------------------------------------------------------
#
# Which login stands for a clinician or staff member, and where and as what they work, decide whose
# records that login opens. Each such change is also put before the privacy officer and told to the
# person (accounts.services.access_change_flag). A prescriber flag, a name or a phone number is not:
# audited, but it opens nobody's record.
_ACCESS_FIELDS = ("user", "workplace", "title", "facility", "job_title", "access_level")


def _field(instance: models.Model, name: str) -> models.Field:
    # Only concrete fields are named here; get_field's wider type also covers relations' reverse sides.
    return cast(models.Field, instance._meta.get_field(name))


def _shown(instance: models.Model, name: str, value: Any) -> str:
    if value is None or value == "":
        return "none"
    field = _field(instance, name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _access_before(record: Clinician | StaffMember) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _ACCESS_FIELDS if hasattr(type(record), name)}


def _flag_access_change(
    *,
    actor: Actor,
    record: Clinician | StaffMember,
    operation: str,
    before: dict[str, Any],
    changed: Iterable[str],
    event: AuditEvent,
) -> None:
    """Flag the access fields in `changed`, given their values `before` (from _access_before)."""
    names = [name for name in before if name in set(changed)]
    if not names:
        return
    summary = [
        ("Login" if name == "user" else str(_field(record, name).verbose_name).capitalize())
        + f": {_shown(record, name, before[name])} → {_shown(record, name, getattr(record, name))}"
        for name in names
    ]
    old_user = before.get("user") if "user" in names else None
    access_change_flag(
        actor=actor,
        user=record.user or old_user,
        person=record.display_name,
        operation=operation,
        summary=summary,
        audit_event=event,
        also_tell=[record.email],
    )
    if old_user is not None and record.user is not None:
        # The login that lost the record is told as well, as its own change: it no longer opens what it did.
        access_change_flag(
            actor=actor,
            user=old_user,
            person=old_user.get_full_name() or old_user.username,
            operation=operation,
            summary=[f"Login: no longer stands for {record.display_name}"],
            audit_event=event,
        )


# --- Facilities -------------------------------------------------------------------------------------------

# What a facility's own manager may change: how to find and reach it, not what kind of place it is.
_FACILITY_MANAGER_FIELDS = frozenset(
    {
        "name",
        "address",
        "postcode",
        "phone_number",
        "email",
        "opening_hours",
        "manager_name",
        "capacity",
        "specialities_offered",
        "referral_email",
    }
)


@refusals_audited(AuditObject.FACILITY, target="facility")
@transaction.atomic
def facility_create(
    *,
    actor: Actor,
    name: str,
    facility_type: FacilityType,
    address: str,
    postcode: str,
    ods_code: str = "",
    phone_number: str = "",
    email: str = "",
    opening_hours: str = "",
    manager_name: str = "",
    capacity: int | None = None,
    specialities_offered: list[str] | None = None,
    source_id: str | None = None,
) -> Facility:
    """Add a facility. The system administrator only."""
    if not is_system_administrator(actor):
        raise NotPermitted("Only the system administrator adds facilities.")
    facility = Facility(
        name=name.strip(),
        facility_type=facility_type,
        address=address.strip(),
        postcode=postcode.strip().upper(),
        ods_code=ods_code.strip(),
        phone_number=phone_number.strip(),
        email=email.strip(),
        opening_hours=opening_hours.strip(),
        manager_name=manager_name.strip(),
        capacity=capacity,
        specialities_offered=list(specialities_offered or []),
        source_id=source_id or None,
    )
    full_clean_or_refuse(facility)
    facility.save()
    _audit_create(
        actor=actor,
        object_type=AuditObject.FACILITY,
        instance=facility,
        fields=["name", "facility_type", "ods_code", "postcode", "source_id"],
    )
    return facility


@refusals_audited(AuditObject.FACILITY, target="facility")
@transaction.atomic
def facility_update(
    *,
    actor: Actor,
    facility: Facility,
    name: str | Keep = KEEP,
    facility_type: FacilityType | Keep = KEEP,
    ods_code: str | Keep = KEEP,
    address: str | Keep = KEEP,
    postcode: str | Keep = KEEP,
    phone_number: str | Keep = KEEP,
    email: str | Keep = KEEP,
    opening_hours: str | Keep = KEEP,
    manager_name: str | Keep = KEEP,
    capacity: int | None | Keep = KEEP,
    specialities_offered: list[str] | Keep = KEEP,
    referral_email: str | Keep = KEEP,
    source_id: str | None | Keep = KEEP,
) -> Facility:
    """Change a facility's details. Its type decides whether its clinicians work as GPs or specialists,
    so the type (and the ODS code, its identity in the NHS) is the system administrator's alone."""
    require_people_manager(
        actor, facility_id=facility.pk, refusal="Only the facility's manager can change its details."
    )
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    values = {
        "name": name,
        "facility_type": facility_type,
        "ods_code": ods_code,
        "address": address,
        "postcode": postcode,
        "phone_number": phone_number,
        "email": email,
        "opening_hours": opening_hours,
        "manager_name": manager_name,
        "capacity": capacity,
        "specialities_offered": specialities_offered,
        "referral_email": referral_email,
        "source_id": source_id,
    }
    before, after = apply_changes(facility, values)
    if not is_system_administrator(actor) and set(after) - _FACILITY_MANAGER_FIELDS:
        raise NotPermitted("Only the system administrator changes a facility's type, ODS code or ID.")
    if not after:
        return facility
    full_clean_or_refuse(facility)
    facility.save()
    _audit_change(
        actor=actor,
        object_type=AuditObject.FACILITY,
        instance=facility,
        operation="facility_update",
        before=before,
        after=after,
    )
    return facility


# --- Clinicians ---------------------------------------------------------------------------------------------

_CLINICIAN_REFUSAL = "Only the system administrator changes a clinician's workplace, title or registration."


@refusals_audited(AuditObject.CLINICIAN, target="clinician")
@transaction.atomic
def clinician_create(
    *,
    actor: Actor,
    first_name: str,
    last_name: str,
    title: ClinicianTitle,
    speciality: str,
    registration_number: str,
    workplace: Facility,
    employment_status: str,
    start_date: dt.date,
    honorific: str = "",
    phone_number: str = "",
    email: str = "",
    is_prescriber: bool = False,
    source_id: str | None = None,
    user: User | None = None,
) -> Clinician:
    """Add a clinician (and link their login, if they have one). The system administrator only."""
    _require_system_administrator(actor, facility_id=workplace.pk, refusal=_CLINICIAN_REFUSAL)
    _require_unlinked_login(user, AccountKind.CLINICIAN)
    clinician = Clinician(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        honorific=honorific.strip(),
        title=title,
        speciality=speciality.strip(),
        registration_number=registration_number.strip(),
        workplace=workplace,
        employment_status=employment_status,
        start_date=start_date,
        phone_number=phone_number.strip(),
        email=email.strip(),
        is_prescriber=is_prescriber,
        source_id=source_id or None,
        user=user,
    )
    full_clean_or_refuse(clinician)
    clinician.save()
    event = _audit_create(
        actor=actor,
        object_type=AuditObject.CLINICIAN,
        instance=clinician,
        fields=["title", "workplace", "registration_number", "is_prescriber", "user", "source_id"],
    )
    if user is not None:
        nothing = dict.fromkeys(_access_before(clinician))
        _flag_access_change(
            actor=actor, record=clinician, operation="clinician_create", before=nothing, changed=nothing, event=event
        )
    return clinician


@refusals_audited(AuditObject.CLINICIAN, target="clinician")
@transaction.atomic
def clinician_update(
    *,
    actor: Actor,
    clinician: Clinician,
    workplace: Facility | Keep = KEEP,
    title: ClinicianTitle | Keep = KEEP,
    speciality: str | Keep = KEEP,
    registration_number: str | Keep = KEEP,
    is_prescriber: bool | Keep = KEEP,
    honorific: str | Keep = KEEP,
    first_name: str | Keep = KEEP,
    last_name: str | Keep = KEEP,
    phone_number: str | Keep = KEEP,
    email: str | Keep = KEEP,
    employment_status: str | Keep = KEEP,
    start_date: dt.date | Keep = KEEP,
    source_id: str | None | Keep = KEEP,
    user: User | None | Keep = KEEP,
) -> Clinician:
    """Change a clinician's record. The system administrator only: a workplace, a title, a registration
    or a prescriber flag changes which patients they reach and what they may do."""
    _require_system_administrator(actor, facility_id=clinician.workplace_id, refusal=_CLINICIAN_REFUSAL)
    clinician = Clinician.objects.select_for_update().get(pk=clinician.pk)
    if user is not KEEP and user is not None and user.pk != clinician.user_id:
        _require_unlinked_login(user, AccountKind.CLINICIAN)
    access_before = _access_before(clinician)
    before, after = apply_changes(
        clinician,
        {
            "workplace": workplace,
            "title": title,
            "speciality": speciality,
            "registration_number": registration_number,
            "is_prescriber": is_prescriber,
            "honorific": honorific,
            "first_name": first_name,
            "last_name": last_name,
            "phone_number": phone_number,
            "email": email,
            "employment_status": employment_status,
            "start_date": start_date,
            "source_id": source_id,
            "user": user,
        },
    )
    if not after:
        return clinician
    full_clean_or_refuse(clinician)
    clinician.save()
    event = _audit_change(
        actor=actor,
        object_type=AuditObject.CLINICIAN,
        instance=clinician,
        operation="clinician_update",
        before=before,
        after=after,
    )
    _flag_access_change(
        actor=actor, record=clinician, operation="clinician_update", before=access_before, changed=after, event=event
    )
    return clinician


# --- Staff members ------------------------------------------------------------------------------------------

_STAFF_REFUSAL = "Only your facility's manager can change its staff."
# What only the system administrator changes about a staff member: where they work and which login
# is theirs (a manager links a login by creating it, staff_login_create).
_STAFF_ADMIN_FIELDS = frozenset({"facility", "user", "source_id"})


@refusals_audited(AuditObject.STAFF_MEMBER, target="staff_member")
@transaction.atomic
def staff_member_create(
    *,
    actor: Actor,
    first_name: str,
    last_name: str,
    job_title: str,
    facility: Facility,
    access_level: AccessLevel,
    employment_status: str,
    start_date: dt.date,
    department: str = "",
    phone_number: str = "",
    email: str = "",
    line_manager: str = "",
    source_id: str | None = None,
    user: User | None = None,
) -> StaffMember:
    """Add a staff member at a facility: its manager, or the system administrator (who may also link a login)."""
    require_people_manager(actor, facility_id=facility.pk, refusal=_STAFF_REFUSAL)
    if (user is not None or source_id) and not is_system_administrator(actor):
        raise NotPermitted("Only the system administrator links an existing login. Create one for them instead.")
    _require_unlinked_login(user, AccountKind.STAFF)
    staff_member = StaffMember(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        job_title=job_title.strip(),
        facility=facility,
        access_level=access_level,
        employment_status=employment_status,
        start_date=start_date,
        department=department.strip(),
        phone_number=phone_number.strip(),
        email=email.strip(),
        line_manager=line_manager.strip(),
        source_id=source_id or None,
        user=user,
    )
    full_clean_or_refuse(staff_member)
    staff_member.save()
    event = _audit_create(
        actor=actor,
        object_type=AuditObject.STAFF_MEMBER,
        instance=staff_member,
        fields=["job_title", "facility", "access_level", "user", "source_id"],
    )
    if user is not None:
        nothing = dict.fromkeys(_access_before(staff_member))
        _flag_access_change(
            actor=actor,
            record=staff_member,
            operation="staff_member_create",
            before=nothing,
            changed=nothing,
            event=event,
        )
    return staff_member


@refusals_audited(AuditObject.STAFF_MEMBER, target="staff_member")
@transaction.atomic
def staff_member_update(
    *,
    actor: Actor,
    staff_member: StaffMember,
    job_title: str | Keep = KEEP,
    access_level: AccessLevel | Keep = KEEP,
    employment_status: str | Keep = KEEP,
    department: str | Keep = KEEP,
    first_name: str | Keep = KEEP,
    last_name: str | Keep = KEEP,
    phone_number: str | Keep = KEEP,
    email: str | Keep = KEEP,
    line_manager: str | Keep = KEEP,
    start_date: dt.date | Keep = KEEP,
    facility: Facility | Keep = KEEP,
    source_id: str | None | Keep = KEEP,
    user: User | None | Keep = KEEP,
) -> StaffMember:
    """Change a staff member's record. Their job and access level set their role (core.roles.staff_role),
    which takes effect from their next request."""
    require_people_manager(actor, facility_id=staff_member.facility_id, refusal=_STAFF_REFUSAL)
    staff_member = StaffMember.objects.select_for_update().get(pk=staff_member.pk)
    if isinstance(job_title, str):
        job_title = job_title.strip()
    if user is not KEEP and user is not None and user.pk != staff_member.user_id:
        _require_unlinked_login(user, AccountKind.STAFF)
    access_before = _access_before(staff_member)
    before, after = apply_changes(
        staff_member,
        {
            "job_title": job_title,
            "access_level": access_level,
            "employment_status": employment_status,
            "department": department,
            "first_name": first_name,
            "last_name": last_name,
            "phone_number": phone_number,
            "email": email,
            "line_manager": line_manager,
            "start_date": start_date,
            "facility": facility,
            "source_id": source_id,
            "user": user,
        },
    )
    if not is_system_administrator(actor):
        if set(after) & _STAFF_ADMIN_FIELDS:
            raise NotPermitted(
                "Only the system administrator moves a staff member to another facility or "
                "changes which login is theirs."
            )
        if (
            actor.user is not None
            and staff_member.user_id == actor.user.pk
            and {"job_title", "access_level"} & set(after)
        ):
            raise NotPermitted(
                "You cannot change your own job or access level. Ask another manager or the system administrator."
            )
    if not after:
        return staff_member
    full_clean_or_refuse(staff_member)
    staff_member.save()
    event = _audit_change(
        actor=actor,
        object_type=AuditObject.STAFF_MEMBER,
        instance=staff_member,
        operation="staff_member_update",
        before=before,
        after=after,
    )
    _flag_access_change(
        actor=actor,
        record=staff_member,
        operation="staff_member_update",
        before=access_before,
        changed=after,
        event=event,
    )
    return staff_member


# --- Staff logins ------------------------------------------------------------------------------------------


@refusals_audited(AuditObject.STAFF_MEMBER, target="staff_member")
@transaction.atomic
def staff_login_create(*, actor: Actor, staff_member: StaffMember, username: str, email: str) -> User:
    """Give a staff member a login and email them a link to set their own password (72 hours).

    The login cannot sign in until they do; nobody else ever knows the password.
    """
    require_people_manager(actor, facility_id=staff_member.facility_id, refusal=_STAFF_REFUSAL)
    staff_member = StaffMember.objects.select_for_update().select_related("facility").get(pk=staff_member.pk)
    if staff_member.user_id is not None:
        raise Invalid(f"{staff_member} already has a login.")
    username = username.strip().lower()
    email = email.strip()
    problems: dict[str, str] = {}
    if not username:
        problems["username"] = "Enter a username."
    elif User.objects.filter(username__iexact=username).exists():
        problems["username"] = "This username is taken. Choose another."
    if not email or not email_is_valid_address(email):
        problems["email"] = "Enter an email address like name@example.nhs.uk, for the link to set a password."
    if problems:
        raise Invalid(" ".join(problems.values()), fields=problems)
    try:
        with transaction.atomic():
            user = user_create(
                actor=actor,
                username=username,
                kind=AccountKind.STAFF,
                password=None,
                first_name=staff_member.first_name[:150],
                last_name=staff_member.last_name[:150],
                email=email,
                linked_record=staff_member,
            )
    except ValidationError as problem:
        fields = {name: " ".join(messages) for name, messages in problem.message_dict.items()}
        raise Invalid(" ".join(fields.values()), fields=fields) from None
    except IntegrityError:
        # Taken between the look and the insert.
        raise Invalid(
            "This username is taken. Choose another.", fields={"username": "This username is taken. Choose another."}
        ) from None
    event = _send_set_password_link(actor=actor, staff_member=staff_member, user=user, operation="staff_login_create")
    # Whoever reads the address typed here sets the password and works as this staff member, so the
    # address on their staff record is told too, and the privacy officer sees it.
    access_change_flag(
        actor=actor,
        user=user,
        person=staff_member.display_name,
        operation="staff_login_create",
        summary=[f"Login {user.username} created for you; the link to set its password was sent to {email}"],
        audit_event=event,
        also_tell=[staff_member.email],
        tell_login_address=False,
    )
    return user


@refusals_audited(AuditObject.STAFF_MEMBER, target="staff_member")
@transaction.atomic
def staff_login_invite(*, actor: Actor, staff_member: StaffMember) -> User:
    """Send a staff member a new set-password link, for a forgotten password or an expired link.

    Their current password stops working at once (as it must, if someone else may know it), and so
    do earlier links; they sign in again once they have set a new one.
    """
    require_people_manager(actor, facility_id=staff_member.facility_id, refusal=_STAFF_REFUSAL)
    staff_member = StaffMember.objects.select_for_update().select_related("facility").get(pk=staff_member.pk)
    if staff_member.user_id is None:
        raise Invalid(f"{staff_member} has no login yet. Create one first.")
    user = User.objects.select_for_update().get(pk=staff_member.user_id)
    if not user.is_active:
        raise Invalid(f"{staff_member}'s login is deactivated. Reactivate it first.")
    if actor.user is not None and actor.user.pk == user.pk:
        raise Invalid("You cannot reset your own login here. Ask another manager or the system administrator.")
    if not user.email or not email_is_valid_address(user.email):
        raise Invalid(f"There is no email address on {staff_member}'s login to send the link to.")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _send_set_password_link(actor=actor, staff_member=staff_member, user=user, operation="staff_login_invite")
    return user


def _send_set_password_link(*, actor: Actor, staff_member: StaffMember, user: User, operation: str) -> AuditEvent:
    link, expires_at = staff_invitation_link(user)
    facility = staff_member.facility
    local = expires_at.astimezone(clock.LONDON)
    # Numbered: every link sent is a message of its own (the staff member is locked, so no two race).
    earlier = OutboundEmail.objects.filter(idempotency_key__startswith=f"staff-login:{user.pk}:").count()
    email = email_enqueue(
        recipient=user.email,
        subject=f"Your Carebridge login at {facility.name}",
        idempotency_key=f"staff-login:{user.pk}:{earlier + 1}",
        body="\n".join(
            [
                f"Dear {staff_member.display_name},",
                "",
                f"{facility.name} has given you a login to Carebridge. To start, set your password here:",
                "",
                link,
                "",
                f"The link works once, until {local:%H:%M} on {local:%A} {local.day} {local:%B %Y}. Your username is:",
                "",
                f"    {user.username}",
                "",
                f"If you did not expect this email, tell your manager at {facility.name}.",
                "",
                "This mailbox is not read, so please do not reply to this email.",
                "",
            ]
        ),
    )
    return audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.STAFF_MEMBER,
        object_id=str(staff_member.public_id),
        detail={
            "operation": operation,
            "name": str(staff_member),
            "login": user.username,
            "user": user.pk,
            "email": str(email.public_id),
            "expires_at": expires_at.isoformat(),
        },
    )


# --- Other organisations' systems ----------------------------------------------------------------------


def facility_by_code(code: str) -> Facility | None:
    """The facility another system or a command names: by its coursework ID or its ODS code."""
    code = code.strip()
    if not code:
        return None
    return Facility.objects.filter(source_id=code).first() or Facility.objects.filter(ods_code__iexact=code).first()


def facility_endpoint_name(facility: Facility) -> str:
    return f"facility:{facility.public_id}"


def facility_endpoint(facility: Facility) -> RemoteEndpoint | None:
    """The facility's own system, where referrals to it (or updates for it) are sent as FHIR; None if unset."""
    return RemoteEndpoint.objects.filter(name=facility_endpoint_name(facility)).first()


@refusals_audited(AuditObject.CONNECTED_SYSTEM)
@transaction.atomic
def facility_endpoint_set(*, actor: Actor, facility: Facility, fhir_base: str, token: str) -> RemoteEndpoint:
    """Point Carebridge at `facility`'s own system (system administrator only). Messages waiting for it
    are sent there, with the new token, at their next attempt."""
    _require_system_administrator(
        actor, facility_id=facility.pk, refusal="Only the system administrator connects other systems."
    )
    errors: dict[str, str] = {}
    base = fhir_base.strip()
    if not base.startswith(("http://", "https://")):
        errors["fhir_base"] = "Give the system's FHIR base address, starting http:// or https://."
    if not token.strip() or any(c.isspace() for c in token.strip()):
        errors["token"] = "Give the token that system issued for us (one word, no spaces)."
    if errors:
        raise Invalid(" ".join(errors.values()), fields=errors)
    endpoint, created = RemoteEndpoint.objects.update_or_create(
        name=facility_endpoint_name(facility),
        defaults={
            "label": f"{facility.name}'s system",
            "fhir_base": base,
            "token": token.strip(),
            "updated_at": clock.now(),
        },
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=AuditObject.CONNECTED_SYSTEM,
        object_id=str(facility.public_id),
        # Never the token: the audit trail is read by people who must not be able to use it.
        detail={"facility": facility.name, "fhir_base": base},
    )
    return endpoint


@refusals_audited(AuditObject.CONNECTED_SYSTEM)
@transaction.atomic
def system_account_ensure(*, actor: Actor, facility: Facility) -> User:
    """The login standing for `facility`'s system, made on first use (system administrator only)."""
    _require_system_administrator(
        actor, facility_id=facility.pk, refusal="Only the system administrator connects other systems."
    )
    existing = SystemAccount.objects.filter(facility=facility).select_related("user").first()
    if existing is not None:
        return existing.user
    user = user_create(
        actor=actor,
        username=f"system-{facility.code}".lower()[:150],
        kind=AccountKind.SYSTEM,
        password=None,
        first_name=f"{facility.name}'s system"[:150],
    )
    SystemAccount.objects.create(user=user, facility=facility, created_at=clock.now())
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.CONNECTED_SYSTEM,
        object_id=str(facility.public_id),
        detail={"facility": facility.name, "login": user.username},
    )
    return user


def system_facility(user: User | None) -> Facility | None:
    """The facility a connected system's login stands for; None for anyone else."""
    if user is None or user.kind != AccountKind.SYSTEM:
        return None
    link = SystemAccount.objects.filter(user=user).select_related("facility").first()
    return link.facility if link else None
