"""Email to send: queued in the caller's transaction (the outbox), delivered by the task worker.

`email_enqueue()` writes the message row and the task that delivers it inside the transaction of the
change the message announces, so both commit with it or neither does: a booking that rolls back
sends nothing, and one that commits cannot lose its confirmation. The task worker (django-tasks'
database backend) then runs `deliver_email()`, which sends through Django's mail API and, when the
mail server cannot be reached, tries again later with a growing wait (carebridge.delivery.outbox, which
the FHIR outbox shares). A worker killed mid-send has its message sent again, with the same Message-ID,
so mail systems that de-duplicate can recognise it. See docs/mail.md.
"""

import base64
import logging
import re
import smtplib
from collections.abc import Iterable, Mapping
from email import encoders
from email.message import Message
from email.mime.base import MIMEBase

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.constants import OnConflict
from django_tasks import task

from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.refusals import refusals_audited
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotFound, NotPermitted
from carebridge.core.fields import public_id_from
from carebridge.core.roles import Role, role_of
from carebridge.delivery import outbox
from carebridge.delivery.models import EmailStatus, OutboundEmail, OutboundFhir
from carebridge.delivery.remote import deliver_fhir

# How delivery retries (re-exported: the tests and docs name them here).
FIRST_RETRY_DELAY = outbox.FIRST_RETRY_DELAY
LONGEST_RETRY_DELAY = outbox.LONGEST_RETRY_DELAY
MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
ATTEMPT_LEASE = outbox.ATTEMPT_LEASE
OVERDUE_AFTER = outbox.OVERDUE_AFTER
retry_delay = outbox.retry_delay
DELIVER_EMAIL_TASK_PATH = "carebridge.delivery.services.deliver_email"

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^\s<>\"'@,;:]+@[^\s<>\"'@,;:]+")


