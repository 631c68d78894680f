"""Creating and linking logins. Each function is one transaction and writes its own audit row."""

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from carebridge.accounts.models import AccessChange, AccountKind, ApiToken, User
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.changes import KEEP, Keep, apply_changes
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.core.roles import Role, role_of
from carebridge.delivery.services import email_enqueue, email_is_valid_address


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    kind: AccountKind,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    linked_record: Any = None,
) -> User:
    """Create a login. `linked_record` is the Patient, Clinician or StaffMember it stands for.

    With no password the account cannot sign in until one is set (for example by an invitation).
    """
    user = User(
        username=username,
        kind=kind,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=kind == AccountKind.SYSTEM_ADMIN,
        is_superuser=kind == AccountKind.SYSTEM_ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if linked_record is not None:
        if linked_record.user_id is not None:
            raise ValueError(f"{linked_record} already has a login")
        linked_record.user = user
        linked_record.save(update_fields=["user"])
    event = audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        patient_id=linked_record.pk if kind == AccountKind.PATIENT and linked_record else None,
        detail={"username": username, "kind": kind},
    )
    if kind in _POWERFUL_KINDS:
        # Such a login needs no clinician or staff record to act: its kind is its power.
        access_change_flag(
            actor=actor,
            user=user,
            person=user.get_full_name() or username,
            operation="user_create",
            summary=[f"New {AccountKind(kind).label.lower()} login {username} created"],
            audit_event=event,
        )
    return user


# Logins whose kind alone gives power over other people's access or the audit trail.
_POWERFUL_KINDS = frozenset({AccountKind.SYSTEM_ADMIN, AccountKind.PRIVACY_OFFICER})


# A recognisable prefix lets secret scanners (and people) tell a Carebridge token from other secrets.
API_TOKEN_PREFIX = "cb_"


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, actor: Actor, user: User, label: str = "") -> tuple[ApiToken, str]:
    """Issue a bearer token acting as `user`. The token is returned once and never stored."""
    if not user.is_active:
        raise ValueError(f"{user.username} is not an active account")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(user=user, label=label.strip()[:100], token_hash=api_token_hash(token), created_at=clock.now())
    api_token.full_clean()
    api_token.save()
    event = audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=AuditObject.API_TOKEN,
        object_id=str(api_token.pk),
        detail={"user": user.username, "label": api_token.label},
    )
    # Whoever holds the token acts as `user` through the APIs: someone else's access, handed over.
    access_change_flag(
        actor=actor,
        user=user,
        person=user.get_full_name() or user.username,
        operation="api_token_issue",
        summary=["API token issued that acts as you" + (f" (labelled '{api_token.label}')" if api_token.label else "")],
        audit_event=event,
    )
    return api_token, token


@transaction.atomic
def api_token_revoke(*, actor: Actor, api_token: ApiToken) -> ApiToken:
    """Stop a token working at once. Kept, not deleted, so the audit trail can still name it."""
    if api_token.revoked_at is None:
        api_token.revoked_at = clock.now()
        api_token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=AuditObject.API_TOKEN,
            object_id=str(api_token.pk),
            detail={"user": api_token.user.username, "revoked": True},
        )
    return api_token


# --- Who manages whose login; changing, closing and reopening logins ---------------------------------
#
# A login's kind and active flag decide what its user may see (core.roles.role_of), so every change to
# them is a service with its audit row, whoever makes it: a manager's page, the admin site or a command.


def _linked(user: User, accessor: str) -> Any:
    try:
        return getattr(user, accessor)
    except ObjectDoesNotExist:
        return None


def workplace_id_of(user: User | None) -> int | None:
    """The facility a login works at, through the clinician or staff record it stands for.

    Read through the reverse accessors, as core.roles does, so accounts need not import the people apps.
    """
    if user is None:
        return None
    if (staff := _linked(user, "staff_member")) is not None:
        return staff.facility_id
    if (clinician := _linked(user, "clinician")) is not None:
        return clinician.workplace_id
    return None


