"""The FHIR outbox against a real HTTP server on loopback: sent once on 2xx; kept, explained and retried
(30 s, doubling, at most 15 minutes apart) on 5xx, 4xx, a timeout or a refused connection, until sent or
given up; a dead worker's message sent again. And binary attachments through a real SMTP server."""

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Conflict, Invalid, NotPermitted
from carebridge.delivery import outbox, remote, workers
from carebridge.delivery.models import EmailStatus, OutboundFhir, TaskWorker
from carebridge.delivery.outbox import ATTEMPT_LEASE, OVERDUE_AFTER, retry_delay
from carebridge.delivery.remote import FhirRequest, fhir_enqueue, register_payload
from carebridge.delivery.services import delivery_give_up, delivery_retry_now, email_enqueue
from carebridge.delivery.tests.mail_testing import (  # noqa: F401
    DELIVER_FHIR_TASK,
    attachments_of,
    free_port,
    mail_server,
    queued_deliveries,
    run_queued_fhir,
    run_queued_mail,
)
from carebridge.delivery.workers import WORKER_LOST_AFTER, work_recover_lost, worker_beat
from carebridge.organisations.services import facility_endpoint_set

KIND = "test-ping"  # a payload kind only these tests use
GONE = "gone"  # an object id the builder no longer finds
SECOND = dt.timedelta(seconds=1)


def _ping(object_id: str) -> FhirRequest | None:
    if object_id == GONE:
        return None
    return FhirRequest(method="POST", path="Parameters", body={"resourceType": "Parameters", "id": object_id})


@pytest.fixture(autouse=True)
def ping_payload():
    register_payload(KIND, _ping)
    yield
    remote._builders.pop(KIND, None)


class Receiver:
    """Another system's FHIR endpoint: keeps each request and answers as the test says.

    `answer`: an HTTP status, "hang" (say nothing until the test ends, longer than the sender waits) or
    "garbage" (answer with something that is not HTTP);
    `accepted_token`: when set, any other bearer token is answered 401."""

    def __init__(self, port: int = 0):
        self.requests: list[dict] = []
        self.answer: int | str = 201
        self.accepted_token: str | None = None
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.answer == "hang":
                    receiver.released.wait(30)
                    return
                if receiver.answer == "garbage":  # not HTTP at all: some other service on that port
                    self.wfile.write(b"220 mail.example ESMTP ready\r\n")
                    self.close_connection = True
                    return
                status = int(receiver.answer)
                if receiver.accepted_token and self.headers.get("Authorization") != f"Bearer {receiver.accepted_token}":
                    status = 401
                if 200 <= status < 300:
                    payload = {"resourceType": "Parameters"}
                else:
                    payload = {
                        "resourceType": "OperationOutcome",
                        "issue": [{"severity": "error", "code": "processing", "diagnostics": f"Said no ({status})"}],
                    }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # Short, so a receiver that never answers costs the test half a second.
    settings.REMOTE_FHIR_TIMEOUT_SECONDS = 0.5
    running = Receiver()
    yield running
    running.stop()


def endpoint_at(world, port: int, token: str = "token-one"):
    return facility_endpoint_set(
        actor=Actor.command_line(world.admin),
        facility=world.hospital,
        fhir_base=f"http://127.0.0.1:{port}/fhir",
        token=token,
    )


def enqueue(endpoint, object_id: str = "ping-1", version: int = 1) -> OutboundFhir:
    return fhir_enqueue(
        endpoint=endpoint, kind=KIND, object_id=object_id, version=version, description="A ping", patient_id=None
    )


def test_a_2xx_answer_delivers_the_message_once_with_the_token_and_the_body(world, receiver):
    message = enqueue(endpoint_at(world, receiver.port))

    assert run_queued_fhir() == ["sent"]
    assert run_queued_fhir() == []

    [request] = receiver.requests
    assert request["path"] == "/fhir/Parameters"
    assert request["headers"]["Authorization"] == "Bearer token-one"
    assert request["headers"]["Content-Type"] == "application/fhir+json"
    assert json.loads(request["body"]) == {"resourceType": "Parameters", "id": "ping-1"}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.response_status) == (EmailStatus.SENT, 1, 201)
    assert (message.sent_at, message.next_attempt_at, message.last_error) == (clock.now(), None, "")


