"""A patient who has forgotten their portal password sets a new one with a link emailed to them.

Patients only. Staff, clinicians, the privacy officer and the system administrator open many people's
records with their password, so their mailbox must not be enough to take over their login: they ask
their manager for a new set-password link (organisations.services.staff_login_invite), who knows them.

The link carries a token from Django's password-reset machinery, with a salt of its own and
Carebridge's clock (as the portal invitation's does, `invitations.py`): a signature over the login's
password hash and last sign-in, so it works once, stops working when the password changes or the
patient signs in, and after `settings.PASSWORD_RESET_TIMEOUT` in any case.

The request page answers the same whatever address is typed, so it does not tell anyone whether an
address has a Carebridge login. The email goes through the outbox, so it is retried and never lost;
each login is sent at most one email per `RESEND_AFTER`, and `DAILY_LIMIT` a day, so the page cannot be
used to flood someone's mailbox.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from carebridge.accounts.invitations import InvitationNoLongerValid, LinkState, PortalInvitationTokens
from carebridge.accounts.models import AccountKind, User
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.delivery.models import OutboundEmail
from carebridge.delivery.services import email_enqueue, email_is_valid_address

RESEND_AFTER = dt.timedelta(minutes=5)
DAILY_LIMIT = 6
_KEY_PREFIX = "password-reset"


class PasswordResetTokens(PortalInvitationTokens):
    key_salt = "carebridge.accounts.password_reset.PasswordResetTokens"

    @property
    def valid_for(self) -> dt.timedelta:
        return dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    def state(self, user: User | None, token: str | None) -> LinkState:
        """As the invitation's, except that a login being reset always has a password, so a link that
        no longer matches it has been used (or the password changed since): USED."""
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
            return LinkState.USED
        if self._now() - issued_at > self.valid_for:
            return LinkState.EXPIRED
        return LinkState.VALID


password_reset_tokens = PasswordResetTokens()


def _resettable(user: User) -> bool:
    """A patient's login in use: open, and with a password of its own (an invitation never accepted
    is the surgery's to send again, not ours to turn into a way in)."""
    return user.kind == AccountKind.PATIENT and user.is_active and user.has_usable_password()


def address_fingerprint(address: str) -> str:
    """An address typed on the request page, for the audit trail without the address itself: the same
    address always gives the same fingerprint (so repeated tries can be seen), and it cannot be read back."""
    return salted_hmac(_KEY_PREFIX, address.strip().lower()).hexdigest()[:20]


def password_reset_link(user: User) -> tuple[str, dt.datetime]:
    """A new one-time link for the login, as an absolute URL, and the moment it stops working."""
    token = password_reset_tokens.make_token(user)
    path = reverse(
        "accounts:password_reset_set", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}
    )
    return f"{settings.SITE_URL}{path}", clock.now() + password_reset_tokens.valid_for


@transaction.atomic
def password_reset_request(*, actor: Actor, address: str) -> int:
    """Email a reset link to each patient login with this address (family members may share one).

    Returns how many emails were queued, for tests; the page never says. Every request is audited: by
    login when the address has one, and otherwise by a fingerprint of the address, never the address.
    """
    address = address.strip()
    users = (
        [
            user
            for user in User.objects.select_for_update().filter(email__iexact=address, kind=AccountKind.PATIENT)
            if _resettable(user)
        ]
        if address and email_is_valid_address(address)
        else []
    )
    if not users:
        audit_record(
            actor=actor,
            action=AuditAction.SEARCH,
            object_type=AuditObject.USER,
            reason="Password reset requested",
            detail={"password_reset": "no patient login has this address", "address": address_fingerprint(address)},
        )
        return 0
    queued = 0
    for user in users:
        outcome = _send_reset_email(user)
        queued += outcome == "sent"
        audit_record(
            actor=actor,
            action=AuditAction.SEARCH,
            object_type=AuditObject.USER,
            object_id=str(user.pk),
            patient_id=getattr(getattr(user, "patient", None), "pk", None),
            reason="Password reset requested",
            detail={"password_reset": outcome},
        )
    return queued


def _send_reset_email(user: User) -> str:
    """Queue the email, unless this login was sent one very recently or too many today. What happened."""
    now = clock.now()
    earlier = OutboundEmail.objects.filter(
        idempotency_key__startswith=f"{_KEY_PREFIX}:{user.pk}:", created_at__gt=now - dt.timedelta(days=1)
    ).values_list("created_at", flat=True)
    if any(sent_at > now - RESEND_AFTER for sent_at in earlier):
        return "not sent: one was sent less than 5 minutes ago"
    if len(earlier) >= DAILY_LIMIT:
        return f"not sent: {DAILY_LIMIT} sent in the last 24 hours"
    link, expires_at = password_reset_link(user)
    # The time bucket in the key makes two requests racing within the same few minutes one email.
    bucket = int(now.timestamp() // RESEND_AFTER.total_seconds())
    local_expiry = expires_at.astimezone(clock.LONDON)
    email_enqueue(
        recipient=user.email,
        subject="Reset your Carebridge password",
        patient_id=getattr(getattr(user, "patient", None), "pk", None),
        idempotency_key=f"{_KEY_PREFIX}:{user.pk}:{bucket}",
        body="\n".join(
            [
                f"Dear {user.get_full_name() or user.username},",
                "",
                "Someone, probably you, asked to reset the password of your Carebridge account:",
                "",
                f"    {user.username}",
                "",
                "To choose a new password, use this link:",
                "",
                link,
                "",
                f"The link works once, until {local_expiry:%H:%M} on {local_expiry:%A} {local_expiry.day} "
                f"{local_expiry:%B %Y}.",
                "",
                "If you did not ask for this, you can ignore this email: your password has not changed.",
                "",
                "Carebridge",
                "This mailbox is not read, so please do not reply to this email.",
                "",
            ]
        ),
    )
    return "sent"


@transaction.atomic
def password_reset_complete(*, actor: Actor, user: User, token: str, password: str) -> User:
    """Set the new password with the link. The link works once.

    The login is locked and the link checked again under the lock, so two tabs submitting the same link
    at once set one password. `password` has passed Django's validators already (the form). Changing the
    password ends the login's other sessions (Django checks each session against the password hash).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not _resettable(user) or password_reset_tokens.state(user, token) != LinkState.VALID:
        raise InvitationNoLongerValid()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(user.pk),
        patient_id=getattr(getattr(user, "patient", None), "pk", None),
        reason="Password reset by email",
        detail={"password": "set with a password reset link"},
    )
    return user
