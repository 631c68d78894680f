#!/usr/bin/env python3
"""`make bench`: DESIGN section 8's benchmarks for booking, free-slot search and NHS-number lookup,
issue 7's for prescribing, and issue 8's for referrals (the arrival pack, making a referral).

Run with the project's virtualenv Python (the Makefile does). It:
1. takes a PostgreSQL server: the one BENCH_DATABASE_URL names, or a throwaway cluster of its own
   (bin/pg-throwaway), and makes a fresh database there; migrates it and loads
   `carebridge seed-demo --patients BENCH_PATIENTS` (default 100,000); bench/prepare.py then adds
   weekly sessions if the demo has none (bench-only), gives the prescribing patients a problem to treat
   (bench-only), checks in referred patients at their hospital appointments (bench-only) and plans the
   requests;
2. starts the application under gunicorn, and beside it the ceiling (bench/ceiling: the least Django
   that books, searches, prescribes or refers over the same tables), with the same workers, on loopback
   ports;
3. drives both with bench/load.py: 64 clients racing for 20 slots, spread booking at 8 and 32 clients,
   free-slot search, NHS-number lookup, prescribing at 8 clients, the arrival pack at 8 and 32 clients,
   making a referral at 8 clients; checks in the database after every booking run that no slot is held
   twice, and after the referrals that each was queued for the hospital exactly once; prints the
   figures beside the targets;
4. stops everything it started, also on Ctrl-C or failure.

Exit status: 0 when every correctness check held, whether or not the targets were met (the figures are
measurements); 1 on a correctness breach (a slot held twice, a 5xx answer, a race not won exactly 20
times, a scenario nothing answered, any answer but 200 to an arrival pack or 201 to a referral, a
referral not queued for the hospital exactly once); 2 when it could not get as far as measuring.

Environment (all optional; docs/benchmarks.md says more):
  BENCH_DATABASE_URL  a PostgreSQL server to use instead of a throwaway one (a database is created
                      on it for the run and dropped afterwards)
  BENCH_PATIENTS      patients to seed (default 100000)
  BENCH_WORKERS       gunicorn worker processes for each server (default 4)
  BENCH_WORKER_CLASS  gunicorn worker class, sync or gthread (default sync); BENCH_THREADS (default 1)
  BENCH_SECONDS       the longest any one measured run lasts (default 10)
  BENCH_APP_BOOKINGS, BENCH_CEILING_BOOKINGS
                      the most bookings in one spread run at the application (2500) and the ceiling (4000)
  BENCH_APP_PRESCRIPTIONS, BENCH_CEILING_PRESCRIPTIONS
                      the most prescriptions in the prescribing run at the application (2500) and the
                      ceiling (4000)
  BENCH_ARRIVALS      the most referred patients checked in for the arrival pack (500)
  BENCH_APP_REFERRALS, BENCH_CEILING_REFERRALS
                      the most referrals in the referring run at the application (1000) and the
                      ceiling (4000)
  BENCH_KEEP          1: keep the database (and throwaway cluster) and print how to reach them
"""

import ctypes
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import TRANSPORT_ERROR, LoadResult, Request, free_port, run_load, wait_until_answering  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_DIR / "bench"
BIN_DIR = Path(sys.executable).parent  # the virtualenv's bin: carebridge and gunicorn live beside python
WORK_DIR = PROJECT_DIR / "var" / "bench"
HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1

# The statuses are scheduling.models.HOLDING_STATUSES: an appointment in any of them holds its slot.
DOUBLE_BOOKED_SQL = """
SELECT slot_id, count(*) FROM scheduling_appointment
WHERE slot_id IS NOT NULL AND status IN ('booked', 'arrived', 'fulfilled', 'noshow')
GROUP BY slot_id HAVING count(*) > 1
"""


class SetupFailed(Exception):
    """The run could not get as far as measuring (exit status 2); the message says why."""


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value.replace("_", "").replace(",", "")) if value else default
    except ValueError:
        raise SetupFailed(f"make bench: {name} must be a whole number, not {value!r}") from None


@dataclass(frozen=True)
class Config:
    database_url: str
    patients: int
    workers: int
    worker_class: str
    threads: int
    seconds: float
    app_bookings: int
    ceiling_bookings: int
    keep: bool
    app_prescriptions: int = 2500
    ceiling_prescriptions: int = 4000
    arrivals: int = 500
    app_referrals: int = 1000
    ceiling_referrals: int = 4000

    @classmethod
    def from_environment(cls) -> "Config":
        worker_class = os.environ.get("BENCH_WORKER_CLASS", "sync").strip() or "sync"
        if worker_class not in ("sync", "gthread"):
            raise SetupFailed("make bench: BENCH_WORKER_CLASS must be sync or gthread")
        return cls(
            database_url=os.environ.get("BENCH_DATABASE_URL", "").strip(),
            patients=env_int("BENCH_PATIENTS", 100_000),
            workers=env_int("BENCH_WORKERS", 4),
            worker_class=worker_class,
            threads=env_int("BENCH_THREADS", 1),
            seconds=float(env_int("BENCH_SECONDS", 10)),
            app_bookings=env_int("BENCH_APP_BOOKINGS", 2500),
            ceiling_bookings=env_int("BENCH_CEILING_BOOKINGS", 4000),
            keep=os.environ.get("BENCH_KEEP") == "1",
            app_prescriptions=env_int("BENCH_APP_PRESCRIPTIONS", 2500),
            ceiling_prescriptions=env_int("BENCH_CEILING_PRESCRIPTIONS", 4000),
            arrivals=env_int("BENCH_ARRIVALS", 500),
            app_referrals=env_int("BENCH_APP_REFERRALS", 1000),
            ceiling_referrals=env_int("BENCH_CEILING_REFERRALS", 4000),
        )