def email_enqueue(
    *,
    recipient: str,
    subject: str,
    body: str,
    idempotency_key: str,
    attachments: Iterable[Mapping[str, str]] = (),
    patient_id: int | None = None,
    until_given_up: bool = False,
) -> OutboundEmail:
    """Queue a message for delivery, in the caller's transaction.

    The same `idempotency_key` twice gives back the message first queued and queues nothing more,
    whatever else differs: one logical message is sent once. `until_given_up`: retried every 15 minutes
    at most until it is sent or an administrator gives it up (referrals), not failed after a day.
    """
    validate_email(recipient)
    attachment_list = [_checked_attachment(attachment) for attachment in attachments]
    # savepoint=False: inside the caller's transaction this block adds no SAVEPOINT of its own (nothing
    # in it is caught); outside one it is the transaction.
    with transaction.atomic(savepoint=False):
        now = clock.now()
        email = OutboundEmail(
            recipient=recipient,
            subject=subject,
            body=body,
            idempotency_key=idempotency_key,
            attachments=attachment_list,
            patient_id=patient_id,
            until_given_up=until_given_up,
            status=EmailStatus.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
        # Inserted straight away, not looked for first: almost every message is new, and the unique key
        # says when it is not (queued before by us, or by another transaction that has committed). ON
        # CONFLICT DO NOTHING lets the database say so by returning no key, where catching an
        # IntegrityError would need a savepoint around the INSERT: two statements more per message.
        if not _inserted_unless_queued(email):
            return OutboundEmail.objects.get(idempotency_key=idempotency_key)
        # The task row is written through the same database connection, so it commits (or rolls
        # back) with the message: no worker can see it before the caller's transaction commits.
        deliver_email.enqueue(email.pk)
        return email


def _inserted_unless_queued(email: OutboundEmail) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id (PostgreSQL; SQLite 3.35 and later): whether the
    row went in, its key set if so. Through the ORM's own insert (QuerySet._insert, what save() calls),
    because bulk_create(ignore_conflicts=True) does not hand back the key."""
    meta = OutboundEmail._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    [returned] = OutboundEmail._base_manager._insert(  # type: ignore[attr-defined]
        [email], fields=fields, returning_fields=meta.db_returning_fields, on_conflict=OnConflict.IGNORE
    )
    if returned is None:
        return False
    for value, field in zip(returned, meta.db_returning_fields, strict=True):
        setattr(email, field.attname, value)
    email._state.adding = False
    email._state.db = OutboundEmail._base_manager.db
    return True


def _checked_attachment(attachment: Mapping[str, str]) -> dict[str, str]:
    content_key = "content_base64" if "content_base64" in attachment else "content"
    keys = ("filename", "content_type", content_key)
    if not all(isinstance(attachment.get(key), str) for key in keys):
        raise ValueError("An attachment needs a filename, a content_type and its content (text, or content_base64)")
    if content_key == "content_base64":
        base64.b64decode(attachment[content_key], validate=True)  # binascii.Error (a ValueError) if not
    return {key: attachment[key] for key in keys}


@task()
def deliver_email(email_id: int) -> str:
    """Send one queued message. Safe to run more than once: a sent message is not sent again."""
    email = outbox.claim(OutboundEmail, email_id)
    if email is None:
        return "nothing to do"
    try:
        _send(email)
    except (smtplib.SMTPException, OSError) as error:
        # OSError covers a server that is down or unreachable (refused, timed out, TLS failed).
        description, permanent = describe_failure(error)
        return outbox.record_failure(
            OutboundEmail, email_id, deliver_email, description=description, permanent=permanent
        )
    outbox.record_sent(OutboundEmail, email_id)
    return "sent"


def _send(email: OutboundEmail) -> None:
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.recipient],
        headers={"Message-ID": message_id(email)},
    )
    for attachment in email.attachments:
        message.attach(_mime_part(attachment))
    message.send(fail_silently=False)


def message_id(email: OutboundEmail) -> str:
    """The same for every attempt at one message, so a duplicate is recognisably the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "carebridge.localhost"
    return f"<{email.public_id}@{domain}>"


def _mime_part(attachment: Mapping[str, str]) -> MIMEBase:
    # Built here rather than by EmailMessage.attach(filename, content, type) so that parameters of the
    # type survive (text/calendar needs `method=`) and the bytes arrive exactly as written (base64
    # keeps the CRLF line endings that iCalendar requires).
    header = Message()
    header["Content-Type"] = attachment["content_type"]
    params = dict((header.get_params() or [])[1:])
    if header.get_content_maintype() == "text":
        params.setdefault("charset", "utf-8")
    # typeshed cannot tell that no key of params is `policy`.
    part = MIMEBase(header.get_content_maintype(), header.get_content_subtype(), **params)  # type: ignore[arg-type]
    if "content_base64" in attachment:
        part.set_payload(base64.b64decode(attachment["content_base64"]))
    else:
        part.set_payload(attachment["content"].encode("utf-8"))
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def describe_failure(error: smtplib.SMTPException | OSError) -> tuple[str, bool]:
    """What went wrong, in words for the delivery record, and whether trying again is pointless.

    Only a recipient every server answer refuses outright (5xx) is permanent. Anything else, including
    a wrong password, may be put right by whoever runs the mail server, so it is retried. Addresses are
    blanked out: the delivery record is read by people who need not see them.
    """
    permanent = False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        permanent = bool(answers) and all(code >= 500 for code, _text in answers)
        text = "The mail server refused the recipient: " + "; ".join(
            f"{code} {_text_of(reply)}" for code, reply in answers
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"The mail server answered {error.smtp_code} {_text_of(error.smtp_error)}"
    elif isinstance(error, smtplib.SMTPException):
        text = f"Mail server problem ({type(error).__name__}): {error}"
    else:
        text = f"Could not reach the mail server ({type(error).__name__}): {error.strerror or error}"
    return _ADDRESS.sub("<address>", text)[:2000], permanent


def _text_of(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def email_release_attempts(*, lost_workers: set[str], email_ids: set[int]) -> int:
    """Queue again the messages whose attempt died with its worker (carebridge.delivery.outbox)."""
    return outbox.release_attempts(OutboundEmail, deliver_email, lost_workers=lost_workers, entry_ids=email_ids)


def email_requeue_overdue() -> int:
    """Queue again every pending message whose attempt or retry is long overdue; how many. Run it every
    few minutes (`carebridge deliver_overdue_mail`)."""
    return outbox.requeue_overdue(OutboundEmail, deliver_email)


def email_is_valid_address(address: str) -> bool:
    """Whether a stored address can be sent to; callers skip a message rather than fail their change."""
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


# --- The administrator's hand on delivery ----------------------------------------------------------------


def _outbox_model(kind: str) -> type[OutboundEmail] | type[OutboundFhir]:
    if kind == "email":
        return OutboundEmail
    if kind == "fhir":
        return OutboundFhir
    raise NotFound("No such message.")


def _require_system_administrator(actor: Actor) -> None:
    if role_of(actor.user) != Role.SYSTEM_ADMIN:
        raise NotPermitted("Only the system administrator gives up or retries a message's delivery.")


@refusals_audited(AuditObject.DELIVERY)
@transaction.atomic
def delivery_give_up(*, actor: Actor, kind: str, public_id: str, reason: str) -> OutboundEmail | OutboundFhir:
    """Stop trying to deliver a message that cannot arrive (the receiver is gone for good), with the
    reason, which the referral's page shows beside the channel. Audited."""
    _require_system_administrator(actor)
    model = _outbox_model(kind)
    key = public_id_from(public_id)
    entry = model.objects.select_for_update().filter(public_id=key).first() if key is not None else None
    if entry is None:
        raise NotFound("No such message.")
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why delivery is given up.", fields={"reason": "Say why delivery is given up."})
    if entry.status not in (EmailStatus.PENDING, EmailStatus.FAILED):
        raise Conflict(f"This message is {entry.get_status_display().lower()}: there is nothing to give up.")
    outbox.give_up(entry, by=_who(actor), reason=reason[:2000])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.DELIVERY,
        object_id=str(entry.public_id),
        patient_id=entry.patient_id,
        detail={"operation": "give_up", "kind": kind, "key": entry.idempotency_key, "reason": reason[:2000]},
    )
    return entry


@refusals_audited(AuditObject.DELIVERY)
@transaction.atomic
def delivery_retry_now(*, actor: Actor, kind: str, public_id: str) -> OutboundEmail | OutboundFhir:
    """Try a failed or waiting message again now (say, once the receiver is put right). Audited."""
    _require_system_administrator(actor)
    model = _outbox_model(kind)
    key = public_id_from(public_id)
    entry = model.objects.select_for_update().filter(public_id=key).first() if key is not None else None
    if entry is None:
        raise NotFound("No such message.")
    if entry.status not in (EmailStatus.PENDING, EmailStatus.FAILED):
        raise Conflict(f"This message is {entry.get_status_display().lower()}: there is nothing to retry.")
    task = deliver_email if kind == "email" else deliver_fhir
    outbox.retry_now(entry, task)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=AuditObject.DELIVERY,
        object_id=str(entry.public_id),
        patient_id=entry.patient_id,
        detail={"operation": "retry_now", "kind": kind, "key": entry.idempotency_key},
    )
    return entry


def _who(actor: Actor) -> str:
    user = actor.user
    return (user.get_full_name() or user.username) if user is not None else "Carebridge"
