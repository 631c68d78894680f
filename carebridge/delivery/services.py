"""Email to send: queued in the caller's transaction (the outbox), delivered by the task worker.

`email_enqueue()` writes the message row and the task that delivers it inside the transaction of the
change the message announces, so both commit with it or neither does: a booking that rolls back
sends nothing, and one that commits cannot lose its confirmation. The task worker (django-tasks'
database backend) then runs `deliver_email()`, which sends through Django's mail API and, when the
mail server cannot be reached, tries again later with a growing wait (see `retry_delay`).

Delivery is at least once. An attempt is claimed in a short transaction, naming the worker that makes
it, the message is sent outside any transaction (a slow mail server must not hold database locks), and
the outcome is recorded in a second short transaction. A worker killed between the server accepting the
message and that record leaves the message pending; once its heartbeat stops, another worker queues it
again (`email_release_attempts()`, called from carebridge.delivery.workers) and it is sent a second
time, with the same Message-ID, so mail systems that de-duplicate can recognise it. See docs/mail.md.
"""

import datetime as dt
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
from django.db import IntegrityError, transaction
from django_tasks import task

from carebridge.core import clock
from carebridge.delivery import workers
from carebridge.delivery.models import EmailStatus, OutboundEmail

# The first retry waits 30 seconds, each later one twice as long as the one before, never more than
# six hours; the 13th attempt is the last, about 20 hours after the first.
FIRST_RETRY_DELAY = dt.timedelta(seconds=30)
LONGEST_RETRY_DELAY = dt.timedelta(hours=6)
MAX_ATTEMPTS = 13
# An attempt in hand is given this long (far beyond EMAIL_TIMEOUT). Within a task worker, a dead
# worker's attempt is handed on as soon as its heartbeat stops (workers.WORKER_LOST_AFTER); the lease is
# the backstop for what no heartbeat covers (an attempt made outside a worker, a task row lost), after
# which `email_requeue_overdue()` queues the message again.
ATTEMPT_LEASE = dt.timedelta(minutes=10)
OVERDUE_AFTER = dt.timedelta(minutes=15)
DELIVER_EMAIL_TASK_PATH = "carebridge.delivery.services.deliver_email"

logger = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^\s<>\"'@,;:]+@[^\s<>\"'@,;:]+")


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt before the next one."""
    return min(FIRST_RETRY_DELAY * 2 ** (attempts - 1), LONGEST_RETRY_DELAY)


def email_enqueue(
    *,
    recipient: str,
    subject: str,
    body: str,
    idempotency_key: str,
    attachments: Iterable[Mapping[str, str]] = (),
    patient_id: int | None = None,
) -> OutboundEmail:
    """Queue a message for delivery, in the caller's transaction.

    The same `idempotency_key` twice gives back the message first queued and queues nothing more,
    whatever else differs: one logical message is sent once.
    """
    validate_email(recipient)
    attachment_list = [_checked_attachment(attachment) for attachment in attachments]
    with transaction.atomic():
        existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        now = clock.now()
        email = OutboundEmail(
            recipient=recipient,
            subject=subject,
            body=body,
            idempotency_key=idempotency_key,
            attachments=attachment_list,
            patient_id=patient_id,
            status=EmailStatus.PENDING,
            created_at=now,
            next_attempt_at=now,
        )
        try:
            with transaction.atomic():
                email.save()
        except IntegrityError:
            # Another transaction queued the same message first and has committed it since.
            return OutboundEmail.objects.get(idempotency_key=idempotency_key)
        # The task row is written through the same database connection, so it commits (or rolls
        # back) with the message: no worker can see it before the caller's transaction commits.
        deliver_email.enqueue(email.pk)
        return email


def _checked_attachment(attachment: Mapping[str, str]) -> dict[str, str]:
    missing = {"filename", "content_type", "content"} - set(attachment)
    if missing or not all(isinstance(attachment[key], str) for key in ("filename", "content_type", "content")):
        raise ValueError("An attachment needs a filename, a content_type and text content")
    return {key: attachment[key] for key in ("filename", "content_type", "content")}


@task()
def deliver_email(email_id: int) -> str:
    """Send one queued message. Safe to run more than once: a sent message is not sent again."""
    email = _claim(email_id)
    if email is None:
        return "nothing to do"
    try:
        _send(email)
    except (smtplib.SMTPException, OSError) as error:
        # OSError covers a server that is down or unreachable (refused, timed out, TLS failed).
        return _record_failure(email_id, error)
    _record_sent(email_id)
    return "sent"


def _claim(email_id: int) -> OutboundEmail | None:
    """Take the message for one attempt, or None when it is sent, given up, or in another attempt."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.PENDING:
            return None
        now = clock.now()
        if email.next_attempt_at is not None and email.next_attempt_at > now:
            # Another attempt holds it, or its retry is not due yet and its own task will come.
            return None
        email.attempts += 1
        email.next_attempt_at = now + ATTEMPT_LEASE
        email.attempt_by = workers.current_worker_id() or ""
        email.save(update_fields=["attempts", "next_attempt_at", "attempt_by"])
        return email


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
    part.set_payload(attachment["content"].encode("utf-8"))
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def _record_sent(email_id: int) -> None:
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        email.status = EmailStatus.SENT
        email.sent_at = clock.now()
        email.next_attempt_at = None
        email.attempt_by = ""
        email.save(update_fields=["status", "sent_at", "next_attempt_at", "attempt_by"])