# --- Targets (DESIGN section 8) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    text: str
    met: Callable[["Row"], bool]


BOOKING_8 = Target(
    "≥150/s, p95 ≤100 ms, ≥0.5× ceiling",
    lambda row: row.throughput >= 150 and row.p95 <= 100 and (row.ratio or 0) >= 0.5,
)
BOOKING_RATIO = Target("≥0.5× ceiling", lambda row: (row.ratio or 0) >= 0.5)
SEARCH = Target("≥400/s, p95 ≤100 ms", lambda row: row.throughput >= 400 and row.p95 <= 100)
LOOKUP = Target("p95 ≤50 ms", lambda row: row.p95 <= 50)
RACE = Target("exactly 20 × 201, rest 409, no 5xx", lambda row: row.race_ok)
# Issue 7: "within the same ratio to the ceiling as booking", whose target (issue 10) is 0.3x at 8 clients.
PRESCRIBING = Target("≥0.3× ceiling (booking's ratio)", lambda row: (row.ratio or 0) >= 0.3)
# Issue 8: the arrival lookup at 8 clients (and no more than 2x slower at 1,000,000 patients, by hand).
ARRIVAL = Target("p95 ≤50 ms (issue 8, 8 clients)", lambda row: row.p95 <= 50)


@dataclass
class Row:
    scenario: str
    server: str  # "app" or "ceiling"
    result: LoadResult
    expected: tuple[int, ...]  # statuses that are not errors
    target: Target | None = None
    ratio: float | None = None
    race_ok: bool = False
    note: str = ""
    cpu: "CpuUse | None" = None
    statements: int | None = None  # SQL statements one request runs, where counted

    @property
    def requests(self) -> int:
        return len(self.result.outcomes)

    @property
    def errors(self) -> int:
        return sum(1 for outcome in self.result.outcomes if outcome.status not in self.expected)

    @property
    def server_errors(self) -> int:
        return sum(1 for outcome in self.result.outcomes if outcome.status >= 500)

    @property
    def throughput(self) -> float:
        return self.result.throughput

    @property
    def p50(self) -> float:
        return self.result.percentile_ms(0.50)

    @property
    def p95(self) -> float:
        return self.result.percentile_ms(0.95)

    @property
    def p99(self) -> float:
        return self.result.percentile_ms(0.99)