def is_system_administrator(actor: Actor) -> bool:
    # Whoever runs the `carebridge` command already holds the database (as scheduling also allows).
    if actor.user is None:
        return actor.channel in ("cli", "system")
    return role_of(actor.user) == Role.SYSTEM_ADMIN


def require_people_manager(actor: Actor, *, facility_id: int | None, refusal: str) -> None:
    """Refuse unless the actor manages the people of `facility_id`.

    The system administrator manages everyone; a facility manager the people of their own facility.
    Anyone else who works there is told they may not (NotPermitted: they know these colleagues
    anyway); everyone else learns nothing (NotFound), as with a patient's record.
    """
    if is_system_administrator(actor):
        return
    own = workplace_id_of(actor.user) if role_of(actor.user) != Role.NONE else None
    if own is None or facility_id is None or own != facility_id:
        raise NotFound()
    if role_of(actor.user) != Role.FACILITY_MANAGER:
        raise NotPermitted(refusal)


def _require_may_open_or_close(actor: Actor, user: User, verb: str) -> None:
    require_people_manager(
        actor, facility_id=workplace_id_of(user), refusal=f"Only your facility's manager can {verb} a login."
    )
    if not is_system_administrator(actor) and user.kind != AccountKind.STAFF:
        raise NotPermitted(f"Only the system administrator can {verb} a clinician's login.")
    if actor.user is not None and actor.user.pk == user.pk:
        raise Invalid(f"You cannot {verb} your own login. Ask another manager or the system administrator.")


@refusals_audited(AuditObject.USER, target="user")
@transaction.atomic
def user_deactivate(*, actor: Actor, user: User) -> User:
    """Close a login: it can no longer sign in, its open sessions end at their next request, and its API
    tokens are revoked, so reopening the login does not bring old credentials back to life.

    Kept, never deleted, so the audit trail still names who did what with it.
    """
    _require_may_open_or_close(actor, user, "deactivate")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        detail={
            "operation": "user_deactivate",
            "username": user.username,
            "before": {"is_active": True},
            "after": {"is_active": False},
            "api_tokens_revoked": revoked,
        },
    )
    return user


@refusals_audited(AuditObject.USER, target="user")
@transaction.atomic
def user_reactivate(*, actor: Actor, user: User) -> User:
    """Reopen a closed login. Its old API tokens stay revoked; its password is as it was."""
    _require_may_open_or_close(actor, user, "reactivate")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    event = audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        detail={
            "operation": "user_reactivate",
            "username": user.username,
            "before": {"is_active": False},
            "after": {"is_active": True},
        },
    )
    # A closed login reopened signs in again with its old password, which someone may know.
    access_change_flag(
        actor=actor,
        user=user,
        person=user.get_full_name() or user.username,
        operation="user_reactivate",
        summary=["Login reopened after it was closed"],
        audit_event=event,
    )
    return user


# Which linked record each kind of login stands for.
_KIND_RECORD = {AccountKind.PATIENT: "patient", AccountKind.CLINICIAN: "clinician", AccountKind.STAFF: "staff_member"}


