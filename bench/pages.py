"""How long the pages the browser tests visit take to render, with the demo data: a measurement, not a test.

    .venv/bin/python bench/pages.py                      # SQLite demo in var/bench-pages.sqlite3
    .venv/bin/python bench/pages.py --patients 20000     # a bigger demo (its own file)
    DATABASE_URL=postgres://... .venv/bin/python bench/pages.py
    .venv/bin/python bench/pages.py --only book --repeat 20

Without DATABASE_URL it uses (or makes) an SQLite file of its own under var/, one per demo size, as
`make run` makes its demo: `migrate`, then `seed-demo` when the database is empty. With DATABASE_URL it
migrates and seeds that database if it is empty, and otherwise uses what is there.

Each page is asked for in this process with Django's test client, signed in as the demo login that visits
it in the browser tests: the whole stack (middleware, the view, its queries, the template) but not a
web server or the network. One request warms each page up; then --repeat requests are timed. For each
page it prints the median and worst wall-clock time around the request, the median CPU time of this
process (on SQLite the database's work is in it too, and other processes on a busy machine do not count),
the size of the answer and its SQL statements. Pages that write (a booking, say) are asked for with GET
only, as a person first sees them. Every request is real: reads of patient records are audited into
the database used, so use a demo database, never one with real patients.

Exit status: 0 measured (whatever the figures); 1 a page answered other than its expected status; 2 the
database could not be prepared.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Django reads the database from the environment when it starts: settle it before importing Django.
_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--patients", type=int, default=None, help="demo size to seed (default: seed-demo's own)")
_parser.add_argument("--repeat", type=int, default=7, help="timed requests per page (default 7)")
_parser.add_argument("--only", default="", help="only the pages whose name contains this")
_parser.add_argument("--limit-ms", type=float, default=150.0, help="the target for the median (default 150)")
_parser.add_argument(
    "--by",
    choices=("auto", "wall", "cpu"),
    default="auto",
    help="which median the target applies to; auto: CPU on SQLite (the database works in this process, and a"
    " busy machine's other processes do not count), wall-clock time otherwise",
)
ARGS = _parser.parse_args()

if not os.environ.get("DATABASE_URL"):
    (PROJECT_DIR / "var").mkdir(exist_ok=True)
    suffix = f"-{ARGS.patients}" if ARGS.patients else ""
    os.environ["DATABASE_URL"] = f"sqlite:///{PROJECT_DIR / 'var' / f'bench-pages{suffix}.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carebridge.config.settings")
os.environ.setdefault("CAREBRIDGE_DEMO", "true")
sys.path.insert(0, str(PROJECT_DIR))

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from carebridge.accounts.models import User  # noqa: E402
from carebridge.clinical.models import Consultation  # noqa: E402
from carebridge.core import clock  # noqa: E402
from carebridge.demo.services import database_contents  # noqa: E402
from carebridge.patients.models import Patient  # noqa: E402
from carebridge.referrals.models import Referral, ReferralStatus  # noqa: E402
from carebridge.scheduling.models import Appointment, AppointmentStatus  # noqa: E402
from carebridge.scheduling.selectors import free_slots  # noqa: E402


@dataclass(frozen=True)
class Page:
    name: str
    login: str  # the demo login that visits it (seed-demo prints them)
    # The address, worked out from the demo data; None when the demo has nothing to show there.
    url: Callable[[], str | None]
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


def _login(username: str) -> User:
    return User.objects.get(username=username)


def _demo_patient() -> Patient:
    return _login("patient").patient


def _their_upcoming_appointment() -> Appointment | None:
    return (
        Appointment.objects.filter(patient=_demo_patient(), status=AppointmentStatus.BOOKED, starts_at__gt=clock.now())
        .order_by("starts_at")
        .first()
    )


def _free_slot_at(facility_id: int) -> str | None:
    slot = free_slots(facility_id=facility_id).first()
    return str(slot.public_id) if slot else None


def _with(value, build: Callable) -> str | None:
    return build(value) if value is not None else None


def _open_referral(*statuses: str) -> Referral | None:
    hospital = _login("specialist").clinician.workplace_id
    return Referral.objects.filter(receiving_facility_id=hospital, status__in=statuses).order_by("-created_at").first()


def _patient_record() -> str:
    return f"/patients/{_demo_patient().public_id}/"


def _gp_consultation() -> Consultation | None:
    return Consultation.objects.filter(clinician=_login("gp").clinician).order_by("-pk").first()


# The pages the browser tests visit (carebridge/*/tests/test_browser_*.py), each with the login that
# visits it there; the home page of each role too, where every journey starts.
PAGES = [
    Page("sign in", "", lambda: "/accounts/sign-in/"),
    # A patient
    Page("patient: own record", "patient", lambda: "/patients/me/"),
    Page("patient: your appointments", "patient", lambda: "/appointments/"),
    Page("patient: book (first day)", "patient", lambda: "/appointments/book/"),
    Page(
        "patient: book, next day (htmx)",
        "patient",
        lambda: f"/appointments/book/?from_date={clock.today() + dt.timedelta(days=2)}",
        headers=(("HX-Request", "true"),),
    ),
    Page(
        "patient: check and book",
        "patient",
        lambda: _with(_free_slot_at(_demo_patient().registered_surgery_id), lambda slot: f"/appointments/book/{slot}/"),
    ),
    Page(
        "patient: choose a new time",
        "patient",
        lambda: _with(_their_upcoming_appointment(), lambda a: f"/appointments/{a.public_id}/change/"),
    ),
    Page(
        "patient: cancel",
        "patient",
        lambda: _with(_their_upcoming_appointment(), lambda a: f"/appointments/{a.public_id}/cancel/"),
    ),
    Page("patient: your medicines", "patient", lambda: "/prescribing/mine/"),
    Page("patient: your referrals", "patient", lambda: "/referrals/mine/"),
    # Reception at the demo patient's surgery
    Page("reception: home", "reception", lambda: "/"),
    Page(
        "reception: find a patient",
        "reception",
        lambda: f"/patients/?nhs_number={_demo_patient().nhs_number}",
    ),
    Page("reception: patient record", "reception", _patient_record),
    Page(
        "reception: book for a patient",
        "reception",
        lambda: f"/appointments/patients/{_demo_patient().public_id}/book/",
    ),
    Page(
        "reception: check and book",
        "reception",
        lambda: _with(
            _free_slot_at(_demo_patient().registered_surgery_id),
            lambda slot: f"/appointments/patients/{_demo_patient().public_id}/book/{slot}/",
        ),
    ),
    Page("reception: day list", "reception", lambda: "/appointments/day/"),
    Page("reception: to close", "reception", lambda: "/appointments/to-close/"),
    Page("reception: register a patient", "reception", lambda: "/patients/register/"),
    # The practice manager
    Page("manager: schedules", "manager", lambda: "/appointments/schedules/"),
    Page("manager: add a session", "manager", lambda: "/appointments/schedules/sessions/add/"),
    Page("manager: staff", "manager", lambda: "/staff/"),
    # The GP
    Page("gp: home", "gp", lambda: "/"),
    Page("gp: my day", "gp", lambda: "/appointments/my-day/"),
    Page("gp: patient record", "gp", _patient_record),
    Page(
        "gp: record a consultation",
        "gp",
        lambda: f"/clinical/patients/{_demo_patient().public_id}/consultations/new/",
    ),
    Page(
        "gp: a consultation",
        "gp",
        lambda: _with(_gp_consultation(), lambda c: f"/clinical/consultations/{c.public_id}/"),
    ),
    Page("gp: prescribe", "gp", lambda: f"/prescribing/patients/{_demo_patient().public_id}/new/"),
    Page("gp: repeat requests", "gp", lambda: "/prescribing/repeat-requests/"),
    Page("gp: refer", "gp", lambda: f"/referrals/patients/{_demo_patient().public_id}/new/"),
    # The hospital
    Page("specialist: referrals", "specialist", lambda: "/referrals/worklist/"),
    Page("specialist: my day", "specialist", lambda: "/appointments/my-day/"),
    Page(
        "specialist: a referral",
        "specialist",
        lambda: _with(
            _open_referral(ReferralStatus.NEW, ReferralStatus.PENDING), lambda r: f"/referrals/{r.public_id}/"
        ),
    ),
    Page(
        "specialist: triage",
        "specialist",
        lambda: _with(_open_referral(ReferralStatus.NEW), lambda r: f"/referrals/{r.public_id}/triage/"),
    ),
    Page(
        "specialist: arrival pack",
        "specialist",
        lambda: _with(
            _open_referral(ReferralStatus.PENDING, ReferralStatus.IN_PROGRESS),
            lambda r: f"/referrals/{r.public_id}/pack/",
        ),
    ),
    Page("hospital reception: referrals", "hospital-reception", lambda: "/referrals/worklist/"),
    Page(
        "hospital reception: book a referral",
        "hospital-reception",
        lambda: _with(_open_referral(ReferralStatus.PENDING), lambda r: f"/referrals/{r.public_id}/book/"),
    ),
    Page("hospital reception: day list", "hospital-reception", lambda: "/appointments/day/"),
    # The privacy officer and the system administrator
    Page("privacy: audit trail", "privacy", lambda: "/privacy/audit/"),
    Page("privacy: emergency access", "privacy", lambda: "/privacy/emergency-access/"),
    Page("admin: home", "admin", lambda: "/"),
]


def prepare_database() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    if not database_contents():
        print(f"Seeding the demo into {connection.settings_dict['NAME']} ...", flush=True)
        options = {"patients": ARGS.patients} if ARGS.patients else {}
        call_command("seed_demo", **options)


@dataclass
class Measured:
    page: Page
    url: str
    status: int
    wall_ms: list[float]
    cpu_ms: list[float]
    size_kb: float
    statements: int


def measure(page: Page, clients: dict[str, Client]) -> Measured | None:
    url = page.url()
    if url is None:
        return None
    if page.login not in clients:
        client = Client(raise_request_exception=False)
        if page.login:
            client.force_login(_login(page.login))
        clients[page.login] = client
    client = clients[page.login]
    headers = dict(page.headers)
    client.get(url, headers=headers)  # warm: templates compiled, caches filled
    wall, cpu = [], []
    for _ in range(ARGS.repeat):
        with CaptureQueriesContext(connection) as statements:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return Measured(page, url, response.status_code, wall, cpu, len(response.content) / 1024, len(statements))


def main() -> int:
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here
    logging.disable(logging.WARNING)  # a refused page is reported below, not as a traceback
    try:
        prepare_database()
    except Exception as problem:  # noqa: BLE001 - say why and stop, as bench/run.py does
        print(f"bench/pages.py: could not prepare the database: {problem}", file=sys.stderr)
        return 2
    vendor = connection.vendor
    by = ARGS.by if ARGS.by != "auto" else ("cpu" if vendor == "sqlite" else "wall")
    print(
        f"{Patient.objects.count():,} patients on {vendor}; {ARGS.repeat} timed requests a page; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}\n"
    )
    print(f"{'page':40} {'median':>7} {'worst':>7} {'cpu':>6} {'KB':>6} {'SQL':>4}")
    clients: dict[str, Client] = {}
    failed, slow = [], []
    for page in PAGES:
        if ARGS.only and ARGS.only not in page.name:
            continue
        result = measure(page, clients)
        if result is None:
            print(f"{page.name:40} (nothing in the demo to show)")
            continue
        median = statistics.median(result.wall_ms)
        print(
            f"{page.name:40} {median:7.0f} {max(result.wall_ms):7.0f} {statistics.median(result.cpu_ms):6.0f} "
            f"{result.size_kb:6.0f} {result.statements:4}"
            + (f"  answered {result.status}" if result.status != page.status else "")
        )
        if result.status != page.status:
            failed.append(f"{page.name}: {result.url} answered {result.status}, not {page.status}")
        judged = median if by == "wall" else statistics.median(result.cpu_ms)
        if judged >= ARGS.limit_ms:
            slow.append(page.name)
    print("\nmedian and worst: wall-clock ms per request; cpu: median ms of this process's CPU time")
    if slow:
        print(f"At or over {ARGS.limit_ms:.0f} ms ({by} median): {', '.join(slow)}")
    else:
        print(f"Every page under {ARGS.limit_ms:.0f} ms ({by} median).")
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
