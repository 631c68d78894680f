"""Creating and linking logins. Each function is one transaction and writes its own audit row."""

from django.db import transaction

from carebridge.accounts.models import AccountKind, User
from carebridge.audit.models import AuditAction
from carebridge.audit.services import audit_record
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
