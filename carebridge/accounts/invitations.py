"""The portal invitation's one-time link: making it, checking it, and setting the password with it.

The link carries a token from Django's password-reset machinery, with a salt of its own (a password
reset token is no invitation, nor the other way round) and Carebridge's clock. The token is a
signature over the login's password hash and last sign-in, so it stops working as soon as the
password is set or anyone signs in, and after `VALID_FOR` in any case. Sending a new invitation
gives the login a new unusable password, so the links in earlier invitations stop working too.
"""

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from carebridge.accounts.models import AccountKind, User
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor

VALID_FOR = dt.timedelta(hours=72)
_EPOCH = dt.datetime(2001, 1, 1)  # noqa: DTZ001 (naive UTC, like the timestamps in the tokens)


class LinkState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    # The password has been set (with this link or since), so the login is in use.
    USED = "used"
    # Tampered with, meant for another login, or replaced by a newer invitation.
    INVALID = "invalid"


class PortalInvitationTokens(PasswordResetTokenGenerator):
    key_salt = "carebridge.accounts.invitations.PortalInvitationTokens"

    @property
    def valid_for(self) -> dt.timedelta:
        """How long a link works after it is made."""
        return VALID_FOR

    def _now(self) -> dt.datetime:
        # Django counts in naive datetimes; ours are UTC, from the one clock, so tests can move time.
        return clock.now().astimezone(dt.UTC).replace(tzinfo=None)

    def check_token(self, user: User | None, token: str | None) -> bool:
        return self.state(user, token) == LinkState.VALID

    def state(self, user: User | None, token: str | None) -> LinkState:
        """Why a link works or not, so the page can tell the patient what to do next."""
        if user is None or not token:
            return LinkState.INVALID
        issued_at = self.issued_at(token)
        if issued_at is None:
            return LinkState.INVALID
        timestamp = self._num_seconds(issued_at)
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return LinkState.USED if user.has_usable_password() else LinkState.INVALID
        if self._now() - issued_at > self.valid_for:
            return LinkState.EXPIRED
        return LinkState.VALID

    def issued_at(self, token: str) -> dt.datetime | None:
        """When the token was made (naive UTC), as written in it, or None when it is malformed."""
        stamp, _dash, _signature = token.partition("-")
        try:
            return _EPOCH + dt.timedelta(seconds=base36_to_int(stamp))
        except (ValueError, OverflowError):
            return None


portal_invitation_tokens = PortalInvitationTokens()


def invitation_link(user: User) -> tuple[str, dt.datetime]:
    """A new one-time link for the login, as an absolute URL, and the moment it stops working."""
    token = portal_invitation_tokens.make_token(user)
    path = reverse(
        "accounts:portal_invitation", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}
    )
    return f"{settings.SITE_URL}{path}", clock.now() + VALID_FOR


class InvitationNoLongerValid(Exception):
    """The link stopped working between showing the form and saving it (used in another tab)."""


@transaction.atomic
def portal_invitation_accept(*, actor: Actor, user: User, token: str, password: str) -> User:
    """Set the patient's first password with their invitation link. The link works once.

    The login is locked and the link checked again under the lock, so two tabs submitting the same
    link at once set one password, not two. `password` has passed the validators already (the form).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.kind != AccountKind.PATIENT or portal_invitation_tokens.state(user, token) != LinkState.VALID:
        raise InvitationNoLongerValid()
    user.set_password(password)
    user.save(update_fields=["password"])
    patient_id = getattr(getattr(user, "patient", None), "pk", None)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        patient_id=patient_id,
        detail={"password": "set with a portal invitation"},
    )
    return user
