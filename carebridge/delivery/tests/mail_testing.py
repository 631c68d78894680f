"""Test support for mail: a real SMTP server, the worker's way of running queued mail, an .ics reader.

Test modules that send mail import what they need:

    from carebridge.delivery.tests.mail_testing import mail_server, run_queued_mail  # noqa: F401

`mail_server` is a fixture: aiosmtpd listening on 127.0.0.1 at a free port, with Django's SMTP
backend pointed at it for the test. `run_queued_mail()` runs the queued delivery tasks that are due
by Carebridge's clock through django-tasks-db's own worker code, as `carebridge task-worker` would;
`run_queued_fhir()` does the same for the FHIR outbox.
"""

import email
import socket
from dataclasses import dataclass, field
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

DELIVER_EMAIL_TASK = "carebridge.delivery.services.deliver_email"
DELIVER_FHIR_TASK = "carebridge.delivery.remote.deliver_fhir"


def free_port() -> int:
    """A loopback port nothing listens on (the system just handed it out and it was let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts, and can refuse recipients."""

    def __init__(self, refuse_recipients_with: str | None = None):
        self.messages: list[Message] = []
        self.refuse_recipients_with = refuse_recipients_with

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address: str, rcpt_options):
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self, port: int, inbox: Inbox | None = None):
        self.port = port
        self.inbox = inbox or Inbox()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def start(self) -> "MailServer":
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def point_mail_at(settings, port: int) -> None:
    """Send through SMTP to 127.0.0.1:`port`, as EMAIL_URL=smtp://127.0.0.1:<port> would."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False


@pytest.fixture
def mail_server(settings):
    server = MailServer(free_port()).start()
    point_mail_at(settings, server.port)
    yield server
    server.stop()


def run_queued_mail() -> list[str]:
    """Run the due delivery tasks as the worker would; what each returned. A failed task fails the test.

    Due means by Carebridge's clock, which tests freeze and move; the worker itself asks the system
    clock, which in production is the same thing.
    """
    return run_queued_tasks(DELIVER_EMAIL_TASK)


def run_queued_fhir() -> list[str]:
    """The same for the FHIR outbox's delivery tasks (carebridge.delivery.remote)."""
    return run_queued_tasks(DELIVER_FHIR_TASK)


def run_queued_tasks(task_path: str) -> list[str]:
    """Run the due tasks of `task_path` through django-tasks-db's own worker code; what each returned."""
    from django.db.models import Q
    from django_tasks import TaskResultStatus
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult, get_date_max

    from carebridge.core import clock

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    outcomes = []
    while True:
        due = (
            DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task_path)
            .filter(Q(run_after=get_date_max()) | Q(run_after__lte=clock.now()))
            .first()
        )
        if due is None:
            return outcomes
        due.claim(worker.worker_id)
        worker.run_task(due)
        due.refresh_from_db()
        assert due.status == TaskResultStatus.SUCCESSFUL, due.traceback
        outcomes.append(due.return_value)


def queued_deliveries(task_path: str = DELIVER_EMAIL_TASK):
    """The delivery tasks waiting to run (due or not): email's, or those of `task_path`."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task_path)


def attachments_of(message: Message) -> list[Message]:
    return [part for part in message.walk() if part.get_content_disposition() == "attachment"]


def body_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() is None:
            # SMTP carries lines ending CRLF; the text we queued ended them LF.
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            return text.replace("\r\n", "\n")
    raise AssertionError("the message has no plain-text body")


# --- A strict iCalendar reader (RFC 5545), for checking what we send ----------------------------------


@dataclass
class Property:
    name: str
    params: dict[str, str]
    value: str


@dataclass
class Component:
    name: str
    properties: list[Property] = field(default_factory=list)
    components: list["Component"] = field(default_factory=list)

    def one(self, name: str) -> Property:
        found = [prop for prop in self.properties if prop.name == name]
        assert len(found) == 1, f"{self.name} has {len(found)} {name} properties"
        return found[0]

    def value(self, name: str) -> str:
        return self.one(name).value

    def text(self, name: str) -> str:
        """A TEXT value with its escapes undone."""
        return _unescape(self.value(name))

    def component(self, name: str) -> "Component":
        found = [child for child in self.components if child.name == name]
        assert len(found) == 1, f"{self.name} has {len(found)} {name} components"
        return found[0]


def parse_ics(data: bytes) -> Component:
    """Read an iCalendar object, failing on anything RFC 5545 forbids that we could get wrong:
    a line ending other than CRLF, a line over 75 octets, bad folding, unbalanced BEGIN/END."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n"), "the last line must end with CRLF"
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\r" not in line and "\n" not in line, f"bare CR or LF in {line!r}"
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
    logical: list[str] = []
    for line in physical:
        if line.startswith((" ", "\t")):
            assert logical, "a continuation line cannot come first"
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack: list[Component] = []
    root: Component | None = None
    for line in logical:
        prop = _parse_line(line)
        if prop.name == "BEGIN":
            child = Component(prop.value)
            if stack:
                stack[-1].components.append(child)
            else:
                assert root is None, "more than one top-level component"
                root = child
            stack.append(child)
        elif prop.name == "END":
            assert stack and stack[-1].name == prop.value, f"END:{prop.value} without its BEGIN"
            stack.pop()
        else:
            assert stack, f"{prop.name} outside any component"
            stack[-1].properties.append(prop)
    assert root is not None and not stack, "unbalanced BEGIN/END"
    assert root.name == "VCALENDAR"
    root.one("PRODID")
    assert root.value("VERSION") == "2.0"
    return root


def _parse_line(line: str) -> Property:
    parts: list[str] = []
    current = ""
    quoted = False
    for index, character in enumerate(line):
        if character == '"':
            quoted = not quoted
        if not quoted and character in ";:":
            parts.append(current)
            current = ""
            if character == ":":
                value = line[index + 1 :]
                break
            continue
        current += character
    else:
        raise AssertionError(f"no value in content line {line!r}")
    name, *params = parts
    assert name and name.replace("-", "").isalnum() and name.upper() == name, f"bad property name {name!r}"
    parsed = {}
    for param in params:
        key, _equals, param_value = param.partition("=")
        assert _equals, f"bad parameter {param!r}"
        parsed[key] = param_value[1:-1] if param_value.startswith('"') else param_value
    return Property(name, parsed, value)


def _unescape(value: str) -> str:
    result = ""
    escaped = False
    for character in value:
        if escaped:
            result += {"n": "\n", "N": "\n"}.get(character, character)
            escaped = False
        elif character == "\\":
            escaped = True
        else:
            assert character not in ";,", f"unescaped {character!r} in TEXT value {value!r}"
            result += character
    assert not escaped, "TEXT value ends in a lone backslash"
    return result


def calendar_of(message: Message) -> tuple[Message, Component]:
    """The one .ics attachment of a message, and what it says."""
    parts = [part for part in attachments_of(message) if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, f"expected one calendar attachment, found {len(parts)}"
    return parts[0], parse_ics(parts[0].get_payload(decode=True))
