"""What both outboxes (email, and FHIR to other systems) share: one attempt at a time, the record of
each attempt, retries with a growing wait, handing on a dead worker's attempt, and giving up.

An attempt is claimed in a short transaction naming the worker that makes it; the message is sent
outside any transaction (a slow receiver must not hold database locks); the outcome is recorded in a
second short transaction. Delivery is therefore at least once: a worker killed after the receiver took
the message, before the row said so, leaves it pending, and it is sent again with the same identity
(an email's Message-ID, a FHIR message's version) so the receiver can tell it is the same message.
"""

import datetime as dt
import logging
from typing import Any, TypeVar

from django.db import transaction
from django_tasks.base import Task

from carebridge.core import clock
from carebridge.delivery import workers
from carebridge.delivery.models import DeliveryStatus, OutboxEntry

# The first retry waits 30 seconds, each later one twice as long as the one before. Ordinary mail
# waits at most six hours and stops after the 13th attempt, about 20 hours after the first; a message
# that must arrive (`until_given_up`) is tried at least every 15 minutes until it does or an
# administrator gives it up.
FIRST_RETRY_DELAY = dt.timedelta(seconds=30)
LONGEST_RETRY_DELAY = dt.timedelta(hours=6)
LONGEST_RETRY_DELAY_UNTIL_GIVEN_UP = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 13
# An attempt in hand is given this long (far beyond any send's timeout). Within a task worker, a dead
# worker's attempt is handed on as soon as its heartbeat stops (workers.WORKER_LOST_AFTER); the lease is
# the backstop for what no heartbeat covers, after which `requeue_overdue()` queues it again.
ATTEMPT_LEASE = dt.timedelta(minutes=10)
OVERDUE_AFTER = dt.timedelta(minutes=15)

logger = logging.getLogger(__name__)

# Rows are read through `model._default_manager`: the abstract OutboxEntry declares no `objects` for mypy.
Entry = TypeVar("Entry", bound=OutboxEntry)


# A django-tasks task taking the row's primary key.
DeliveryTask = Task[[int], str]


def retry_delay(attempts: int, *, until_given_up: bool = False) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt before the next one."""
    longest = LONGEST_RETRY_DELAY_UNTIL_GIVEN_UP if until_given_up else LONGEST_RETRY_DELAY
    # Capped before doubling too far: 2 ** attempts grows without bound for a message retried for days.
    return min(FIRST_RETRY_DELAY * 2 ** min(attempts - 1, 20), longest)


def claim(model: type[Entry], pk: int) -> Entry | None:
    """Take the row for one attempt, or None when it is sent, given up, or in another attempt."""
    with transaction.atomic():
        entry = model._default_manager.select_for_update().filter(pk=pk).first()
        if entry is None or entry.status != DeliveryStatus.PENDING:
            return None
        now = clock.now()
        if entry.next_attempt_at is not None and entry.next_attempt_at > now:
            # Another attempt holds it, or its retry is not due yet and its own task will come.
            return None
        entry.attempts += 1
        entry.next_attempt_at = now + ATTEMPT_LEASE
        entry.attempt_by = workers.current_worker_id() or ""
        entry.save(update_fields=["attempts", "next_attempt_at", "attempt_by"])
        return entry


def record_sent(model: type[OutboxEntry], pk: int, **also: Any) -> None:
    with transaction.atomic():
        entry = model._default_manager.select_for_update().get(pk=pk)
        if entry.status not in (DeliveryStatus.PENDING, DeliveryStatus.GIVEN_UP):
            return
        # Given up while this attempt was in hand, and it arrived after all: the record says it was sent
        # (the reason it was given up is kept beside it).
        entry.status = DeliveryStatus.SENT
        entry.sent_at = clock.now()
        entry.next_attempt_at = None
        entry.attempt_by = ""
        # last_error is kept: with sent_at, it tells why the message arrived later than it was queued.
        for name, value in also.items():
            setattr(entry, name, value)
        entry.save(update_fields=["status", "sent_at", "next_attempt_at", "attempt_by", *also])


def record_failure(
    model: type[OutboxEntry], pk: int, task: DeliveryTask, *, description: str, permanent: bool, **also: Any
) -> str:
    """Keep what went wrong and queue the next attempt (with the record, so a retry exists exactly when
    the row says one is due), or fail the row for good. Returns what happened, for the task's result."""
    with transaction.atomic():
        entry = model._default_manager.select_for_update().get(pk=pk)
        if entry.status != DeliveryStatus.PENDING:
            return "given up meanwhile"
        entry.last_error = description
        entry.attempt_by = ""
        for name, value in also.items():
            setattr(entry, name, value)
        if permanent or (not entry.until_given_up and entry.attempts >= MAX_ATTEMPTS):
            entry.status = DeliveryStatus.FAILED
            entry.next_attempt_at = None
            outcome = "failed permanently"
        else:
            entry.next_attempt_at = clock.now() + retry_delay(entry.attempts, until_given_up=entry.until_given_up)
            task.using(run_after=entry.next_attempt_at).enqueue(entry.pk)
            outcome = "retry queued"
        entry.save(update_fields=["status", "last_error", "next_attempt_at", "attempt_by", *also])
    # The row's public ID and the description only: no address, no content.
    logger.warning(
        "%s %s, attempt %d: %s (%s)", model._meta.verbose_name, entry.public_id, entry.attempts, description, outcome
    )
    return outcome


