"""Carebridge instances as real deployments in miniature, for tests where two of them talk over HTTP.

Each `CarebridgeInstance` has a database of its own (a SQLite file under the test's tmp_path, or on a
PostgreSQL run a fresh database `cb_<name>_<random>` on the test process's server, dropped at stop), a
var folder of its own, and runs as processes of its own: its database is a copy of one made by
`carebridge migrate` once per test process, then a setup step (by default the shared directory below),
then gunicorn on 127.0.0.1 at a free port and one `carebridge task-worker`, both with mail going to an
SMTP server the test runs (aiosmtpd, `InstanceMailServer`).

    with running_instances(tmp_path, mail.port) as (surgery, hospital):
        token = surgery.api_token(GP)
        status, headers, body = surgery.http("GET", "/fhir/Patient?identifier=...", token=token)
        surgery.run_python("from carebridge.patients.models import Patient; print(Patient.objects.count())")
        hospital.stop_server(); ...; hospital.start_server()    # "the receiving system is down, then back"
        hospital.kill_worker(); ...; hospital.start_worker()    # SIGKILL mid-delivery, then a new worker

Or as fixtures: `instance_mail` and `instance_pair` (import them into the test module).

The clock. The test process's clock is frozen at the suite's base moment (carebridge/testing/days.py);
processes of their own read the system clock. So every process of a group of instances is started with
CAREBRIDGE_CLOCK_SHIFT_SECONDS, one value for the group (settings -> core.clock.shift_process_clock): its
clocks, Django's included, read the base moment at the moment the group was made, and then move on with
real time. "Today" is the base day on whatever day the tests run (CAREBRIDGE_TEST_TODAY moves it as for
the rest of the suite), both instances agree on the time, and a retry due in 30 seconds is due in 30 real
seconds.
"""

import atexit
import ctypes
import datetime as dt
import json as json_module
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from carebridge.testing.days import BASE_MOMENT

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
CLOCK_SHIFT_VARIABLE = "CAREBRIDGE_CLOCK_SHIFT_SECONDS"
# For things that are not being measured: a process starting, migrating or stopping on a loaded machine.
PATIENCE = 180.0
PR_SET_PDEATHSIG = 1

# --- The directory both instances hold: the same people and places under the same codes ----------------
# Usernames (all with world.PASSWORD) and codes, for tests to name. The facilities, clinicians and the
# patient have the same coursework IDs, ODS codes, registration and NHS numbers on every instance, so
# that one instance can match what another sends; their public IDs differ, as they would between two
# real systems.
GP = "gp"
CONSULTANT = "specialist"
HOSPITAL_RECEPTION = "hospital-reception"
SYSTEM_ADMIN = "admin"
PATIENT_USER = "alice"
SURGERY_ID = "S1"
SURGERY_ODS = "M99001"
SURGERY_EMAIL = "oak-tree-surgery@example.com"
HOSPITAL_ID = "H1"
HOSPITAL_ODS = "RX101"
HOSPITAL_EMAIL = "heartlands-hospital@example.com"
SPECIALITY = "Cardiology"
GP_REGISTRATION = "1234567"
CONSULTANT_REGISTRATION = "3234567"
PATIENT_ID = "P-alice"
PATIENT_EMAIL = "alice.archer@example.com"
# The consultant's clinics: Tuesdays and Thursdays 09:00-12:00 in 30-minute slots, for the slot horizon.
CLINIC_WEEKDAYS = (1, 3)
CLINIC_HOURS = (dt.time(9, 0), dt.time(12, 0))
CLINIC_SLOT_MINUTES = 30
CLINIC_TYPES = ("Specialist Consultation", "Follow-up")


def patient_nhs_number() -> str:
    from carebridge.testing.world import VALID_NHS_NUMBERS

    return VALID_NHS_NUMBERS[0]


