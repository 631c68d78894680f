"""Where one API request's CPU time goes: N requests in-process under cProfile, broken down by step.

For the database a benchmark left behind (`BENCH_KEEP=1 make bench` prints its URL), or any database
seeded with `carebridge seed-demo`:

    DATABASE_URL=postgres://... .venv/bin/python bench/profile_request.py book --requests 200

KIND is book, search or lookup, as the demo's `reception` login at their own surgery; pack, the arrival
pack of an open referral to the demo `specialist`'s hospital, as that consultant; or refer, a referral
as the demo's `gp` for a patient of their surgery to the specialist's hospital and speciality; or
prescribe, the bench's paracetamol order (bench/prepare.py) as that GP, for patients of their surgery with
no allergy and no medicine, each given the problem it treats first. Each request goes
through the whole Django stack (middleware, django-ninja, the services) with Django's test client,
which skips only gunicorn and the network. Bookings, referrals and prescriptions are made for real (bench-only: the
database is a benchmark's). The table shows, for the application's own functions and a few framework steps,
the milliseconds of this process's CPU time one request spends inside each (cumulative, so nested lines
are part of the lines above them; time waiting for PostgreSQL is not counted); cProfile slows Python
down by a roughly even factor, so compare the lines with each other and read the absolute CPU time from
`make bench`'s CPU table.
"""

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carebridge.config.settings")
os.environ.setdefault("CAREBRIDGE_DEMO", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from prepare import RX_CONDITION, RX_ORDER  # noqa: E402  (bench/prepare.py: the order make bench sends)

from carebridge.accounts.models import User  # noqa: E402
from carebridge.clinical.models import Allergy  # noqa: E402
from carebridge.clinical.services import condition_record  # noqa: E402
from carebridge.core import clock  # noqa: E402
from carebridge.core.actor import Actor  # noqa: E402
from carebridge.patients.models import Patient  # noqa: E402
from carebridge.prescribing.models import Prescription  # noqa: E402
from carebridge.referrals.models import OPEN_STATUSES, Referral  # noqa: E402
from carebridge.scheduling.models import HOLDING_STATUSES, Appointment  # noqa: E402
from carebridge.scheduling.selectors import free_slots  # noqa: E402

APPOINTMENT_TYPE = "Routine Consultation"
# Framework steps worth a line of their own beside the application's functions.
FRAMEWORK = (
    "ninja/operation.py",
    "ninja/security/http.py",
    "django/db/transaction.py",
    "django/db/models/sql/compiler.py",
    "django/db/models/base.py",
    "pydantic/main.py",
    "django/core/handlers/base.py",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("book", "search", "lookup", "pack", "refer", "prescribe"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument(
        "--plain", action="store_true", help="no profiler: print only the CPU and SQL statements per request"
    )
    args = parser.parse_args()

    # Who asks: the surgery's front desk books, searches and looks up; the GP refers; the consultant opens packs.
    username = {"pack": "specialist", "refer": "gp", "prescribe": "gp"}.get(args.kind, "reception")
    user = User.objects.select_related("staff_member__facility", "clinician__workplace").get(username=username)
    facility = user.clinician.workplace if args.kind in ("pack", "refer", "prescribe") else user.staff_member.facility
    out = io.StringIO()
    call_command("api_token", username, label="bench/profile_request.py", stdout=out, stderr=io.StringIO())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    requests = plan(args.kind, facility, args.requests + 20)
    for request in requests[:10]:  # warm: imports, connection, caches, prepared statements
        check(request(client), args.kind)
    # Statements are counted apart from the timed requests: capturing them makes Django log every one,
    # which cost about a fifth of a booking's CPU.
    with CaptureQueriesContext(connection) as queries:
        for request in requests[10:20]:
            check(request(client), args.kind)
    statements = len(queries) / 10

    # CPU time, not wall time: waiting for PostgreSQL is PostgreSQL's cost, which make bench shows apart.
    profiler = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    if not args.plain:
        profiler.enable()
    for request in requests[20:]:
        response = request(client)
    profiler.disable()
    cpu = (time.process_time() - cpu) * 1000 / args.requests
    check(response, args.kind)
    print(
        f"{args.kind}: {args.requests} requests, {statements:.1f} SQL statements each, "
        f"{cpu:.1f} ms CPU each" + ("" if args.plain else " under cProfile\n")
    )
    if not args.plain:
        report(profiler, args.requests, args.lines)
    return 0


def plan(kind: str, facility, count: int) -> list:
    rng = random.Random(1)
    if kind == "book":
        now = clock.now()
        slots = list(
            free_slots(
                facility_id=facility.pk, starts_from=now + dt.timedelta(hours=1), appointment_type=APPOINTMENT_TYPE
            ).values_list("public_id", flat=True)[:count]
        )
        ahead = Appointment.objects.filter(patient=OuterRef("pk"), status__in=HOLDING_STATUSES, starts_at__gt=now)
        patients = list(
            Patient.objects.filter(registered_surgery=facility)
            .filter(~Exists(ahead))
            .values_list("public_id", flat=True)[:count]
        )
        if min(len(slots), len(patients)) < count:
            raise SystemExit(f"only {min(len(slots), len(patients))} free slots and patients at {facility.name}")
        rng.shuffle(slots)
        return [
            _post(
                "/api/appointments",
                {
                    "patient": str(patient),
                    "slot": str(slot),
                    "appointment_type": APPOINTMENT_TYPE,
                    "reason": "Profiling",
                },
            )
            for slot, patient in zip(slots, patients, strict=True)
        ]
    if kind == "pack":
        referrals = list(
            Referral.objects.filter(receiving_facility=facility, status__in=OPEN_STATUSES).values_list(
                "public_id", flat=True
            )[:500]
        )
        if not referrals:
            raise SystemExit(f"no open referral to {facility.name}")
        return [_get(f"/api/referrals/{rng.choice(referrals)}/pack", {}) for _ in range(count)]
    if kind == "refer":
        specialist = User.objects.select_related("clinician__workplace").get(username="specialist").clinician
        patients = list(Patient.objects.filter(registered_surgery=facility).values_list("public_id", flat=True)[:count])
        return [
            _post(
                "/api/referrals",
                {
                    "patient": str(patient),
                    "receiving_facility": str(specialist.workplace.public_id),
                    "speciality": specialist.speciality,
                    "priority": "routine",
                    "reason": "Profiling",
                    "clinical_summary": "Profiling the referral path.",
                    "investigations": ["Full blood count"],
                    "attachments": [],
                },
            )
            for patient in patients
        ]
    if kind == "prescribe":
        # The bench's own order (bench/prepare.py), for patients it cannot warn about: no allergy and no
        # medicine yet. Each gets the problem the prescription treats, recorded by the GP as a GP would.
        gp = User.objects.select_related("clinician").get(username="gp")
        patients = Patient.objects.filter(registered_surgery=facility).filter(
            ~Exists(Allergy.objects.filter(patient=OuterRef("pk"))),
            ~Exists(Prescription.objects.filter(patient=OuterRef("pk"))),
        )[:count]
        if len(patients) < count:
            raise SystemExit(f"only {len(patients)} patients at {facility.name} with no allergy and no medicine")
        actor = Actor.command_line(gp)
        return [
            _post(
                "/api/prescriptions",
                {
                    "patient": str(patient.public_id),
                    "condition": str(condition_record(actor=actor, patient=patient, code=RX_CONDITION).public_id),
                    **RX_ORDER,
                },
            )
            for patient in patients
        ]
    if kind == "search":
        days = sorted(
            {
                start.astimezone(clock.LONDON).date()
                for start in free_slots(facility_id=facility.pk).values_list("starts_at", flat=True)
            }
        )
        return [
            _get(
                "/api/slots",
                {
                    "facility": str(facility.public_id),
                    "date": rng.choice(days).isoformat(),
                    "appointment_type": APPOINTMENT_TYPE,
                },
            )
            for _ in range(count)
        ]
    numbers = list(
        Patient.objects.filter(registered_surgery=facility, nhs_number__isnull=False).values_list(
            "nhs_number", flat=True
        )[:5000]
    )
    return [_get("/api/patients", {"nhs_number": rng.choice(numbers)}) for _ in range(count)]


def _get(path: str, params: dict):
    return lambda client: client.get(path, params)


def _post(path: str, body: dict):
    return lambda client: client.post(path, data=json.dumps(body), content_type="application/json")


def check(response, kind: str) -> None:
    expected = 201 if kind in ("book", "refer", "prescribe") else 200
    if response.status_code != expected:
        raise SystemExit(f"{kind}: answered {response.status_code}: {response.content[:300]!r}")


def report(profiler: cProfile.Profile, requests: int, lines: int) -> None:
    stats = pstats.Stats(profiler)
    total = max(value[3] for value in stats.stats.values())  # the outermost call's cumulative time
    rows = []
    for (filename, line, function), (_, calls, _, cumulative, _) in stats.stats.items():
        if "/carebridge/" in filename or any(part in filename for part in FRAMEWORK):
            where = (
                filename.split("/carebridge/", 1)[-1]
                if "/carebridge/" in filename
                else filename.split("site-packages/", 1)[-1]
            )
            rows.append((cumulative, calls, f"{where}:{line} {function}"))
    rows.sort(reverse=True)
    print(f"{'ms/request':>10}  {'share':>5}  {'calls/req':>9}  function")
    for cumulative, calls, name in rows[:lines]:
        print(f"{cumulative * 1000 / requests:10.2f}  {cumulative / total:5.0%}  {calls / requests:9.1f}  {name}")


if __name__ == "__main__":
    sys.exit(main())