def release_attempts(
    model: type[OutboxEntry], task: DeliveryTask, *, lost_workers: set[str], entry_ids: set[int]
) -> int:
    """Queue again, now, the rows whose attempt died with its worker; how many. In the caller's
    transaction (carebridge.delivery.workers.work_recover_lost).

    `lost_workers`: workers known dead; every pending row whose attempt one of them held is queued.
    `entry_ids`: rows whose delivery task was closed with its worker; each is queued unless an attempt by
    a live worker holds it, or it waits for a retry that has a task of its own.
    """
    now = clock.now()
    candidates = model._default_manager.select_for_update().filter(status=DeliveryStatus.PENDING)
    held = set(candidates.filter(attempt_by__in=lost_workers).values_list("pk", flat=True)) if lost_workers else set()
    orphaned = set(
        candidates.filter(pk__in=entry_ids, attempt_by="", next_attempt_at__lte=now).values_list("pk", flat=True)
    )
    released = sorted(held | orphaned)
    model._default_manager.filter(pk__in=released).update(next_attempt_at=now, attempt_by="")
    for pk in released:
        task.enqueue(pk)
    return len(released)


def requeue_overdue(model: type[OutboxEntry], task: DeliveryTask) -> int:
    """Queue again every pending row whose attempt or retry is long overdue; how many (the backstop
    behind the heartbeats). A row queued twice is still sent once: the second task finds it sent, or in
    another attempt's hands."""
    now = clock.now()
    with transaction.atomic():
        overdue = list(
            model._default_manager.select_for_update()
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=now - OVERDUE_AFTER)
            .values_list("pk", flat=True)
        )
        model._default_manager.filter(pk__in=overdue).update(next_attempt_at=now, attempt_by="")
        for pk in overdue:
            task.enqueue(pk)
    return len(overdue)


def give_up(entry: OutboxEntry, *, by: str, reason: str) -> OutboxEntry:
    """Stop trying to deliver `entry` (pending, or failed). In the caller's transaction, which audits it."""
    entry.status = DeliveryStatus.GIVEN_UP
    entry.next_attempt_at = None
    entry.given_up_by = by
    entry.given_up_reason = reason
    entry.save(update_fields=["status", "next_attempt_at", "given_up_by", "given_up_reason"])
    return entry


def retry_now(entry: OutboxEntry, task: DeliveryTask) -> OutboxEntry:
    """Try a failed (or waiting) row again now. In the caller's transaction."""
    entry.status = DeliveryStatus.PENDING
    entry.next_attempt_at = clock.now()
    entry.attempt_by = ""
    entry.save(update_fields=["status", "next_attempt_at", "attempt_by"])
    task.enqueue(entry.pk)
    return entry
