"""Creating and linking logins. Each function is one transaction and writes its own audit row."""

import hashlib
import secrets

from django.db import transaction

from carebridge.accounts.models import AccountKind, ApiToken, User
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor


@transaction.atomic
def user_create(*, actor: Actor, username: str, kind: AccountKind, password: str | None,
                first_name: str = "", last_name: str = "", email: str = "", linked_record=None) -> User:
    """Create a login. `linked_record` is the Patient, Clinician or StaffMember it stands for.

    With no password the account cannot sign in until one is set (for example by an invitation).
    """
    user = User(username=username, kind=kind, first_name=first_name, last_name=last_name, email=email,
                is_staff=kind == AccountKind.SYSTEM_ADMIN, is_superuser=kind == AccountKind.SYSTEM_ADMIN)
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
    audit_record(actor=actor, action=AuditAction.CREATE, object_type="user", object_id=str(user.pk),
                 patient_id=linked_record.pk if kind == AccountKind.PATIENT and linked_record else None,
                 detail={"username": username, "kind": kind})
    return user


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
    api_token = ApiToken(user=user, label=label.strip()[:100], token_hash=api_token_hash(token),
                         created_at=clock.now())
    api_token.full_clean()
    api_token.save()
    audit_record(actor=actor, action=AuditAction.CREATE, object_type="api_token", object_id=str(api_token.pk),
                 detail={"user": user.username, "label": api_token.label})
    return api_token, token


@transaction.atomic
def api_token_revoke(*, actor: Actor, api_token: ApiToken) -> ApiToken:
    """Stop a token working at once. Kept, not deleted, so the audit trail can still name it."""
    if api_token.revoked_at is None:
        api_token.revoked_at = clock.now()
        api_token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, object_type="api_token", object_id=str(api_token.pk),
                     detail={"user": api_token.user.username, "revoked": True})
    return api_token