def build_directory(*, with_patient: bool = True) -> None:
    """Run inside an instance (its setup step): the surgery, the hospital, their people and the patient.

    `with_patient=False` leaves the patient out, for an instance that should register them on receiving
    a referral rather than match them.
    """
    from carebridge.accounts.models import AccountKind
    from carebridge.core.actor import Actor
    from carebridge.organisations.models import AccessLevel, ClinicianTitle, Facility, FacilityType
    from carebridge.patients.models import Patient
    from carebridge.scheduling import services as scheduling
    from carebridge.testing import world

    surgery = world._facility(SURGERY_ID, "Oak Tree Surgery", FacilityType.GP_SURGERY)
    hospital = world._facility(HOSPITAL_ID, "Heartlands Hospital", FacilityType.HOSPITAL)
    Facility.objects.filter(pk=surgery.pk).update(ods_code=SURGERY_ODS, email=SURGERY_EMAIL)
    Facility.objects.filter(pk=hospital.pk).update(
        ods_code=HOSPITAL_ODS, email=HOSPITAL_EMAIL, specialities_offered=[SPECIALITY]
    )
    world._clinician(GP, ClinicianTitle.GP, surgery, "Grace", "Patel", GP_REGISTRATION)
    consultant = world._clinician(
        CONSULTANT, ClinicianTitle.CONSULTANT, hospital, "Sam", "Okafor", CONSULTANT_REGISTRATION, SPECIALITY
    )
    world._staff(HOSPITAL_RECEPTION, "Appointments Coordinator", hospital, AccessLevel.STANDARD, "Hal", "Reed")
    world._user(SYSTEM_ADMIN, AccountKind.SYSTEM_ADMIN, "Ada", "Admin")
    if with_patient:
        patient = world._patient(PATIENT_ID, "Alice", "Archer", patient_nhs_number(), surgery)
        login = world._user(PATIENT_USER, AccountKind.PATIENT, "Alice", "Archer")
        Patient.objects.filter(pk=patient.pk).update(user=login, email=PATIENT_EMAIL)

    # As a deployment sets up a clinic: from the command line, as the one who holds the database.
    setup = Actor.command_line()
    scheduling.opening_hours_set(
        actor=setup, facility=hospital, hours={weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(5)}
    )
    for weekday in CLINIC_WEEKDAYS:
        scheduling.session_add(
            actor=setup,
            clinician=consultant.clinician,
            weekday=weekday,
            start_time=CLINIC_HOURS[0],
            end_time=CLINIC_HOURS[1],
            slot_minutes=CLINIC_SLOT_MINUTES,
            appointment_types=CLINIC_TYPES,
        )


DIRECTORY_SETUP = "from carebridge.testing.instances import build_directory; build_directory()"


# --- One instance ------------------------------------------------------------------------------------


class HttpAnswer(NamedTuple):
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json_module.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A test sees the redirect itself (to the sign-in page, say), not where it leads.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def clock_shift_now() -> float:
    """Seconds from the system clock to the suite's base moment, as of now: a group's shared clock shift."""
    return BASE_MOMENT.timestamp() - time.time()


def _test_database_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path="/" + name).geturl()


def _postgres_admin(url: str, statement: str) -> None:
    import psycopg

    # On the maintenance database of the same server, with the test run's own credentials.
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def _dying_with(parent: int) -> Any:
    """What a child runs between fork and exec, so that a test process killed outright takes its instances
    with it. (Linux sends the signal when the *thread* that started the child ends: the tests start
    instances from their main thread.)"""

    def die_with_parent() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)

    return die_with_parent


class InstanceError(AssertionError):
    """An instance did not start, or a command in it failed; the message carries its output."""