def test_the_same_record_at_the_same_version_is_queued_once(world, receiver):
    endpoint = endpoint_at(world, receiver.port)
    first = enqueue(endpoint)
    assert enqueue(endpoint).pk == first.pk
    assert OutboundFhir.objects.count() == 1 and queued_deliveries(DELIVER_FHIR_TASK).count() == 1
    assert enqueue(endpoint, version=2).pk != first.pk  # a newer version is a new message
    assert run_queued_fhir() == ["sent", "sent"]
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    "answer, status, words",
    [
        (500, 500, "answered 500: Said no (500)"),
        (503, 503, "answered 503"),
        (401, 401, "answered 401: Said no (401)"),  # a wrong token: put right by an administrator
        (404, 404, "answered 404"),
        ("hang", None, "timed out"),
        ("garbage", None, "gave no HTTP answer (BadStatusLine)"),
    ],
)
def test_a_failed_attempt_is_explained_and_retried_30_seconds_later(world, receiver, answer, status, words):
    receiver.answer = answer
    message = enqueue(endpoint_at(world, receiver.port))

    assert run_queued_fhir() == ["retry queued"]

    message.refresh_from_db()
    assert (message.status, message.attempts, message.response_status) == (EmailStatus.PENDING, 1, status)
    assert words in message.last_error and "Heartlands Hospital's system" in message.last_error
    assert message.next_attempt_at == clock.now() + dt.timedelta(seconds=30)
    [retry] = queued_deliveries(DELIVER_FHIR_TASK)
    assert retry.run_after == message.next_attempt_at
    assert run_queued_fhir() == []  # not due yet

    receiver.answer = 201
    clock.freeze(message.next_attempt_at)
    assert run_queued_fhir() == ["sent"]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.response_status) == (EmailStatus.SENT, 2, 201)
    assert words in message.last_error  # kept: why it arrived later than it was queued


def test_with_nothing_listening_it_is_retried_ever_less_often_but_never_failed(world, settings):
    settings.REMOTE_FHIR_TIMEOUT_SECONDS = 0.5
    port = free_port()  # refused: nothing listens here
    message = enqueue(endpoint_at(world, port))
    waits = []
    for attempt in range(1, 21):
        assert run_queued_fhir() == ["retry queued"]
        message.refresh_from_db()
        assert (message.status, message.attempts) == (EmailStatus.PENDING, attempt)
        assert "Could not reach" in message.last_error and "refused" in message.last_error.lower()
        waits.append(message.next_attempt_at - clock.now())
        clock.freeze(message.next_attempt_at)
    minutes = dt.timedelta(minutes=1)
    assert waits[:7] == [SECOND * 30, minutes, 2 * minutes, 4 * minutes, 8 * minutes, 15 * minutes, 15 * minutes]
    assert set(waits[5:]) == {15 * minutes}
    assert waits == [retry_delay(attempt, until_given_up=True) for attempt in range(1, 21)]

    receiver = Receiver(port)  # the receiving system comes back
    try:
        assert run_queued_fhir() == ["sent"]
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()


def test_a_corrected_token_is_used_at_the_next_attempt(world, receiver):
    receiver.accepted_token = "token-two"
    message = enqueue(endpoint_at(world, receiver.port, token="token-one"))
    assert run_queued_fhir() == ["retry queued"]
    message.refresh_from_db()
    assert message.response_status == 401

    endpoint_at(world, receiver.port, token="token-two")
    clock.freeze(message.next_attempt_at)
    assert run_queued_fhir() == ["sent"]
    assert [request["headers"]["Authorization"] for request in receiver.requests] == [
        "Bearer token-one",
        "Bearer token-two",
    ]


def test_giving_up_stops_it_and_only_the_system_administrator_may(world, receiver):
    receiver.answer = 500
    message = enqueue(endpoint_at(world, receiver.port))
    run_queued_fhir()
    message.refresh_from_db()

    with pytest.raises(NotPermitted):
        delivery_give_up(
            actor=Actor(world.gp, "web", "127.0.0.1"), kind="fhir", public_id=str(message.public_id), reason="x"
        )
    [denial] = AuditEvent.objects.filter(actor=world.gp, action=AuditAction.DENY, object_type=AuditObject.DELIVERY)
    assert denial.detail["operation"] == "delivery_give_up"
    admin = Actor(world.admin, "web", "127.0.0.1")
    with pytest.raises(Invalid):
        delivery_give_up(actor=admin, kind="fhir", public_id=str(message.public_id), reason="  ")

    delivery_give_up(actor=admin, kind="fhir", public_id=str(message.public_id), reason="The hospital has closed.")

    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (EmailStatus.GIVEN_UP, None)
    assert (message.given_up_by, message.given_up_reason) == ("Ada Admin", "The hospital has closed.")
    given_up = AuditEvent.objects.get(actor=world.admin, action=AuditAction.UPDATE, object_type=AuditObject.DELIVERY)
    assert given_up.detail["operation"] == "give_up"
    receiver.answer = 201
    clock.freeze(clock.now() + dt.timedelta(hours=1))
    assert run_queued_fhir() == ["nothing to do"]  # its queued retry finds it given up
    assert len(receiver.requests) == 1
    with pytest.raises(Conflict):
        delivery_retry_now(actor=admin, kind="fhir", public_id=str(message.public_id))