@refusals_audited(AuditObject.USER, target="user")
@transaction.atomic
def user_update(
    *,
    actor: Actor,
    user: User,
    username: str | Keep = KEEP,
    first_name: str | Keep = KEEP,
    last_name: str | Keep = KEEP,
    email: str | Keep = KEEP,
    kind: AccountKind | Keep = KEEP,
) -> User:
    """Change a login's name, email or kind. The system administrator only.

    Admin-site entry follows the kind (only a system administrator's login enters it), and a login
    linked to a patient, clinician or staff record keeps the kind that record needs.
    """
    require_people_manager(
        actor, facility_id=workplace_id_of(user), refusal="Only the system administrator changes a login's details."
    )
    if not is_system_administrator(actor):
        raise NotPermitted("Only the system administrator changes a login's details.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if kind is not KEEP:
        if kind not in AccountKind.values:
            raise Invalid("Choose a kind of login.", fields={"kind": "Choose a kind of login."})
        for linked_kind, accessor in _KIND_RECORD.items():
            record = _linked(user, accessor)
            if record is not None and kind != linked_kind:
                message = f"This login stands for {record}, so it stays a {linked_kind.label.lower()} login."
                raise Invalid(message, fields={"kind": message})
    before, after = apply_changes(
        user, {"username": username, "first_name": first_name, "last_name": last_name, "email": email, "kind": kind}
    )
    if "kind" in after:
        is_admin = user.kind == AccountKind.SYSTEM_ADMIN
        before.update(is_staff=user.is_staff, is_superuser=user.is_superuser)
        user.is_staff = user.is_superuser = is_admin
        after.update(is_staff=is_admin, is_superuser=is_admin)
    if not after:
        return user
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as problem:
        fields = {name: " ".join(messages) for name, messages in problem.message_dict.items()}
        raise Invalid(" ".join(fields.values()), fields=fields) from None
    user.save()
    event = audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        detail={"operation": "user_update", "username": user.username, "before": before, "after": after},
    )
    # The kind is the login's role; the email is where set-password links go, so a changed one could
    # take the login over. The old address is told too: it is the one the person still reads.
    summary = []
    if "kind" in after:
        summary.append(
            f"Kind of login: {AccountKind(before['kind']).label if before['kind'] in AccountKind.values else 'none'}"
            f" → {AccountKind(after['kind']).label}"
        )
    if "email" in after:
        summary.append(f"Email address for password links: {before['email'] or 'none'} → {after['email'] or 'none'}")
    if summary:
        access_change_flag(
            actor=actor,
            user=user,
            person=user.get_full_name() or user.username,
            operation="user_update",
            summary=summary,
            audit_event=event,
            also_tell=[before.get("email") or ""],
        )
    return user


@refusals_audited(AuditObject.USER, target="user")
@transaction.atomic
def user_password_set(*, actor: Actor, user: User, password: str | None) -> User:
    """Set a login's password (None: password sign-in disabled). The system administrator only.

    `password` has passed the validators already (the form). The password itself is never audited.
    """
    if not is_system_administrator(actor):
        require_people_manager(
            actor, facility_id=workplace_id_of(user), refusal="Only the system administrator sets passwords."
        )
        raise NotPermitted("Only the system administrator sets passwords. Send a set-password link instead.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    event = audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        detail={
            "operation": "user_password_set",
            "username": user.username,
            "password": "set by the system administrator" if password else "sign-in disabled",
        },
    )
    if password and (actor.user is None or actor.user.pk != user.pk):
        # Whoever set it knows it and could sign in as this person. (A password taken away hands
        # nothing over, and the person finds out at their next sign-in.)
        access_change_flag(
            actor=actor,
            user=user,
            person=user.get_full_name() or user.username,
            operation="user_password_set",
            summary=["Password set by someone else"],
            audit_event=event,
        )
    return user


# --- Changes that can hand one person another's access: reviewed, and told to the person -------------
#
# Audited like every change; on top, each is listed for the privacy officer's review (as emergency
# access is) and emailed to the person whose account it is, in the same transaction as the change, so
# a password reset or a login linked behind someone's back is seen by two people who did not make it.
# The message says what changed and who changed it; none of these changes involve patients' records,
# and the message names none.


def _actor_described(actor: Actor) -> str:
    user = actor.user
    if user is None:
        return "a system administrator, at Carebridge's command line"
    name = user.get_full_name() or user.username
    role = role_of(user)
    if role == Role.SYSTEM_ADMIN:
        return f"the system administrator ({name})"
    if role == Role.FACILITY_MANAGER:
        return f"{name}, your facility's manager"
    return name