@dataclass
class Run:
    """Everything started, so that it can all be stopped whatever happens."""

    config: Config
    cluster_dir: str = ""
    admin_url: str = ""  # a connection to the server, for CREATE/DROP DATABASE
    database_url: str = ""
    database_name: str = ""
    servers: dict[str, subprocess.Popen] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def main() -> int:
    try:
        config = Config.from_environment()
    except SetupFailed as failure:
        print(failure, file=sys.stderr)
        return 2
    run = Run(config)
    # SIGTERM (say, from a CI runner) ends the run the way Ctrl-C does, through the clean-up below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    os.chdir(PROJECT_DIR)
    try:
        return bench(run)
    except SetupFailed as failure:
        print(failure, file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as failure:
        print(f"make bench: {' '.join(map(str, failure.cmd))} failed (exit {failure.returncode})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmake bench: interrupted; stopping what it started.", file=sys.stderr)
        return 130
    finally:
        # Further Ctrl-Cs would only interrupt the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        clean_up(run)


def bench(run: Run) -> int:
    config = run.config
    began = time.monotonic()
    print(f"make bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    for line in machine_lines():
        print(f"  {line}")

    step("PostgreSQL")
    start_database(run)
    print(f"  server {server_version(run.admin_url)}; database {run.database_name}")

    step("Migrate")
    timed(lambda: carebridge(run, "migrate", "--noinput", quiet=True), "migrate")

    step(f"Seed {config.patients:,} patients (carebridge seed-demo)")
    seed_seconds = timed(
        lambda: carebridge(
            run,
            "seed-demo",
            "--patients",
            str(config.patients),
            "--force",
            echo=lambda line: (
                line.startswith(("Wrote", "Logins", "  "))
                and not any(word in line for word in ("carebridge-demo", "----", "Username"))
            ),
        ),
        "seed-demo",
    )

    # A freshly loaded database has no statistics yet (a running one would have them from autovacuum),
    # and without them the planner guesses, slowly, in prepare.py's queries and in the measured ones.
    with psycopg.connect(run.database_url, autocommit=True) as connection:
        timed(lambda: connection.execute("VACUUM ANALYZE"), "VACUUM ANALYZE")

    step("Plan (bench/prepare.py)")
    plan_path = WORK_DIR / "plan.json"
    prepare_seconds = timed(
        lambda: subprocess.run(
            [
                sys.executable,
                str(BENCH_DIR / "prepare.py"),
                "--plan",
                str(plan_path),
                "--app-bookings",
                str(config.app_bookings),
                "--ceiling-bookings",
                str(config.ceiling_bookings),
                "--app-prescriptions",
                str(config.app_prescriptions),
                "--ceiling-prescriptions",
                str(config.ceiling_prescriptions),
                "--arrivals",
                str(config.arrivals),
                "--app-referrals",
                str(config.app_referrals),
                "--ceiling-referrals",
                str(config.ceiling_referrals),
            ],
            env=app_environment(run),
            check=True,
        ),
        "prepare",
    )
    plan = json.loads(plan_path.read_text())
    plan_path.unlink()  # it holds an API token
    if not plan["token"]:
        print(
            "make bench: the application has no `api-token` command yet, so its API cannot be measured.",
            file=sys.stderr,
        )
        return 2
    # Again, for what prepare.py wrote (all the slots, when the demo made no schedules).
    with psycopg.connect(run.database_url, autocommit=True) as connection:
        timed(lambda: connection.execute("ANALYZE"), "ANALYZE")
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    counts = plan["counts"]
    print(
        f"  database {size}: {counts['patients']:,} patients, {counts['slots']:,} slots; the application books "
        f"at {counts['surgeries']} GP surgeries, each as a front-desk login there (the race at "
        f"{plan['desks'][0]['facility']}, as {plan['desks'][0]['username']!r})"
    )
    print(f"  schedules: {plan['schedules']}")
    prescribers = [prescriber for prescriber in plan.get("prescribers", []) if prescriber["token"]]
    if plan.get("app_rx"):
        print(
            f"  prescribing: as a GP at each of {len(prescribers)} of those surgeries (at {prescribers[0]['facility']} "
            f"as {prescribers[0]['username']!r}), {plan['rx_order']['medicine']} "
            f"{plan['rx_order']['dose_value']} {plan['rx_order']['dose_unit']} "
            f"{plan['rx_order']['frequency'].lower()} for {plan['rx_order']['duration_days']} days to up to "
            f"{len(plan['app_rx']):,} patients with no allergy or medicine it would warn about"
        )
    if plan.get("arrivals"):
        print(
            f"  arrival: {plan['arrival_referrals']:,} referred patients checked in at their hospital appointment "
            f"(of {plan['arrival_candidates']:,} open referrals with one booked ahead), each pack asked for by the "
            f"consultant whose clinic it is ({len(plan['consultants'])} consultants, at "
            f"{len({consultant['facility'] for consultant in plan['consultants']})} hospitals)"
        )
    else:
        print(f"  arrival: not measured ({plan.get('arrival_note', 'not planned')})")
    if plan.get("app_referrals"):
        order = plan["referral_order"]
        print(
            f"  making a referral: as the GP at each surgery, {order['priority']}, with a reason, a summary and "
            f"{len(order['investigations'])} investigations, no attachment, for up to {len(plan['app_referrals']):,} "
            f"of the surgery's patients, each to a random hospital and a service it offers; no facility has a "
            f"remote system set, so only the emails are queued (no worker sends them)"
        )
    else:
        print(f"  making a referral: not measured ({plan.get('referring_note', 'not planned')})")

    step(
        f"Servers: gunicorn, {config.workers} {config.worker_class} workers"
        + (f" x {config.threads} threads" if config.worker_class == "gthread" else "")
        + " each"
    )
    app_port = start_server(run, "app", "carebridge.config.wsgi:application", app_environment(run))
    ceiling_port = start_server(
        run,
        "ceiling",
        "ceiling.wsgi:application",
        {**app_environment(run), "DJANGO_SETTINGS_MODULE": "ceiling.settings"},
        extra=["--pythonpath", str(BENCH_DIR)],
    )
    for name, port in (("app", app_port), ("ceiling", ceiling_port)):
        if not wait_until_answering(HOST, port, "/healthz", 60):
            print(f"make bench: the {name} server did not answer within 60 s; its log:", file=sys.stderr)
            print(tail(WORK_DIR / f"{name}.log"), file=sys.stderr)
            return 2
    print(f"  application on {HOST}:{app_port}, ceiling on {HOST}:{ceiling_port}")

    app = Server(HOST, app_port, "/api", tuple(desk["token"] for desk in plan["desks"]))
    ceiling = Server(HOST, ceiling_port, "")
    # The same application, as each surgery's GP: desks book, GPs prescribe.
    app_gps = Server(HOST, app_port, "/api", tuple(gp["token"] for gp in plan.get("prescribers", [])))
    # And as the hospitals' consultants, who open the arrival pack.
    app_consultants = Server(HOST, app_port, "/api", tuple(c["token"] for c in plan.get("consultants", [])))
    step("Warm-up")
    if not warm_up(run, plan, app, ceiling, app_gps, app_consultants):
        return 2

    step("Measure")
    print(f"  load average before: {load_average()}")
    measure(run, plan, app, ceiling)
    measure_prescribing(run, plan, app_gps, ceiling)
    measure_referrals(run, plan, app_consultants, app_gps, ceiling)
    print(
        f"  load average after: {load_average()} (1, 5 and 15 minutes; the servers, PostgreSQL and the load "
        f"generator share these CPUs, and so does anything else running)"
    )

    step("Results")
    print_table(run.rows)
    print()
    print(
        f"Seeding {config.patients:,} patients took {seed_seconds:.0f} s, preparing {prepare_seconds:.0f} s; "
        f"the whole run {time.monotonic() - began:.0f} s."
    )
    if run.breaches:
        print("\nCORRECTNESS BREACHES:")
        for breach in run.breaches:
            print(f"  - {breach}")
        return 1
    print(
        "Correctness: every check held (no slot held twice, no 5xx, the races won exactly 20 times, every arrival "
        "pack and referral answered as expected, each referral queued for its hospital exactly once)."
    )
    return 0


# --- Database --------------------------------------------------------------------------------------


def start_database(run: Run) -> None:
    if run.config.database_url:
        run.admin_url = run.config.database_url
    else:
        created = subprocess.run(
            [str(PROJECT_DIR / "bin" / "pg-throwaway"), "create", "pgbench"], stdout=subprocess.PIPE, text=True
        )  # its complaints go straight to stderr
        if created.returncode != 0:
            raise SetupFailed("make bench: could not make a directory for a throwaway PostgreSQL (see above)")
        run.cluster_dir = created.stdout.strip()
        # Durable as in production (fsync and synchronous commit on), with memory for the data set.
        started = subprocess.run(
            [
                str(PROJECT_DIR / "bin" / "pg-throwaway"),
                "start",
                run.cluster_dir,
                "-c",
                "shared_buffers=512MB",
                "-c",
                "max_wal_size=4GB",
                "-c",
                "max_connections=200",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHON": sys.executable},
            # In a session of its own, so a Ctrl-C at the terminal reaches us, not the server.
            start_new_session=True,
        )
        if started.returncode != 0:
            raise SetupFailed(f"make bench: could not start a throwaway PostgreSQL:\n{started.stderr}")
        run.admin_url = started.stdout.strip()
        print(f"  a throwaway cluster in {run.cluster_dir}")
    run.database_name = f"carebridge_bench_{os.getpid()}"
    with psycopg.connect(run.admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(run.database_name)))
    parts = conninfo_to_dict(run.admin_url)
    parts["dbname"] = run.database_name
    run.database_url = libpq_url(parts)


def libpq_url(parts: dict) -> str:
    """A postgres:// URL for the settings' dj-database-url (which does not read key=value strings)."""
    user = quote(parts.get("user", "postgres"), safe="")
    password = f":{quote(parts['password'], safe='')}" if parts.get("password") else ""
    host = parts.get("host", "127.0.0.1")
    port = f":{parts['port']}" if parts.get("port") else ""
    extra = {key: value for key, value in parts.items() if key not in ("user", "password", "host", "port", "dbname")}
    query = f"?{urlencode(extra)}" if extra else ""
    return f"postgres://{user}{password}@{host}{port}/{parts['dbname']}{query}"


def server_version(url: str) -> str:
    with psycopg.connect(url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def double_booked(run: Run) -> list[tuple[int, int]]:
    with psycopg.connect(run.database_url) as connection:
        return connection.execute(DOUBLE_BOOKED_SQL).fetchall()


def check_no_double_booking(run: Run, after: str) -> None:
    found = double_booked(run)
    if found:
        run.breaches.append(f"after {after}: {len(found)} slots held by more than one appointment: {found[:5]}")
        print(f"    database check after {after}: {len(found)} SLOTS HELD TWICE")
    else:
        print(f"    database check after {after}: no slot is held by two active appointments")


# --- Processes -------------------------------------------------------------------------------------


def app_environment(run: Run) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL")
    }
    # CAREBRIDGE_DEMO: the settings run without a SECRET_KEY; nothing else in the request path reads it.
    return {**environment, "DATABASE_URL": run.database_url, "CAREBRIDGE_DEMO": "true", "LOG_LEVEL": "WARNING"}


def carebridge(run: Run, *args: str, quiet: bool = False, echo: Callable[[str], bool] | None = None) -> None:
    command = [str(BIN_DIR / "carebridge"), *args]
    completed = subprocess.run(command, env=app_environment(run), capture_output=True, text=True)
    if completed.returncode != 0:
        print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n", file=sys.stderr)
        raise SetupFailed(f"make bench: `carebridge {' '.join(args)}` failed (exit {completed.returncode})")
    if not quiet:
        for line in completed.stdout.splitlines():
            if echo is None or echo(line):
                print(f"  {line.strip()}")


def start_server(
    run: Run, name: str, application: str, environment: dict[str, str], extra: list[str] | None = None
) -> int:
    config = run.config
    port = free_port()
    command = [
        str(BIN_DIR / "gunicorn"),
        application,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(config.workers),
        "--worker-class",
        config.worker_class,
        "--threads",
        str(config.threads),
        "--no-control-socket",
        "--graceful-timeout",
        "5",
        "--error-logfile",
        str(WORK_DIR / f"{name}.log"),
        *(extra or []),
    ]
    parent = os.getpid()

    def die_with_parent() -> None:
        # Runs in the child between fork and exec: should this process die without cleaning up, the
        # kernel stops the server, so nothing is left holding a port.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    log = WORK_DIR / f"{name}.log"
    log.unlink(missing_ok=True)
    # Django's own logging (a warning per 4xx answer, say) goes to the server's stderr: into its log too.
    with log.open("ab") as stderr:
        run.servers[name] = subprocess.Popen(
            command,
            env=environment,
            cwd=PROJECT_DIR,
            start_new_session=True,
            preexec_fn=die_with_parent,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return port


def clean_up(run: Run) -> None:
    for server in run.servers.values():
        if server.poll() is None:
            server.terminate()
    for server in run.servers.values():
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if run.config.keep and run.database_url:
        print(
            f"BENCH_KEEP: the database stays at {run.database_url}"
            + (f"; stop the cluster with: bin/pg-throwaway stop {run.cluster_dir}" if run.cluster_dir else "")
        )
        return
    if run.cluster_dir:
        subprocess.run([str(PROJECT_DIR / "bin" / "pg-throwaway"), "stop", run.cluster_dir], check=False)
        print("Stopped and deleted the throwaway PostgreSQL.")
    elif run.database_name and run.admin_url:
        try:
            with psycopg.connect(run.admin_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(run.database_name))
                )
            print(f"Dropped the database {run.database_name}.")
        except psycopg.Error as error:
            print(f"make bench: could not drop {run.database_name}: {error}", file=sys.stderr)


# --- Scenarios ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A server under load: where it is, where its API lives, and the tokens of its users (none for the
    ceiling, which checks nobody)."""

    host: str
    port: int
    prefix: str
    tokens: tuple[str, ...] = ()

    def _as(self, desk: int) -> tuple[tuple[str, str], ...]:
        return (("Authorization", f"Bearer {self.tokens[desk]}"),) if self.tokens else ()

    def book(self, pair: dict, appointment_type: str) -> Request:
        body = {
            "patient": pair["patient"],
            "slot": pair["slot"],
            "appointment_type": appointment_type,
            "reason": "Benchmark booking",
        }
        path = f"{self.prefix}/appointments" if self.tokens else "/book"
        return Request("POST", path, json.dumps(body).encode(), self._as(pair.get("desk", 0)), tag=pair["slot"])

    def search(self, item: dict) -> Request:
        return Request("GET", f"{self.prefix}/slots?{urlencode(item['query'])}", headers=self._as(item["desk"]))

    def lookup(self, item: dict) -> Request:
        return Request(
            "GET",
            f"{self.prefix}/patients?{urlencode({'nhs_number': item['nhs_number']})}",
            headers=self._as(item["desk"]),
        )

    def prescribe(self, item: dict, order: dict) -> Request:
        body = {"patient": item["patient"], "condition": item["condition"], **order}
        if self.tokens:
            path = f"{self.prefix}/prescriptions"
        else:
            path, body = "/prescribe", {**body, "prescriber": item["prescriber"]}
        return Request("POST", path, json.dumps(body).encode(), self._as(item["desk"]), tag=item["patient"])

    def pack(self, item: dict) -> Request:
        path = f"{self.prefix}/referrals/{item['referral']}/pack"
        return Request("GET", path, headers=self._as(item["desk"]), tag=item["referral"])

    def refer(self, item: dict, order: dict) -> Request:
        body = {
            "patient": item["patient"],
            "receiving_facility": item["receiving_facility"],
            "speciality": item["speciality"],
            **order,
        }
        if self.tokens:
            path = f"{self.prefix}/referrals"
        else:
            path, body = "/refer", {**body, "referrer": item["referrer"]}
        return Request("POST", path, json.dumps(body).encode(), self._as(item["desk"]), tag=item["patient"])

    def load(self, requests: list[Request], clients: int, seconds: float, **options) -> LoadResult:
        return run_load(
            host=self.host, port=self.port, requests=requests, clients=clients, max_seconds=seconds, **options
        )


def warm_up(run: Run, plan: dict, app: Server, ceiling: Server, app_gps: Server, app_consultants: Server) -> bool:
    """Every worker imports its code and opens its database connection before anything is timed; and one
    answer of each kind is looked at, so the run measures real work (not 401s or empty lists)."""
    kind = plan["appointment_type"]
    checks = [
        (
            "app search",
            app.load([app.search(item) for item in plan["searches"][:200]], 8, 30, keep_bodies=True),
            200,
            lambda body: isinstance(body, list) and len(body) > 0,
        ),
        (
            "app lookup",
            app.load([app.lookup(item) for item in plan["lookups"][:200]], 8, 30, keep_bodies=True),
            200,
            lambda body: isinstance(body, list) and len(body) == 1,
        ),
        (
            "app booking",
            app.load([app.book(pair, kind) for pair in plan["app_warmup"]], 4, 30, keep_bodies=True),
            201,
            lambda body: body.get("status") == "booked",
        ),
        (
            "ceiling search",
            ceiling.load([ceiling.search(item) for item in plan["searches"][:200]], 8, 30, keep_bodies=True),
            200,
            lambda body: isinstance(body, list) and len(body) > 0,
        ),
        (
            "ceiling booking",
            ceiling.load([ceiling.book(pair, kind) for pair in plan["ceiling_warmup"]], 4, 30, keep_bodies=True),
            201,
            lambda body: body.get("status") == "booked",
        ),
    ]
    if plan.get("app_rx"):
        order = plan["rx_order"]
        checks += [
            (
                "app prescribing",
                app_gps.load(
                    [app_gps.prescribe(item, order) for item in plan["app_rx_warmup"]], 4, 30, keep_bodies=True
                ),
                201,
                lambda body: body.get("status") == "issued" and body.get("medicine_key") == order["medicine"],
            ),
            (
                "ceiling prescribing",
                ceiling.load(
                    [ceiling.prescribe(item, order) for item in plan["ceiling_rx_warmup"]], 4, 30, keep_bodies=True
                ),
                201,
                lambda body: body.get("status") == "issued",
            ),
        ]
    if plan.get("arrivals"):
        items = plan["arrivals"][:200]
        asked = {item["referral"] for item in items}
        checks.append(
            (
                "app arrival pack",
                app_consultants.load([app_consultants.pack(item) for item in items], 8, 30, keep_bodies=True),
                200,
                # The whole pack, clinical content and all, for one of the referrals asked about.
                lambda body: (
                    body["referral"]["id"] in asked
                    and not body["referral"]["clinical_content_withheld"]
                    and bool(body["referral"]["reason"])
                ),
            )
        )
    if plan.get("app_referrals"):
        # Not `order`: the prescribing check above reads that name when it runs, below.
        referral_order = plan["referral_order"]
        checks += [
            (
                "app referring",
                app_gps.load(
                    [app_gps.refer(item, referral_order) for item in plan["app_referrals_warmup"]],
                    4,
                    30,
                    keep_bodies=True,
                ),
                201,
                lambda body: body.get("status") == "new" and len(body.get("ubrn") or "") == 12,
            ),
            (
                "ceiling referring",
                ceiling.load(
                    [ceiling.refer(item, referral_order) for item in plan["ceiling_referrals_warmup"]],
                    4,
                    30,
                    keep_bodies=True,
                ),
                201,
                lambda body: body.get("status") == "new",
            ),
        ]
    ok = True
    for name, result, status, looks_right in checks:
        wrong = [
            outcome
            for outcome in result.outcomes
            if outcome.status != status or not looks_right(json.loads(outcome.body or b"null"))
        ]
        print(f"  {name}: {len(result.outcomes)} requests, {len(wrong)} not as expected")
        if wrong:
            ok = False
            sample = wrong[0]
            print(
                f"    e.g. {sample.request.method} {sample.request.path} -> {sample.status or sample.error}: "
                f"{sample.body[:300]!r}",
                file=sys.stderr,
            )
            server = "app" if name.startswith("app") else "ceiling"
            print(tail(WORK_DIR / f"{server}.log"), file=sys.stderr)
    check_no_double_booking(run, "warm-up")
    if not ok:
        print("make bench: the servers do not answer as expected, so nothing was measured.", file=sys.stderr)
    return ok


def measure(run: Run, plan: dict, app: Server, ceiling: Server) -> None:
    seconds = run.config.seconds
    kind = plan["appointment_type"]

    for server, target, requests in (("app", app, plan["app_race"]), ("ceiling", ceiling, plan["ceiling_race"])):
        if not requests:
            continue
        slots = len({request["slot"] for request in requests})
        result, cpu = timed_load(
            run,
            server,
            target,
            [target.book(request, kind) for request in requests],
            len(requests),
            60,
            start_together=True,
        )
        won = [outcome for outcome in result.outcomes if outcome.status == 201]
        statuses = result.statuses
        race_ok = (
            len(won) == slots
            and len({outcome.request.tag for outcome in won}) == slots
            and statuses.get(409, 0) == len(requests) - slots
            and len(result.outcomes) == len(requests)
        )
        add_row(
            run,
            Row(
                f"race: {len(requests)} clients, {slots} slots",
                server,
                result,
                (201, 409),
                RACE if server == "app" else None,
                race_ok=race_ok,
                cpu=cpu,
                note=f"{len(won)} won, {statuses.get(409, 0)} got 409",
            ),
        )
        if not race_ok:
            run.breaches.append(
                f"{server} race: {len(won)} bookings won {slots} slots (statuses {dict(sorted(statuses.items()))})"
            )
        check_no_double_booking(run, f"the {server} race")

    for index, clients in enumerate((8, 32)):
        for server, target, pairs in (
            ("app", app, plan["app_spread"][index]),
            ("ceiling", ceiling, plan["ceiling_spread"][index]),
        ):
            result, cpu = timed_load(run, server, target, [target.book(pair, kind) for pair in pairs], clients, seconds)
            add_row(
                run,
                Row(
                    "booking, spread",
                    server,
                    result,
                    (201,),
                    cpu=cpu,
                    statements=plan.get("booking_statements") if server == "app" else 1,
                    note=f"stopped by {result.stopped_by} ({len(pairs):,} pairs planned)",
                ),
            )
            check_no_double_booking(run, f"{server} spread booking at {clients} clients")
        set_ratio(run.rows[-2], run.rows[-1], BOOKING_8 if clients == 8 else BOOKING_RATIO)

    searches = plan["searches"]
    for clients in (8, 32):
        for server, target in (("app", app), ("ceiling", ceiling)):
            result, cpu = timed_load(run, server, target, [target.search(item) for item in searches], clients, seconds)
            add_row(
                run,
                Row(
                    "free-slot search",
                    server,
                    result,
                    (200,),
                    cpu=cpu,
                    statements=plan.get("search_statements") if server == "app" else 1,
                    note=f"stopped by {result.stopped_by}",
                ),
            )
        set_ratio(run.rows[-2], run.rows[-1], SEARCH)

    for clients in (8, 32):
        result, cpu = timed_load(run, "app", app, [app.lookup(item) for item in plan["lookups"]], clients, seconds)
        add_row(
            run,
            Row(
                "NHS-number lookup",
                "app",
                result,
                (200,),
                LOOKUP,
                cpu=cpu,
                statements=plan.get("lookup_statements"),
                note=f"stopped by {result.stopped_by}",
            ),
        )


def measure_prescribing(run: Run, plan: dict, app_gps: Server, ceiling: Server) -> None:
    """Issuing a prescription with every check, at 8 clients, beside the ceiling's plain INSERT. After
    everything else, so the other scenarios run on the database as they did before it was added."""
    if not plan.get("app_rx"):
        print("  prescribing: nothing planned (no GP at any surgery), so not measured")
        return
    order = plan["rx_order"]
    clients = 8
    for server, target, items in (("app", app_gps, plan["app_rx"]), ("ceiling", ceiling, plan["ceiling_rx"])):
        result, cpu = timed_load(
            run, server, target, [target.prescribe(item, order) for item in items], clients, run.config.seconds
        )
        add_row(
            run,
            Row(
                "prescribing",
                server,
                result,
                (201,),
                cpu=cpu,
                statements=plan.get("rx_statements") if server == "app" else 1,
                note=f"stopped by {result.stopped_by} ({len(items):,} planned)",
            ),
        )
    set_ratio(run.rows[-2], run.rows[-1], PRESCRIBING)
    booking = next(
        (
            row
            for row in run.rows
            if row.scenario == "booking, spread" and row.server == "app" and row.result.clients == 8
        ),
        None,
    )
    if booking is not None and booking.ratio is not None:
        run.rows[-2].note += f"; booking's own ratio to its ceiling at 8 clients in this run: {booking.ratio:.2f}"


# Each referral the application made in the run, with its queued email to the hospital (exactly one), its
# letter (one), and its FHIR messages (none: no facility has a remote system set).
REFERRALS_QUEUED_SQL = """
SELECT r.public_id::text,
       (SELECT count(*) FROM delivery_outboundemail e
        WHERE e.idempotency_key = 'referral:' || r.public_id::text || ':to-hospital:v1'),
       (SELECT count(*) FROM referrals_referraldocument d WHERE d.referral_id = r.id AND d.kind = 'letter'),
       (SELECT count(*) FROM delivery_outboundfhir f WHERE f.object_id = r.public_id::text)
FROM referrals_referral r WHERE r.public_id = ANY(%s::uuid[])
"""


def measure_referrals(run: Run, plan: dict, app_consultants: Server, app_gps: Server, ceiling: Server) -> None:
    """Issue 8: the arrival pack at 8 and 32 clients, then making a referral at 8 clients beside the ceiling's
    plain INSERT. After everything else, so the other scenarios run on the database as they did before."""
    seconds = run.config.seconds
    if plan.get("arrivals"):
        statements = plan.get("arrival_statements")
        for clients in (8, 32):
            result, cpu = timed_load(
                run,
                "app",
                app_consultants,
                [app_consultants.pack(item) for item in plan["arrivals"]],
                clients,
                seconds,
            )
            row = Row(
                "arrival pack",
                "app",
                result,
                (200,),
                ARRIVAL if clients == 8 else None,
                cpu=cpu,
                statements=statements,
                note=f"stopped by {result.stopped_by}; {plan['arrival_referrals']:,} checked-in patients' packs",
            )
            add_row(run, row)
            breach_on_unexpected(run, row)
    else:
        print(f"  arrival pack: not measured ({plan.get('arrival_note', 'not planned')})")
    if not plan.get("app_referrals"):
        print(f"  making a referral: not measured ({plan.get('referring_note', 'not planned')})")
        return
    order = plan["referral_order"]
    clients = 8
    for server, target, items in (
        ("app", app_gps, plan["app_referrals"]),
        ("ceiling", ceiling, plan["ceiling_referrals"]),
    ):
        result, cpu = timed_load(
            run,
            server,
            target,
            [target.refer(item, order) for item in items],
            clients,
            seconds,
            keep_bodies=server == "app",
        )
        row = Row(
            "making a referral",
            server,
            result,
            (201,),
            cpu=cpu,
            statements=plan.get("referral_statements") if server == "app" else 1,
            note=f"stopped by {result.stopped_by} ({len(items):,} planned)",
        )
        add_row(run, row)
        breach_on_unexpected(run, row)
        if server == "app":
            check_referrals_queued(run, result)
    app_row, ceiling_row = run.rows[-2], run.rows[-1]
    if ceiling_row.throughput > 0:
        app_row.ratio = app_row.throughput / ceiling_row.throughput
    booking = next(
        (
            row
            for row in run.rows
            if row.scenario == "booking, spread" and row.server == "app" and row.result.clients == 8
        ),
        None,
    )
    app_row.note += "; issue 8 sets no throughput target for it"
    if booking is not None and booking.ratio is not None:
        app_row.note += f"; booking's own ratio to its ceiling at 8 clients in this run: {booking.ratio:.2f}"


def breach_on_unexpected(run: Run, row: Row) -> None:
    """In the referral scenarios every request is planned to succeed, so any other answer is a breach."""
    if row.errors:
        unexpected = next(outcome for outcome in row.result.outcomes if outcome.status not in row.expected)
        run.breaches.append(
            f"{row.scenario} [{row.server}] at {row.result.clients} clients: {row.errors} answers other than "
            f"{'/'.join(map(str, row.expected))} (statuses {dict(sorted(row.result.statuses.items()))}; e.g. "
            f"{unexpected.request.method} {unexpected.request.path} -> {unexpected.status or unexpected.error})"
        )


def check_referrals_queued(run: Run, result: LoadResult) -> None:
    """Every referral the application answered 201 for is in the database with its letter, queued for the
    hospital's inbox exactly once, and queued for no remote system (none is set)."""
    made = [json.loads(outcome.body)["id"] for outcome in result.outcomes if outcome.status == 201]
    with psycopg.connect(run.database_url) as connection:
        found = connection.execute(REFERRALS_QUEUED_SQL, [made]).fetchall()
    wrong = [row for row in found if row[1:] != (1, 1, 0)]
    missing = len(made) - len(found)
    if wrong or missing:
        run.breaches.append(
            f"making a referral: {missing} of {len(made)} referrals answered 201 are not in the database; "
            f"{len(wrong)} not queued exactly once with their letter, e.g. {wrong[:3]}"
        )
        print(f"    database check after making referrals: {missing} MISSING, {len(wrong)} NOT QUEUED EXACTLY ONCE")
    else:
        print(
            f"    database check after making referrals: each of the {len(made):,} is stored with its letter, "
            f"queued once for its hospital's inbox and for no remote system"
        )


# --- Where the CPU goes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used during one run: by the server's processes, by PostgreSQL, by the load generator."""

    server: float
    database: float | None  # None when the server is not ours to watch (BENCH_DATABASE_URL)
    client: float


def timed_load(
    run: Run, server: str, target: Server, requests: list[Request], clients: int, seconds: float, **options
) -> tuple[LoadResult, CpuUse]:
    before = cpu_snapshot(run, server)
    result = target.load(requests, clients, seconds, **options)
    after = cpu_snapshot(run, server)
    return result, CpuUse(*(None if b is None else a - b for a, b in zip(after, before, strict=True)))


def cpu_snapshot(run: Run, server: str) -> tuple[float, float | None, float]:
    processes = _processes()
    database = None
    if run.cluster_dir:
        try:
            postmaster = int((Path(run.cluster_dir) / "data" / "postmaster.pid").read_text().split()[0])
            database = _tree_cpu(postmaster, processes)
        except (OSError, ValueError, IndexError):
            pass
    times = os.times()
    return _tree_cpu(run.servers[server].pid, processes), database, times.user + times.system


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent, and its CPU seconds with those of its children it has reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone since the listing
        # The command name (field 2) may hold spaces and parentheses: the fields after it are plain.
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / ticks)
    return found