class CarebridgeInstance:
    """One Carebridge: its database, var folder, web server and task worker. See the module's docstring."""

    def __init__(
        self,
        name: str,
        tmp_path: Path,
        smtp_port: int,
        *,
        clock_shift: float | None = None,
        setup: str | None = DIRECTORY_SETUP,
    ):
        self.name = name
        self.var_dir = Path(tmp_path) / name
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.smtp_port = smtp_port
        self.setup = setup
        self.clock_shift = clock_shift_now() if clock_shift is None else clock_shift
        from carebridge.delivery.tests.mail_testing import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        test_url = _test_database_url()
        self._postgres_server = test_url if _is_postgres(test_url) else None
        if self._postgres_server:
            self.database_name = f"cb_{name.replace('-', '_')}_{secrets.token_hex(4)}"
            self.database_url = _with_database(self._postgres_server, self.database_name)
        else:
            self.database_name = str(self.var_dir / "carebridge.sqlite3")
            self.database_url = f"sqlite:///{self.database_name}"
        self._database_made = False
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self._logs: list[Any] = []
        self._workers_started = 0
        self.environment = self._environment()

    def __repr__(self) -> str:
        return f"<CarebridgeInstance {self.name} at {self.url}>"

    def _environment(self) -> dict[str, str]:
        # The test process's own settings are not the instance's: pytest's variables (which would make
        # it think it is a test run) and anything naming a database or a mail server stay behind.
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTEST_", "EMAIL_", "DJANGO_")) and key not in ("DATABASE_URL", "CAREBRIDGE_DEMO")
        }
        return inherited | {
            "DJANGO_SETTINGS_MODULE": "carebridge.config.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")])),
            "DATABASE_URL": self.database_url,
            "CAREBRIDGE_VAR_DIR": str(self.var_dir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            # Plain HTTP on loopback: cookies marked Secure would never be sent back.
            "SECURE_COOKIES": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORT": str(self.port),
            "SITE_URL": self.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "EMAIL_FROM": f"Carebridge {self.name} <no-reply@{self.name}.carebridge.localhost>",
            "EMAIL_TIMEOUT": "10",
            CLOCK_SHIFT_VARIABLE: repr(self.clock_shift),
        }

    def _command(self, *arguments: str) -> list[str]:
        # The `carebridge` console script is carebridge.manage:main; run as a module it needs no install.
        return [sys.executable, "-m", "carebridge.manage", *arguments]

    # --- Commands inside the instance ------------------------------------------------------------------

    def run(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        """`carebridge ARGUMENTS...` against this instance; its output as text. Fails the test if it fails."""
        done = subprocess.run(
            self._command(*arguments),
            env=self.environment,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        if check and done.returncode != 0:
            command = " ".join(arguments)
            raise InstanceError(
                f"{self.name}: `carebridge {command}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def run_python(self, code: str) -> str:
        """Run Python inside this instance's Django (`carebridge shell -c`); what it printed."""
        return self.run("shell", "--no-imports", "--command", code).stdout

    def api_token(self, username: str, *options: str) -> str:
        """A new API token from `carebridge api-token USERNAME [OPTIONS]` on this instance."""
        return self.run("api_token", username, *options).stdout.strip()

    # --- HTTP ------------------------------------------------------------------------------------------

    def http(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> HttpAnswer:
        """One request to this instance. Any status is returned, not raised; redirects are not followed.
        A server that is down raises (ConnectionRefusedError, in a URLError)."""
        media = "application/fhir+json" if path.startswith("/fhir/") else "application/json"
        sent = {"Accept": media}
        body = None
        if json is not None:
            body = json_module.dumps(json).encode()
            sent["Content-Type"] = media
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        sent |= headers or {}
        request = urllib.request.Request(self.url + path, data=body, headers=sent, method=method)
        try:
            with _opener.open(request, timeout=60) as response:
                return HttpAnswer(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return HttpAnswer(error.code, _lower(error.headers.items()), error.read())

    def answers(self) -> bool:
        try:
            return self.http("GET", "/fhir/metadata").status == 200
        except OSError:
            return False

    # --- Processes -------------------------------------------------------------------------------------

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.var_dir / log_name, "ab")  # noqa: SIM115 (closed at stop)
        self._logs.append(log)
        return subprocess.Popen(
            command,
            env=self.environment,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A session of its own, as under `make run`: a Ctrl-C at the terminal reaches the test, which
            # stops the instance once, rather than the task worker twice (which it takes as "abandon").
            start_new_session=True,
            preexec_fn=_dying_with(os.getpid()),
        )

    def log(self, log_name: str) -> str:
        path = self.var_dir / log_name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def make_database(self) -> None:
        """The instance's database, migrated: a copy of this test run's migrated template."""
        template = _migrated_template(self.environment, self._postgres_server)
        if self._postgres_server:
            _postgres_admin(self._postgres_server, f'CREATE DATABASE "{self.database_name}" TEMPLATE "{template}"')
            self._database_made = True
        else:
            shutil.copyfile(template, self.database_name)

    def _finish(self, step: subprocess.Popen, log_name: str) -> None:
        if step.wait(timeout=PATIENCE) != 0:
            raise InstanceError(f"{self.name}: {log_name[:-4]} exited {step.returncode}:\n{self.log(log_name)}")

    def start_server(self) -> None:
        """Start the web server (again) on the instance's port; returns once it answers."""
        self._spawn_server()
        self.wait_until_answering()

    def _spawn_server(self) -> None:
        assert self.server is None or self.server.poll() is not None, f"{self.name}: the server is running"
        self.server = self._spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "carebridge.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--no-control-socket",
                "--limit-request-line",
                "8190",
            ],
            "server.log",
        )

    def wait_until_answering(self) -> None:
        started = time.monotonic()
        while not self.answers():
            if self.server is None or self.server.poll() is not None:
                raise InstanceError(f"{self.name}: the web server stopped:\n{self.log('server.log')}")
            if time.monotonic() - started > PATIENCE:
                raise InstanceError(f"{self.name}: no answer at {self.url} in {PATIENCE} s:\n{self.log('server.log')}")
            time.sleep(0.2)

    def stop_server(self) -> None:
        """Stop the web server (gunicorn's orderly SIGTERM): connections to the port are refused."""
        self._stop(self.server)

    def start_worker(self) -> None:
        """Start a task worker (one more, or again after `kill_worker`)."""
        assert self.worker is None or self.worker.poll() is not None, f"{self.name}: the worker is running"
        self._workers_started += 1
        self.worker = self._spawn(
            self._command("task_worker", "--queue-name", "*", "--no-reload", "--verbosity", "0"),
            f"worker-{self._workers_started}.log",
        )

    def kill_worker(self) -> None:
        """SIGKILL the task worker, as a crash would: what it held is taken over by the next worker."""
        assert self.worker is not None and self.worker.poll() is None, f"{self.name}: no worker is running"
        _kill_group(self.worker)

    def stop_worker(self) -> None:
        """Stop the task worker in good order (SIGTERM: it hands on what it holds)."""
        self._stop(self.worker)

    def _stop(self, process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def database_exists(self) -> bool:
        """Whether the instance's database is there (a PostgreSQL one is dropped at stop; a SQLite file
        stays in tmp_path)."""
        if not self._postgres_server:
            return Path(self.database_name).exists()
        import psycopg

        with psycopg.connect(_with_database(self._postgres_server, "postgres")) as connection:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database_name])
            return found.fetchone() is not None

    def start(self) -> "CarebridgeInstance":
        """Migrate, set up, start the web server and a task worker; returns once the server answers."""
        start_all([self])
        return self

    def stop(self) -> None:
        """Stop every process and drop the instance's database. Safe to call more than once."""
        try:
            for process in (self.worker, self.server):
                _kill_group(process)
        finally:
            for log in self._logs:
                log.close()
            self._logs.clear()
            if self._postgres_server and self._database_made:
                _postgres_admin(self._postgres_server, f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
                self._database_made = False


def _kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL a process and everything in its session (gunicorn's workers with their master)."""
    if process is None or process.returncode is not None:  # never started, or already reaped
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # gone already, its group with it
        pass
    process.wait(timeout=PATIENCE)


# Migrating takes longer than all the rest of an instance's start, and every instance starts from the
# same empty schema: `carebridge migrate` runs once per test process, into a template each instance's
# database is copied from (a file copy on SQLite; CREATE DATABASE ... TEMPLATE on PostgreSQL).
_templates: dict[str, str] = {}


def _migrated_template(environment: dict[str, str], postgres_server: str | None) -> str:
    key = postgres_server or "sqlite"
    if key in _templates:
        return _templates[key]
    if postgres_server:
        name = f"cb_template_{secrets.token_hex(4)}"
        _postgres_admin(postgres_server, f'CREATE DATABASE "{name}"')
        atexit.register(_postgres_admin, postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        url, template = _with_database(postgres_server, name), name
    else:
        folder = Path(tempfile.mkdtemp(prefix="carebridge-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = str(folder / "carebridge.sqlite3")
        url = f"sqlite:///{template}"
    migrated = subprocess.run(
        [sys.executable, "-m", "carebridge.manage", "migrate", "--noinput", "--verbosity", "0"],
        env=environment | {"DATABASE_URL": url},
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    if migrated.returncode != 0:
        raise InstanceError(f"`carebridge migrate` exited {migrated.returncode}:\n{migrated.stdout}\n{migrated.stderr}")
    _templates[key] = template
    return template


def _lower(items: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def start_all(instances: Sequence[CarebridgeInstance]) -> None:
    """Start several instances side by side (each step runs for all at once: the machine has the cores)."""
    for instance in instances:
        instance.make_database()
    setups = [
        (
            instance,
            instance._spawn(instance._command("shell", "--no-imports", "--command", instance.setup), "setup.log"),
        )
        for instance in instances
        if instance.setup
    ]
    for instance, setup in setups:
        instance._finish(setup, "setup.log")
    # Every server is started before waiting on any: they load Django side by side.
    for instance in instances:
        instance.start_worker()
        instance._spawn_server()
    for instance in instances:
        instance.wait_until_answering()


@contextmanager
def running_instances(
    tmp_path: Path, smtp_port: int, names: Sequence[str] = ("surgery", "hospital"), setup: str | None = DIRECTORY_SETUP
) -> Iterator[list[CarebridgeInstance]]:
    """Instances started side by side on one clock (see the module's docstring), stopped and their
    databases dropped however the block ends."""
    shift = clock_shift_now()
    with ExitStack() as cleanup:
        instances = []
        for name in names:
            instance = CarebridgeInstance(name, tmp_path, smtp_port, clock_shift=shift, setup=setup)
            cleanup.callback(instance.stop)
            instances.append(instance)
        start_all(instances)
        yield instances


# --- The mail server both send to ----------------------------------------------------------------------


class InstanceMailServer:
    """aiosmtpd on a fixed loopback port, which can be stopped ("the mail server is down") and started
    again on the same port; the messages it accepted are kept across a restart."""

    def __init__(self) -> None:
        from carebridge.delivery.tests.mail_testing import Inbox, MailServer, free_port

        self.inbox = Inbox()
        self._server = MailServer(free_port(), self.inbox)
        self.port = self._server.port
        self.running = False

    @property
    def messages(self) -> list[Any]:
        return self.inbox.messages

    def start(self) -> None:
        self._server.start()
        self.running = True

    def stop(self) -> None:
        self._server.stop()
        self.running = False

    def wait_for(self, count: int, what: str = "messages") -> list[Any]:
        """Wait (PATIENCE at most) until `count` messages have arrived; them."""
        until(lambda: len(self.messages) >= count, f"{count} {what} at the mail server")
        return self.messages


def until(condition: Any, what: str, seconds: float = PATIENCE) -> None:
    """Wait for `condition()`, polled; fail the test after `seconds` (generous: nothing here is timed)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.2)


@pytest.fixture
def instance_mail() -> Iterator[InstanceMailServer]:
    server = InstanceMailServer()
    server.start()
    yield server
    if server.running:
        server.stop()


@pytest.fixture
def instance_pair(tmp_path: Path, instance_mail: InstanceMailServer) -> Iterator[list[CarebridgeInstance]]:
    """[surgery, hospital], running, sending mail to `instance_mail`; stopped and dropped after the test."""
    with running_instances(tmp_path, instance_mail.port) as pair:
        yield pair