def access_change_flag(
    *,
    actor: Actor,
    user: User | None,
    person: str,
    operation: str,
    summary: list[str],
    audit_event: AuditEvent,
    also_tell: Iterable[str] = (),
    tell_login_address: bool = True,
) -> AccessChange:
    """List a change for the privacy officer's review and email the person it concerns.

    Called by a service inside its own transaction, after its audit row. `user` is the login whose
    access changed (None when the record has no login yet); the person is emailed at that login's
    address and at `also_tell` (the address on their staff or clinician record, an address just
    replaced), each once (`tell_login_address=False`: not the login's own address, when the caller has
    just written to it). With no address on record the change is still listed, marked not told.
    """
    change = AccessChange.objects.create(
        at=audit_event.at,
        user=user,
        person=person[:200],
        changed_by=actor.user,
        changed_by_label=audit_event.actor_label,
        operation=operation,
        summary="\n".join(summary),
        audit_event=audit_event,
    )
    on_record = [getattr(_linked(user, accessor), "email", "") for accessor in _KIND_RECORD.values()] if user else []
    addresses: list[str] = []
    skipped = {user.email.strip().lower()} if user is not None and not tell_login_address else set()
    for address in [user.email if user is not None else "", *on_record, *also_tell]:
        address = (address or "").strip()
        if address and email_is_valid_address(address) and address.lower() not in skipped:
            addresses.append(address)
            skipped.add(address.lower())
    if addresses:
        local = audit_event.at.astimezone(clock.LONDON)
        patient_login = user is not None and user.kind == AccountKind.PATIENT
        body = "\n".join(
            [
                f"Dear {person},",
                "",
                f"At {local:%H:%M} on {local:%A} {local.day} {local:%B %Y}, {_actor_described(actor)} made "
                + (
                    f"this change to your Carebridge login ({user.username}):"
                    if user
                    else "this change to your record in Carebridge:"
                ),
                "",
                *(f"  - {line}" for line in summary),
                "",
                "A change like this can let someone sign in as you or change what you can see, so we tell you "
                "every time one is made. It has also been passed to the privacy officer to check.",
                "",
                "If you expected it, you need do nothing. If you did not, tell "
                + ("your GP surgery" if patient_login else "your manager or the privacy officer")
                + " today.",
                "",
                "This mailbox is not read, so please do not reply to this email.",
                "",
            ]
        )
        for number, address in enumerate(addresses, start=1):
            email_enqueue(
                recipient=address,
                subject="A change to your Carebridge login",
                idempotency_key=f"access-change:{change.pk}:{number}",
                body=body,
            )
        change.told = addresses
        change.save(update_fields=["told"])
    return change


@refusals_audited(AuditObject.USER)
@transaction.atomic
def access_change_review(*, actor: Actor, change_id: int, note: str) -> AccessChange:
    """The privacy officer records that a change to someone's access was reviewed, and what they concluded."""
    if role_of(actor.user) != Role.PRIVACY_OFFICER:
        raise NotPermitted("Only the privacy officer reviews changes to people's access.")
    note = note.strip()
    if not note:
        raise Invalid(
            "Write what you concluded.",
            fields={"note": "Write what you concluded, for example 'Expected: new starter, confirmed with manager'."},
        )
    change = AccessChange.objects.select_for_update().filter(pk=change_id).first()
    if change is None:
        raise NotFound("No such change.")
    if change.reviewed_at is not None:
        raise Invalid(
            "This change has already been reviewed.", fields={"note": "This change has already been reviewed."}
        )
    change.reviewed_by = actor.user
    change.reviewed_at = clock.now()
    change.review_note = note
    change.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(change.user_id or ""),
        reason=note,
        detail={
            "operation": "access_change_review",
            "change": change.pk,
            "reviewed": change.operation,
            "audit_event": change.audit_event_id,
        },
    )
    return change


@refusals_audited(AuditObject.SIGN_IN)
@transaction.atomic
def sign_in_lockout_clear(*, actor: Actor, attempts: Iterable[Any]) -> int:
    """Lift sign-in lockouts (django-axes AccessAttempt rows) before their cool-off ends. The system
    administrator only, audited: lifting one gives a guesser five more tries."""
    if not is_system_administrator(actor):
        raise NotPermitted("Only the system administrator lifts a sign-in lockout.")
    cleared = 0
    for attempt in attempts:
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            object_type=AuditObject.SIGN_IN,
            object_id=str(attempt.pk),
            detail={
                "operation": "sign_in_lockout_clear",
                "username": attempt.username,
                "ip_address": attempt.ip_address,
                "failures": attempt.failures_since_start,
            },
        )
        attempt.delete()
        cleared += 1
    return cleared