def _tree_cpu(root: int, processes: dict[int, tuple[int, float]]) -> float:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in processes:
            total += processes[pid][1]
        stack.extend(children.get(pid, []))
    return total


def set_ratio(app_row: Row, ceiling_row: Row, target: Target) -> None:
    if ceiling_row.throughput > 0:
        app_row.ratio = app_row.throughput / ceiling_row.throughput
    app_row.target = target


def add_row(run: Run, row: Row) -> None:
    run.rows.append(row)
    result = row.result
    statuses = ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(result.statuses.items()))
    print(
        f"  {row.scenario} [{row.server}] {result.clients} clients: {row.requests} requests in "
        f"{result.elapsed_seconds:.1f} s = {row.throughput:.0f}/s; p50 {row.p50:.1f} p95 {row.p95:.1f} "
        f"p99 {row.p99:.1f} ms; {statuses}"
    )
    if row.server_errors:
        run.breaches.append(
            f"{row.scenario} [{row.server}] at {result.clients} clients: {row.server_errors} responses with 5xx"
        )
        sample = next(outcome for outcome in result.outcomes if outcome.status >= 500)
        print(f"    5xx, e.g. {sample.request.method} {sample.request.path}: {sample.body[:300]!r}")
        print(tail(WORK_DIR / f"{row.server}.log"))
    answered = [outcome for outcome in result.outcomes if outcome.status in row.expected]
    if not answered:
        run.breaches.append(
            f"{row.scenario} [{row.server}] at {result.clients} clients: nothing answered as "
            f"expected (statuses {dict(result.statuses)})"
        )
    transport = [outcome for outcome in result.outcomes if outcome.status == TRANSPORT_ERROR]
    if transport:
        print(f"    {len(transport)} requests had no answer, e.g. {transport[0].error}")