def test_retry_now_sends_at_once(world, receiver):
    receiver.answer = 503
    message = enqueue(endpoint_at(world, receiver.port))
    run_queued_fhir()
    receiver.answer = 201
    with pytest.raises(NotPermitted):
        delivery_retry_now(actor=Actor(world.gp, "web", "127.0.0.1"), kind="fhir", public_id=str(message.public_id))
    assert AuditEvent.objects.filter(actor=world.gp, action=AuditAction.DENY, object_type=AuditObject.DELIVERY).exists()

    delivery_retry_now(actor=Actor(world.admin, "web", "127.0.0.1"), kind="fhir", public_id=str(message.public_id))

    assert "sent" in run_queued_fhir()  # without waiting for the retry's 30 seconds
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT and len(receiver.requests) == 2


def test_a_record_that_is_gone_fails_at_once_and_can_be_retried(world, receiver):
    message = enqueue(endpoint_at(world, receiver.port), object_id=GONE)
    assert run_queued_fhir() == ["nothing to send"]
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED and "Nothing to send" in message.last_error
    assert receiver.requests == []


def test_a_worker_lost_mid_send_has_the_message_sent_once_more_with_the_same_version(world, receiver, monkeypatch):
    message = enqueue(endpoint_at(world, receiver.port))
    worker_beat(worker_id="dead")
    worker_beat(worker_id="alive")
    task = queued_deliveries(DELIVER_FHIR_TASK).get()
    task.claim("dead")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=clock.now())
    monkeypatch.setattr(workers, "_current_worker_id", "dead")
    claimed = outbox.claim(OutboundFhir, message.pk)
    monkeypatch.setattr(workers, "_current_worker_id", None)
    # The dead worker's request reached the receiver; the worker died before the row said so.
    remote._send(claimed.endpoint, _ping(claimed.object_id))

    clock.freeze(clock.now() + WORKER_LOST_AFTER + SECOND)
    worker_beat(worker_id="alive")
    recovery = work_recover_lost()

    assert (recovery.workers, recovery.tasks_closed, recovery.emails_queued) == (["dead"], 1, 1)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert list(TaskWorker.objects.values_list("worker_id", flat=True)) == ["alive"]
    assert run_queued_fhir() == ["sent"]
    assert run_queued_fhir() == []
    # At least once: the same message (body and version) twice, which the receiver recognises.
    first, second = receiver.requests
    assert first["body"] == second["body"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailStatus.SENT, 2)


def test_the_sweep_command_queues_an_overdue_message_again(world, receiver):
    message = enqueue(endpoint_at(world, receiver.port))
    # Taken by a worker that keeps no heartbeat, which then vanished: only the lease ends the attempt.
    queued_deliveries(DELIVER_FHIR_TASK).update(status=TaskResultStatus.RUNNING)
    assert outbox.claim(OutboundFhir, message.pk) is not None
    clock.freeze(clock.now() + ATTEMPT_LEASE + OVERDUE_AFTER)
    out = StringIO()
    call_command("deliver_overdue_mail", stdout=out)
    assert out.getvalue().strip().endswith("queued again: 0 message(s).")  # not yet: exactly at the limit

    clock.freeze(clock.now() + SECOND)
    out = StringIO()
    call_command("deliver_overdue_mail", stdout=out)
    assert out.getvalue().strip().endswith("queued again: 1 message(s).")
    assert run_queued_fhir() == ["sent"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailStatus.SENT, 2) and len(receiver.requests) == 1


def test_a_binary_attachment_arrives_byte_for_byte(db, mail_server):
    # Every byte value, and CR/LF pairs that a text-mode path would rewrite.
    content = b"%PDF-1.7\n" + bytes(range(256)) + b"\r\n\r\n\x00\xff" + b"%%EOF\n"
    email_enqueue(
        recipient="h1@nhs.example",
        subject="Referral 1234 5678 9012: Urgent",
        body="The letter is attached.\n",
        idempotency_key="test:binary",
        attachments=[
            {
                "filename": "referral-123456789012.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(content).decode("ascii"),
            }
        ],
        until_given_up=True,
    )
    assert run_queued_mail() == ["sent"]
    [message] = mail_server.messages
    [attachment] = attachments_of(message)
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "referral-123456789012.pdf"
    assert attachment.get_payload(decode=True) == content
