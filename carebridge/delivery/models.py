"""Messages to send, kept in the database so that none is lost (the outbox).

A row is written in the same transaction as the change it tells someone about, together with the
task that delivers it; the task worker sends it and records what happened.
"""

from django.db import models

from carebridge.core.fields import new_public_id


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed permanently"


class OutboundEmail(models.Model):
    # Names the message in its Message-ID header, so a copy sent twice (a worker killed after the
    # server took it, before the row said so) can be recognised as the same message by the receiver.
    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    # What the message is about, say `appointment:<public_id>:booked`: the same logical message is
    # queued once however often the code that asks for it runs.
    idempotency_key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # [{"filename": ..., "content_type": "text/calendar; method=REQUEST", "content": "..."}]; text only.
    attachments = models.JSONField(default=list, blank=True)
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
