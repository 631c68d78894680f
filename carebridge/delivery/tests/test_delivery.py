"""Delivering queued email through a real SMTP server: once, with retries, nothing lost."""

import datetime as dt

import pytest
from django.db import transaction

from carebridge.core import clock
from carebridge.delivery.models import EmailStatus, OutboundEmail
from carebridge.delivery.services import (
    ATTEMPT_LEASE,
    MAX_ATTEMPTS,
    OVERDUE_AFTER,
    deliver_email,
    email_enqueue,
    email_requeue_overdue,
    message_id,
    retry_delay,
)
from carebridge.delivery.tests.mail_testing import (  # noqa: F401 (mail_server is a fixture)
    Inbox,
    MailServer,
    attachments_of,
    body_of,
    free_port,
    mail_server,
    point_mail_at,
    queued_deliveries,
    run_queued_mail,
)
from carebridge.testing.days import BASE_DAY

NOON = clock.london_datetime(BASE_DAY, dt.time(12, 0))
CALENDAR = {
    "filename": "appointment.ics",
    "content_type": "text/calendar; method=REQUEST",
    "content": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
}


@pytest.fixture
def frozen_clock():
    clock.freeze(NOON)
    return NOON


def queue_one(key: str = "test:one", **overrides) -> OutboundEmail:
    fields = {
        "recipient": "alice@example.com",
        "subject": "Your appointment",
        "body": "Dear Alice,\n\nSee you.\n",
        "idempotency_key": key,
        "attachments": [CALENDAR],
        "patient_id": 7,
    } | overrides
    return email_enqueue(**fields)


def test_a_queued_email_arrives_once_with_its_attachment(db, mail_server, frozen_clock):
    email = queue_one()
    assert email.status == EmailStatus.PENDING and queued_deliveries().count() == 1

    assert run_queued_mail() == ["sent"]

    [message] = mail_server.messages
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Your appointment"
    assert message["Message-ID"] == message_id(email)
    assert body_of(message) == "Dear Alice,\n\nSee you.\n"
    [attachment] = attachments_of(message)
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "appointment.ics"
    # Byte for byte, CRLF line endings included.
    assert attachment.get_payload(decode=True) == CALENDAR["content"].encode()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at, email.next_attempt_at) == (EmailStatus.SENT, 1, NOON, None)


def test_the_same_idempotency_key_queues_one_message(db, mail_server):
    first = queue_one()
    again = queue_one(subject="Something else")
    assert again.pk == first.pk and again.subject == "Your appointment"
    assert OutboundEmail.objects.count() == 1 and queued_deliveries().count() == 1
    run_queued_mail()
    assert len(mail_server.messages) == 1


def test_delivering_a_sent_email_again_sends_nothing(db, mail_server):
    email = queue_one()
    run_queued_mail()
    assert deliver_email.call(email.pk) == "nothing to do"
    deliver_email.enqueue(email.pk)
    assert run_queued_mail() == ["nothing to do"]
    assert len(mail_server.messages) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_nothing_is_queued_when_the_callers_transaction_rolls_back(db, mail_server):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        queue_one()
        raise Refused()
    assert not OutboundEmail.objects.exists()
    assert not queued_deliveries().exists()
    assert run_queued_mail() == []
    assert mail_server.messages == []


def test_with_the_mail_server_down_the_error_is_kept_and_a_retry_queued_then_it_is_sent_once(
    db, settings, frozen_clock
):
    port = free_port()  # nothing listens here yet
    point_mail_at(settings, port)
    email = queue_one()

    assert run_queued_mail() == ["retry queued"]

    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING
    assert email.attempts == 1
    assert "Could not reach the mail server" in email.last_error and "refused" in email.last_error
    assert email.next_attempt_at == NOON + retry_delay(1) == NOON + dt.timedelta(seconds=30)
    [retry] = queued_deliveries()
    assert retry.run_after == email.next_attempt_at and retry.run_after > clock.now()
    assert run_queued_mail() == []  # not due yet

    server = MailServer(port).start()
    try:
        clock.freeze(email.next_attempt_at)
        assert run_queued_mail() == ["sent"]
        assert run_queued_mail() == []
        assert len(server.messages) == 1
        assert server.messages[0]["Message-ID"] == message_id(email)
    finally:
        server.stop()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    assert email.last_error  # kept: it says why the first attempt failed


