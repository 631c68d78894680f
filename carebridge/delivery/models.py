"""Messages to send, kept in the database so that none is lost (the outboxes: email, and FHIR to other systems).

A row is written in the same transaction as the change it tells someone about, together with the
task that delivers it; the task worker sends it and records what happened.
"""

from django.db import models

from carebridge.core.fields import new_public_id


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed permanently"
    GIVEN_UP = "given_up", "Given up by an administrator"


# Both outboxes (email and messages to other systems) move through the same states.
DeliveryStatus = EmailStatus


class OutboxEntry(models.Model):
    """What every outbox row has: the message's identity and how its delivery is going.

    Claimed for one attempt at a time (carebridge.delivery.outbox), so the same row is never in two
    attempts at once, and an attempt whose worker died is handed on (carebridge.delivery.workers).
    """

    # Names the message to its receiver (an email's Message-ID), so a copy sent twice (a worker killed
    # after the receiver took it, before the row said so) can be recognised as the same message.
    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    # What the message is about, say `appointment:<public_id>:booked`: the same logical message is
    # queued once however often the code that asks for it runs.
    idempotency_key = models.CharField(max_length=200, unique=True)
    # Kept as a plain reference, like the audit trail's: the delivery record outlives what it mentions.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # While pending: when the next attempt is due, or, while an attempt is in hand, when it is
    # overdue (the worker sending it has died). None once sent or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The task worker (TaskWorker.worker_id) whose attempt is in hand, so that the attempt can be
    # handed on as soon as that worker is known to be dead; empty when no attempt is in hand, or when
    # it was made outside a worker (then only the lease, next_attempt_at, ends it).
    attempt_by = models.CharField(max_length=64, blank=True, default="")
    # Retried (at most every 15 minutes) until sent or an administrator gives it up, rather than
    # failed after a day's attempts: for messages that must arrive, such as referrals.
    until_given_up = models.BooleanField(default=False)
    given_up_by = models.CharField(max_length=200, blank=True)
    given_up_reason = models.TextField(blank=True)

    class Meta:
        abstract = True


class OutboundEmail(OutboxEntry):
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # [{"filename": ..., "content_type": "text/calendar; method=REQUEST", "content": "..."}] for text,
    # or "content_base64" instead of "content" for a binary file (a PDF letter).
    attachments = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "outgoing email"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="outbound_email_status_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_email_due")]

    def __str__(self) -> str:
        return self.idempotency_key


class RemoteEndpoint(models.Model):
    """Another system Carebridge sends FHIR to (another Carebridge, a hospital's own system).

    `name` is how the care apps refer to it (`facility:<public id>` for a facility's system); the token
    is the bearer token that system issued to us, read when each message is sent, so correcting a wrong
    token lets the messages waiting for it through.
    """

    name = models.CharField(max_length=100, unique=True)
    label = models.CharField(max_length=200)  # whose system, in words
    fhir_base = models.URLField(max_length=500)
    token = models.CharField(max_length=500)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "connected system"

    def __str__(self) -> str:
        return f"{self.label} ({self.fhir_base})"


class OutboundFhir(OutboxEntry):
    """A FHIR message to another system. Its body is built when it is sent, from the current state of
    what it is about (`kind` names the builder, `object_id` the record), so a retry after later changes
    sends the latest state, and the receiver ignores a version it has already had."""

    endpoint = models.ForeignKey(RemoteEndpoint, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, db_index=True)
    description = models.CharField(max_length=300)  # what it is, in words for the delivery record
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "outgoing FHIR message"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="outbound_fhir_status_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_fhir_due")]

    def __str__(self) -> str:
        return self.idempotency_key


class TaskWorker(models.Model):
    """A running task worker (`carebridge task-worker`), which writes here every few seconds.

    django-tasks-db marks a task RUNNING when a worker takes it and never looks at it again, so a worker
    killed outright would leave its task (and the message it was sending) held for ever. A worker whose
    heartbeat stops is known dead within seconds, and any other worker closes its task rows and queues
    its work again (carebridge.delivery.workers).
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "task worker"

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