def _record_failure(email_id: int, error: smtplib.SMTPException | OSError) -> str:
    description, permanent = describe_failure(error)
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        email.last_error = description
        email.attempt_by = ""
        if permanent or email.attempts >= MAX_ATTEMPTS:
            email.status = EmailStatus.FAILED
            email.next_attempt_at = None
            outcome = "failed permanently"
        else:
            email.next_attempt_at = clock.now() + retry_delay(email.attempts)
            # Queued with the record of this failure, so a retry exists exactly when the row says one is due.
            deliver_email.using(run_after=email.next_attempt_at).enqueue(email.pk)
            outcome = "retry queued"
        email.save(update_fields=["status", "last_error", "next_attempt_at", "attempt_by"])
    # The row's public ID and the blanked description only: no address, no content.
    logger.warning("Email %s, attempt %d: %s (%s)", email.public_id, email.attempts, description, outcome)
    return outcome


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
    """Queue again, now, the messages whose attempt died with its worker; how many. In the caller's
    transaction (carebridge.delivery.workers.work_recover_lost).

    `lost_workers`: workers known dead; every pending message whose attempt one of them held is queued.
    `email_ids`: messages whose delivery task was closed with its worker; each is queued unless an
    attempt by a live worker holds it, or it waits for a retry that has a task of its own.
    """
    now = clock.now()
    candidates = OutboundEmail.objects.select_for_update().filter(status=EmailStatus.PENDING)
    held = set(candidates.filter(attempt_by__in=lost_workers).values_list("pk", flat=True)) if lost_workers else set()
    orphaned = set(
        candidates.filter(pk__in=email_ids, attempt_by="", next_attempt_at__lte=now).values_list("pk", flat=True)
    )
    released = sorted(held | orphaned)
    OutboundEmail.objects.filter(pk__in=released).update(next_attempt_at=now, attempt_by="")
    for email_id in released:
        deliver_email.enqueue(email_id)
    return len(released)


def email_requeue_overdue() -> int:
    """Queue again every pending message whose attempt or retry is long overdue; how many.

    The backstop behind the workers' heartbeats: a message whose task was lost some other way (an
    attempt made outside a task worker that died, a task row removed by hand) would otherwise wait for
    ever. Run it every few minutes (`carebridge deliver_overdue_mail`). A message queued twice is still
    sent once: the second task finds it sent, or in another attempt's hands.
    """
    now = clock.now()
    with transaction.atomic():
        overdue = list(
            OutboundEmail.objects.select_for_update()
            .filter(status=EmailStatus.PENDING, next_attempt_at__lt=now - OVERDUE_AFTER)
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=overdue).update(next_attempt_at=now, attempt_by="")
        for email_id in overdue:
            deliver_email.enqueue(email_id)
    return len(overdue)


def email_is_valid_address(address: str) -> bool:
    """Whether a stored address can be sent to; callers skip a message rather than fail their change."""
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True