def test_retries_wait_longer_each_time_and_stop_after_the_last_attempt(db, settings, frozen_clock):
    point_mail_at(settings, free_port())
    email = queue_one()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outcome = run_queued_mail()
        email.refresh_from_db()
        assert email.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert outcome == ["retry queued"]
            waits.append(email.next_attempt_at - clock.now())
            clock.freeze(email.next_attempt_at)
        else:
            assert outcome == ["failed permanently"]
    assert waits[:4] == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=4),
    ]
    assert max(waits) == dt.timedelta(hours=6)
    assert dt.timedelta(hours=18) < sum(waits, dt.timedelta()) < dt.timedelta(hours=24)
    assert (email.status, email.next_attempt_at) == (EmailStatus.FAILED, None)
    assert email.last_error
    assert not queued_deliveries().exists()


def test_a_recipient_the_server_refuses_outright_fails_at_once_without_showing_the_address(db, settings):
    server = MailServer(free_port(), Inbox(refuse_recipients_with="550 5.1.1 <alice@example.com>: no such user"))
    server.start()
    try:
        point_mail_at(settings, server.port)
        email = queue_one()
        assert run_queued_mail() == ["failed permanently"]
    finally:
        server.stop()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 1)
    assert "550" in email.last_error and "no such user" in email.last_error
    assert "alice@example.com" not in email.last_error
    assert not queued_deliveries().exists()


def test_a_worker_killed_mid_send_leaves_the_email_overdue_and_it_is_queued_again(db, mail_server, frozen_clock):
    from carebridge.delivery.outbox import claim

    email = queue_one()
    # The worker took the message and died before saying how it went: its task never finishes.
    queued_deliveries().update(status="RUNNING")
    assert claim(OutboundEmail, email.pk) is not None
    # A second task for it meanwhile finds the attempt in hand and leaves it alone.
    assert deliver_email.call(email.pk) == "nothing to do"
    assert email_requeue_overdue() == 0

    clock.freeze(NOON + ATTEMPT_LEASE + OVERDUE_AFTER + dt.timedelta(seconds=1))
    assert email_requeue_overdue() == 1
    assert email_requeue_overdue() == 0  # not queued twice by the next sweep
    assert run_queued_mail() == ["sent"]
    [message] = mail_server.messages
    assert message["Message-ID"] == message_id(email)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)


def test_without_a_mail_server_messages_are_written_to_files(db, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "sent-mail"
    queue_one()
    assert run_queued_mail() == ["sent"]
    [written] = list((tmp_path / "sent-mail").iterdir())
    text = written.read_text()
    assert "Subject: Your appointment" in text and "Dear Alice," in text


def test_an_address_that_cannot_be_sent_to_is_refused_when_queued(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        queue_one(recipient="not an address")
    assert not OutboundEmail.objects.exists()


def test_emails_for_a_patient_newest_first(db):
    from carebridge.delivery.selectors import emails_for_patient

    clock.freeze(NOON)
    older = queue_one("test:older")
    clock.freeze(NOON + dt.timedelta(minutes=1))
    newer = queue_one("test:newer")
    queue_one("test:someone-else", patient_id=8)
    assert list(emails_for_patient(7)) == [newer, older]


def test_the_admin_shows_delivery_status_read_only_without_the_message(world, client_for, settings):
    point_mail_at(settings, free_port())
    email = queue_one(body="Dear Alice, a private message.")
    run_queued_mail()
    client = client_for(world.admin)

    listing = client.get("/admin/delivery/outboundemail/").content.decode()
    assert "test:one" in listing and "a***@example.com" in listing
    assert "alice@example.com" not in listing
    detail = client.get(f"/admin/delivery/outboundemail/{email.pk}/change/").content.decode()
    assert "Could not reach the mail server" in detail
    assert "a private message" not in detail and "alice@example.com" not in detail
    assert 'name="_save"' not in detail
    assert client.get("/admin/delivery/outboundemail/add/").status_code == 403
    assert client.post(f"/admin/delivery/outboundemail/{email.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboundEmail.objects.filter(pk=email.pk).exists()
    # Nobody else reaches it.
    assert client_for(world.reception).get("/admin/delivery/outboundemail/").status_code == 302