# --- Output ----------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    header = (
        "scenario",
        "server",
        "clients",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "vs ceiling",
        "target (DESIGN 8)",
        "met",
    )
    counted = any(row.statements is not None for row in rows)
    if counted:
        header += ("SQL/req",)
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.scenario,
                row.server,
                str(row.result.clients),
                str(row.requests),
                str(row.errors),
                f"{row.throughput:.0f}",
                f"{row.p50:.1f}",
                f"{row.p95:.1f}",
                f"{row.p99:.1f}",
                f"{row.ratio:.2f}" if row.ratio is not None else "",
                row.target.text if row.target else "",
                ("yes" if row.target.met(row) else "NO") if row.target else "",
            )
            + ((str(row.statements) if row.statements is not None else "",) if counted else ())
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    numeric = {2, 3, 4, 5, 6, 7, 8, 9, 12}

    def render(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    print(render(header))
    print(
        "|"
        + "|".join(
            ("-" * (width + 1) + ":" if column in numeric else "-" * (width + 2)) for column, width in enumerate(widths)
        )
        + "|"
    )
    for line in lines[1:]:
        print(render(line))
    print()
    print_cpu_table(rows)
    print()
    print(
        "errors: answers other than the scenario's expected ones (booking, prescribing and referring 201; race 201 "
        "or 409; reads 200)."
    )
    print("vs ceiling: the application's throughput over the bare Django endpoint's at the same clients.")
    if counted:
        print(
            "SQL/req: the SQL statements one request runs (BEGIN, COMMIT and savepoints included), where counted: the "
            "application's by bench/prepare.py, in-process, through the whole Django stack; the ceiling's is "
            "its one INSERT."
        )
    for row in rows:
        if row.note:
            print(f"  {row.scenario} [{row.server}] {row.result.clients} clients: {row.note}")


def print_cpu_table(rows: list[Row]) -> None:
    """CPU milliseconds per request, by whom: on a machine where everything shares the CPUs, the sum
    bounds the throughput (CPUs x 1000 / sum) whatever else happens, and says which side to make cheaper."""
    cpus = os.cpu_count() or 1
    print("CPU per request (ms; from /proc, so other work on the machine does not count):")
    header = ("scenario", "server", "clients", "server", "PostgreSQL", "load gen", "sum", f"bound on {cpus} CPUs")
    lines = [header]
    for row in rows:
        if row.cpu is None or not row.requests:
            continue
        per = [
            value * 1000 / row.requests if value is not None else None
            for value in (row.cpu.server, row.cpu.database, row.cpu.client)
        ]
        total = sum(value for value in per if value is not None)
        lines.append(
            (
                row.scenario,
                row.server,
                str(row.result.clients),
                *(f"{value:.2f}" if value is not None else "-" for value in per),
                f"{total:.2f}",
                f"{cpus * 1000 / total:.0f}/s" if total else "-",
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for number, line in enumerate(lines):
        print(
            "  "
            + "  ".join(
                cell.ljust(width) if column < 2 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))


def machine_lines() -> list[str]:
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [f"nproc {nproc} (os.cpu_count() {os.cpu_count()})"]
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        lines.append(f"CPU: {model}")
    except (OSError, StopIteration):
        pass
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    lines += [f"free -h: {line}" for line in memory[1:2]]
    lines.append(f"load average: {load_average()}")
    lines.append(f"Python {platform.python_version()}, {platform.platform()}")
    return lines


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def timed(action: Callable[[], object], what: str) -> float:
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    print(f"  {what}: {seconds:.1f} s", flush=True)
    return seconds


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


if __name__ == "__main__":
    sys.exit(main())
