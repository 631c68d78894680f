"""Task workers that die cost seconds: heartbeats, and taking over a dead worker's work.

django-tasks-db (0.13) marks a task RUNNING when a worker claims it and offers nothing for a worker that
never comes back: its task row stays RUNNING for ever and nothing runs it again. So each
`carebridge task-worker` keeps a row in `TaskWorker` and, from a thread of its own, writes the time to
it every HEARTBEAT_SECONDS (while a task runs too: a slow mail server is not a dead worker). On the same
beat it looks for workers that have been silent for WORKER_LOST_AFTER and takes over what they held
(`work_recover_lost`):

- their RUNNING task rows are closed as FAILED, with an error saying the worker was lost, so no row is
  left RUNNING and nothing waits on one;
- the email or FHIR message each of them was sending (`attempt_by`), or was about to send, is queued
  again at once, with the same identity (delivery stays at least once: see docs/mail.md).

With any worker running, a killed worker's message is sent again about half a minute later (its last
beat, plus WORKER_LOST_AFTER, plus at most one beat of the worker that notices). A task row claimed by a
worker that never wrote a heartbeat (django-tasks-db's own `db_worker`) cannot be judged that way; it is
closed only once it has been RUNNING for UNKNOWN_WORKER_LOST_AFTER, beyond any task Carebridge runs,
by the sweep (`carebridge deliver_overdue_mail`).
"""

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass

from django.db import connection, transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from carebridge.core import clock
from carebridge.delivery.models import TaskWorker

HEARTBEAT_SECONDS = 5
# Four missed beats: a worker this silent is dead (or so stuck that its work must go to another).
WORKER_LOST_AFTER = dt.timedelta(seconds=20)
UNKNOWN_WORKER_LOST_AFTER = dt.timedelta(minutes=25)
WORKER_LOST_ERROR = "carebridge.delivery.workers.WorkerLost"

logger = logging.getLogger(__name__)

# The worker this process is, once `carebridge task-worker` has started; None anywhere else (the web
# server, a test running tasks in-process), where an email attempt is ended by its lease alone.
_current_worker_id: str | None = None


class WorkerLost(Exception):
    """Recorded on a task row whose worker stopped beating before the task finished."""


def current_worker_id() -> str | None:
    return _current_worker_id


@dataclass(frozen=True)
class Recovery:
    workers: list[str]
    tasks_closed: int
    emails_queued: int  # email and FHIR messages queued again


def worker_beat(*, worker_id: str) -> None:
    """This worker is alive (a row for it is made on the first beat, and again if it was given up)."""
    now = clock.now()
    updated = TaskWorker.objects.filter(worker_id=worker_id).update(last_beat_at=now)
    if not updated:
        TaskWorker.objects.update_or_create(
            worker_id=worker_id,
            defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "last_beat_at": now},
            create_defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": now,
                "last_beat_at": now,
            },
        )


def worker_leave(*, worker_id: str) -> Recovery:
    """A worker stopping in good order: anything it still holds is handed on now, not after a timeout."""
    TaskWorker.objects.filter(worker_id=worker_id).update(last_beat_at=clock.now() - WORKER_LOST_AFTER * 2)
    return work_recover_lost(only=worker_id)


def work_recover_lost(*, only: str | None = None, unknown_workers: bool = False) -> Recovery:
    """Close the task rows of workers that stopped beating and queue again the email they held.

    `unknown_workers`: also close rows RUNNING for UNKNOWN_WORKER_LOST_AFTER under a worker that keeps
    no heartbeat. That reads every RUNNING row, so the sweep command does it, not every beat.
    Safe to run in every worker at once: each dead worker's row is locked by the one that handles it
    (others skip it), and each task row and email changes state once.
    """
    from carebridge.delivery.remote import DELIVER_FHIR_TASK_PATH, fhir_release_attempts
    from carebridge.delivery.services import DELIVER_EMAIL_TASK_PATH, email_release_attempts

    now = clock.now()
    with transaction.atomic():
        silent = TaskWorker.objects.filter(last_beat_at__lt=now - WORKER_LOST_AFTER)
        if only is not None:
            silent = silent.filter(worker_id=only)
        lost = set(silent.select_for_update(skip_locked=True).values_list("worker_id", flat=True))
        if not lost and not unknown_workers:
            return Recovery(workers=[], tasks_closed=0, emails_queued=0)
        known = set(TaskWorker.objects.values_list("worker_id", flat=True)) - lost
        closed = 0
        email_ids: set[int] = set()
        fhir_ids: set[int] = set()
        running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
            "pk", "worker_ids", "started_at", "task_path", "args_kwargs"
        )
        too_long_ago = now - UNKNOWN_WORKER_LOST_AFTER
        for pk, worker_ids, started_at, task_path, args_kwargs in running:
            holder = worker_ids[-1] if worker_ids else ""
            if holder in lost:
                reason = f"The task worker {holder} stopped beating before this task finished (killed or lost)."
            elif unknown_workers and holder not in known and started_at and started_at < too_long_ago:
                reason = f"The task worker {holder or '(unknown)'} kept no heartbeat and this task ran too long."
            else:
                continue
            # Only the transaction that moves it off RUNNING goes on to hand its work on.
            if not DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=WORKER_LOST_ERROR,
                traceback=f"{WORKER_LOST_ERROR}: {reason}\n",
                return_value=None,
            ):
                continue
            closed += 1
            if task_path == DELIVER_EMAIL_TASK_PATH and args_kwargs.get("args"):
                email_ids.add(args_kwargs["args"][0])
            elif task_path == DELIVER_FHIR_TASK_PATH and args_kwargs.get("args"):
                fhir_ids.add(args_kwargs["args"][0])
        queued = email_release_attempts(lost_workers=lost, email_ids=email_ids)
        queued += fhir_release_attempts(lost_workers=lost, message_ids=fhir_ids)
        TaskWorker.objects.filter(worker_id__in=lost).delete()
    # A worker leaving in good order with nothing in hand is no news.
    if (lost and only is None) or closed or queued:
        # Worker IDs and counts only: nothing about whom the work was for.
        logger.warning(
            "Task workers lost: %s; task rows closed: %d; emails queued again: %d",
            ", ".join(sorted(lost)) or "none",
            closed,
            queued,
        )
    return Recovery(workers=sorted(lost), tasks_closed=closed, emails_queued=queued)


class Heartbeat:
    """The thread that keeps a worker's row fresh and, on each beat, takes over dead workers' work."""

    def __init__(self, worker_id: str, every: float = HEARTBEAT_SECONDS):
        self.worker_id = worker_id
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{worker_id}", daemon=True)

    def start(self) -> None:
        global _current_worker_id
        _current_worker_id = self.worker_id
        # The first beat before any task is claimed, so no task of this worker is ever without a row.
        worker_beat(worker_id=self.worker_id)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every * 2)
        worker_leave(worker_id=self.worker_id)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    connection.close_if_unusable_or_obsolete()
                    worker_beat(worker_id=self.worker_id)
                    work_recover_lost()
                except Exception:
                    # The database is away or locked for long: try again on the next beat. Should it stay
                    # away, other workers will see this one as lost, which is right: it cannot work either.
                    logger.exception("Task worker heartbeat failed; trying again in %s s", self.every)
                self._stop.wait(self.every)
        finally:
            connection.close()
