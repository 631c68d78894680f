"""The set-password link a new staff login is sent: making it, and setting the password with it.

The same machinery as the patients' portal invitation (`invitations.py`): a token that is a signature
over the login's password hash and last sign-in, so it works once, stops working when a newer link is
sent, and expires after `VALID_FOR`. Its salt is its own, so a patient's invitation link can never be
turned into a staff member's, nor the other way round.

A link rather than a password the manager chooses: nobody but the staff member ever knows their
password, and nothing secret is shown on a screen that others may see.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from carebridge.accounts.invitations import VALID_FOR, InvitationNoLongerValid, LinkState, PortalInvitationTokens
from carebridge.accounts.models import AccountKind, User
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor

# Logins that are sent a set-password link by their manager or the system administrator.
INVITED_KINDS = frozenset({AccountKind.STAFF, AccountKind.CLINICIAN})


class StaffInvitationTokens(PortalInvitationTokens):
    key_salt = "carebridge.accounts.staff_invitations.StaffInvitationTokens"


staff_invitation_tokens = StaffInvitationTokens()


def staff_invitation_link(user: User) -> tuple[str, dt.datetime]:
    """A new one-time link for the login, as an absolute URL, and the moment it stops working."""
    token = staff_invitation_tokens.make_token(user)
    path = reverse(
        "accounts:staff_invitation", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}
    )
    return f"{settings.SITE_URL}{path}", clock.now() + VALID_FOR


@transaction.atomic
def staff_invitation_accept(*, actor: Actor, user: User, token: str, password: str) -> User:
    """Set a staff member's or clinician's first password with their link. The link works once.

    Locked and checked again under the lock, as the portal invitation is, so two tabs set one password.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if (
        user.kind not in INVITED_KINDS
        or not user.is_active
        or staff_invitation_tokens.state(user, token) != LinkState.VALID
    ):
        raise InvitationNoLongerValid()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        detail={"password": "set with a set-password link"},
    )
    return user
