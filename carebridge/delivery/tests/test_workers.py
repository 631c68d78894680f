"""A dead task worker's work is taken over as soon as its heartbeat stops: its task rows are closed, the
email it held is queued again at once, and nothing of a live worker's is touched. (The same with real
processes and a real SIGKILL: test_killed_worker.py.)"""

import datetime as dt

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from carebridge.core import clock
from carebridge.delivery import workers
from carebridge.delivery.models import EmailStatus, OutboundEmail, TaskWorker
from carebridge.delivery.outbox import claim
from carebridge.delivery.services import deliver_email, email_enqueue, message_id
from carebridge.delivery.tests.mail_testing import mail_server, queued_deliveries, run_queued_mail  # noqa: F401
from carebridge.delivery.workers import (
    UNKNOWN_WORKER_LOST_AFTER,
    WORKER_LOST_AFTER,
    WORKER_LOST_ERROR,
    work_recover_lost,
    worker_beat,
)
from carebridge.testing.days import BASE_MOMENT

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def as_worker(monkeypatch):
    """as_worker(id): the attempts made from here on are that worker's, as inside `task-worker`."""

    def become(worker_id: str | None) -> None:
        monkeypatch.setattr(workers, "_current_worker_id", worker_id)

    return become


def queue(key: str = "test:worker") -> OutboundEmail:
    return email_enqueue(recipient="alice@example.com", subject="Hello", body="Hi.\n", idempotency_key=key)


def claim_task_as(worker_id: str) -> DBTaskResult:
    """The worker takes the queued delivery task, as django-tasks-db's loop does."""
    task = queued_deliveries().get()
    task.claim(worker_id)
    # django-tasks-db stamps the system's time; the test's clock is Carebridge's.
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=clock.now())
    return task


def test_a_silent_workers_task_is_closed_and_its_email_queued_again_at_once(db, mail_server, as_worker):
    email = queue()
    worker_beat(worker_id="dead")
    worker_beat(worker_id="alive")
    task = claim_task_as("dead")
    as_worker("dead")
    assert claim(OutboundEmail, email.pk) is not None  # mid-send when it was killed
    as_worker(None)

    clock.freeze(BASE_MOMENT + WORKER_LOST_AFTER)
    worker_beat(worker_id="alive")
    assert work_recover_lost().workers == []  # silent for exactly the limit: not yet

    clock.freeze(BASE_MOMENT + WORKER_LOST_AFTER + SECOND)
    worker_beat(worker_id="alive")
    recovery = work_recover_lost()

    assert (recovery.workers, recovery.tasks_closed, recovery.emails_queued) == (["dead"], 1, 1)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and task.exception_class_path == WORKER_LOST_ERROR
    assert "dead" in task.traceback
    assert list(TaskWorker.objects.values_list("worker_id", flat=True)) == ["alive"]
    email.refresh_from_db()
    assert (email.status, email.next_attempt_at, email.attempt_by) == (EmailStatus.PENDING, clock.now(), "")
    # Long before the ten-minute lease would have let it go.
    assert run_queued_mail() == ["sent"]
    [message] = mail_server.messages
    assert message["Message-ID"] == message_id(email)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert work_recover_lost() == workers.Recovery([], 0, 0)  # nothing twice
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()


def test_a_worker_killed_after_taking_the_task_but_before_the_email_loses_nothing(db, mail_server):
    email = queue()
    worker_beat(worker_id="dead")
    claim_task_as("dead")

    clock.freeze(BASE_MOMENT + WORKER_LOST_AFTER + SECOND)
    assert work_recover_lost().emails_queued == 1
    assert run_queued_mail() == ["sent"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)


def test_a_live_workers_work_is_left_alone_however_long_it_takes(db, as_worker):
    email = queue()
    worker_beat(worker_id="slow")
    task = claim_task_as("slow")
    as_worker("slow")
    claim(OutboundEmail, email.pk)
    for minutes in range(1, 40):
        clock.freeze(BASE_MOMENT + dt.timedelta(minutes=minutes))
        worker_beat(worker_id="slow")
        assert work_recover_lost() == workers.Recovery([], 0, 0)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING
    email.refresh_from_db()
    assert email.attempt_by == "slow" and not queued_deliveries().exists()


def test_a_dead_workers_task_does_not_release_an_email_a_live_worker_is_sending(db, as_worker):
    email = queue()
    worker_beat(worker_id="dead")
    worker_beat(worker_id="alive")
    claim_task_as("dead")  # died before it reached the email
    deliver_email.enqueue(email.pk)  # a second task for the same message, taken by a live worker
    as_worker("alive")
    claim(OutboundEmail, email.pk)

    clock.freeze(BASE_MOMENT + WORKER_LOST_AFTER + SECOND)
    worker_beat(worker_id="alive")
    recovery = work_recover_lost()

    assert (recovery.tasks_closed, recovery.emails_queued) == (1, 0)
    email.refresh_from_db()
    assert email.attempt_by == "alive"


def test_a_task_of_a_worker_that_keeps_no_heartbeat_is_closed_only_after_a_long_time(db):
    queue()
    task = claim_task_as("plain-db-worker")  # django-tasks-db's own db_worker: no heartbeat row
    clock.freeze(BASE_MOMENT + UNKNOWN_WORKER_LOST_AFTER)
    assert work_recover_lost(unknown_workers=True).tasks_closed == 0
    clock.freeze(BASE_MOMENT + UNKNOWN_WORKER_LOST_AFTER + SECOND)
    assert work_recover_lost() == workers.Recovery([], 0, 0)  # the heartbeat leaves these to the sweep
    assert work_recover_lost(unknown_workers=True) == workers.Recovery([], 1, 1)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED


def test_a_worker_stopping_in_good_order_hands_on_what_it_holds_at_once(db, as_worker):
    email = queue()
    worker_beat(worker_id="stopping")
    as_worker("stopping")
    claim(OutboundEmail, email.pk)  # say, interrupted by a second Ctrl-C after the attempt began
    as_worker(None)

    recovery = workers.worker_leave(worker_id="stopping")

    assert (recovery.workers, recovery.emails_queued) == (["stopping"], 1)
    assert not TaskWorker.objects.exists()
    email.refresh_from_db()
    assert email.attempt_by == "" and email.next_attempt_at == clock.now()


def test_the_sweep_command_recovers_lost_workers_too(db, as_worker):
    from io import StringIO

    from django.core.management import call_command

    email = queue()
    worker_beat(worker_id="dead")
    claim_task_as("dead")
    as_worker("dead")
    claim(OutboundEmail, email.pk)
    clock.freeze(BASE_MOMENT + WORKER_LOST_AFTER + SECOND)
    out = StringIO()
    call_command("deliver_overdue_mail", stdout=out)
    assert out.getvalue().strip() == "Lost task workers: 1; task rows closed: 1; queued again: 1 message(s)."
