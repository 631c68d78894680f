"""Benchmark set-up inside Django: schedules if the demo has none, API tokens, the prescribing patients'
problems, and the plan of requests.

Run by bench/run.py with the virtualenv's Python and DATABASE_URL naming the benchmark database, after
`carebridge seed-demo`. Writes a JSON plan: a front-desk login and its API token at each GP surgery
(the demo's `reception` first), which (patient, slot) pairs each booking scenario books, which searches
and NHS-number lookups to send, each as which desk. The application books a surgery's own patients into
its own slots, as its front desk may; every pair uses a slot free an hour or more ahead and a patient
with no appointment ahead, each once across all scenarios, so a booking can only be refused because
another booking of the same run took the slot (the race), never by the rules about the past or about a
patient's overlapping appointments. Every other free slot is kept for the ceiling, which checks nothing.

Bench-only writes (the database is the benchmark's own and thrown away): front-desk staff without a
login get one through `accounts.services.user_create` (with no password, so nobody can sign in with it);
and when seed-demo gave clinicians no weekly sessions, every GP surgery gets opening hours and every
clinician there a weekly pattern, through `scheduling.services.opening_hours_set` and `sessions_set`
acting as the surgery's practice manager, so the slots are made exactly as a manager's would be. For
prescribing (plan_prescribing): a GP login where a surgery's GPs have none, and a problem-list entry for
each planned patient through `clinical.services.condition_record`, as that GP."""

import argparse
import datetime as dt
import io
import itertools
import json
import os
import random
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

# `DATABASE_URL` comes from the caller; the demo flag lets the settings run without a SECRET_KEY.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carebridge.config.settings")
os.environ.setdefault("CAREBRIDGE_DEMO", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command, get_commands  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Exists, F, OuterRef  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

from carebridge.accounts.models import AccountKind, User  # noqa: E402
from carebridge.accounts.services import user_create  # noqa: E402
from carebridge.clinical.models import Allergy  # noqa: E402
from carebridge.clinical.services import condition_record  # noqa: E402
from carebridge.core import clock  # noqa: E402
from carebridge.core.actor import Actor  # noqa: E402
from carebridge.core.roles import Role  # noqa: E402
from carebridge.organisations.models import (  # noqa: E402
    Clinician,
    ClinicianTitle,
    Facility,
    FacilityType,
    StaffMember,
)
from carebridge.patients.models import Patient  # noqa: E402
from carebridge.prescribing import services as services_rx  # noqa: E402
from carebridge.prescribing.safety import check, medicine_for  # noqa: E402
from carebridge.referrals.models import OPEN_STATUSES, Referral  # noqa: E402
from carebridge.scheduling import selectors, services  # noqa: E402
from carebridge.scheduling.models import (  # noqa: E402
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    ClinicianSession,
    Slot,
)

# The demo login the application's booking, search and lookup run as (a receptionist at a surgery).
RECEPTION_USERNAME = "reception"
GP_USERNAME = "gp"  # the demo's GP, who prescribes at the same surgery
BOOKED_TYPE = "Routine Consultation"

# The bench-only weekly pattern: surgery open 08:00-18:30 on weekdays; morning and afternoon surgery in
# 10-minute slots (48 a day per clinician), GPs for consultations, nurses for their own work.
BENCH_OPENING = {weekday: [(dt.time(8, 0), dt.time(18, 30))] for weekday in range(5)}
BENCH_SESSIONS = ((dt.time(8, 30), dt.time(12, 30)), (dt.time(14, 0), dt.time(18, 0)))
BENCH_SLOT_MINUTES = 10
GP_TYPES = ("Routine Consultation", "Follow-up", "Urgent Consultation")
NURSE_TYPES = ("Routine Consultation", "Vaccination", "Health Check", "Follow-up")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True, type=Path)
    parser.add_argument(
        "--app-bookings",
        type=int,
        required=True,
        help="at most this many (patient, slot) pairs for each spread-booking run at the app",
    )
    parser.add_argument(
        "--ceiling-bookings",
        type=int,
        required=True,
        help="at most this many pairs for each spread-booking run at the ceiling",
    )
    parser.add_argument("--spread-runs", type=int, default=2, help="spread-booking runs per server (8, 32 clients)")
    parser.add_argument("--race-slots", type=int, default=20)
    parser.add_argument("--race-clients", type=int, default=64)
    parser.add_argument("--warmup-bookings", type=int, default=20)
    parser.add_argument("--desks", type=int, default=16, help="book at up to this many GP surgeries")
    parser.add_argument("--reads", type=int, default=20000, help="searches and lookups to draw (each)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--app-prescriptions", type=int, default=2500, help="at most this many prescriptions in the app's run"
    )
    parser.add_argument(
        "--ceiling-prescriptions", type=int, default=4000, help="at most this many in the ceiling's run"
    )
    parser.add_argument("--warmup-prescriptions", type=int, default=20)
    parser.add_argument(
        "--arrivals", type=int, default=500, help="at most this many referred patients checked in at hospitals"
    )
    parser.add_argument("--app-referrals", type=int, default=1000, help="at most this many referrals in the app's run")
    parser.add_argument("--ceiling-referrals", type=int, default=4000, help="at most this many in the ceiling's run")
    parser.add_argument("--warmup-referrals", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    schedule_note = ensure_schedules()
    if "api_token" not in get_commands():
        # The plan is useless without tokens; run.py says so.
        args.plan.write_text(json.dumps({"token": None}))
        return 0
    now = clock.now()
    # Leave an hour's margin so no chosen slot starts (and stops being bookable) during the run.
    earliest = now + dt.timedelta(hours=1)

    # A front desk at each surgery (the demo's `reception` first), each booking its own surgery's patients
    # into its own surgery's slots: the application's rules allow exactly that.
    desks = front_desks(args.desks)
    home = desks[0]
    app_pairs_by_desk, ceiling_slots, app_patient_ids = [], [], set()
    race_requests: list[dict] | None = None
    for number, desk in enumerate(desks):
        slots = list(
            selectors.free_slots(
                facility_id=desk.facility.pk, starts_from=earliest, appointment_type=BOOKED_TYPE
            ).values_list("public_id", flat=True)
        )
        rng.shuffle(slots)
        # Every other free slot is left to the ceiling, which books the same tables with no checks.
        slots, spare = slots[0::2], slots[1::2]
        ceiling_slots += spare
        patients = free_patients(Patient.objects.filter(registered_surgery=desk.facility), now, rng)
        app_patient_ids.update(patients)
        if number == 0:
            race_requests, slots, patients = race(slots, patients, args.race_slots, args.race_clients)
            if race_requests is None:
                print(f"prepare: too few free slots or patients at {desk.facility.name} for the race", file=sys.stderr)
                return 1
            for request in race_requests:
                request["desk"] = 0
        app_pairs_by_desk.append([{**pair, "desk": number} for pair in pairs(patients, slots)])
    # Round robin over the surgeries, so each run spreads its bookings over all of them.
    app_pairs = [pair for group in itertools.zip_longest(*app_pairs_by_desk) for pair in group if pair]
    app_warmup, app_pairs = app_pairs[: args.warmup_bookings], app_pairs[args.warmup_bookings :]
    app_each = min(args.app_bookings, len(app_pairs) // args.spread_runs)

    rng.shuffle(ceiling_slots)
    wanted = args.race_clients + args.warmup_bookings + args.spread_runs * args.ceiling_bookings
    # The ceiling checks nothing about patients; it only needs ones the application's runs leave alone.
    ceiling_patients = [
        patient
        for patient in Patient.objects.order_by("pk").values_list("public_id", flat=True)[
            : wanted + len(app_patient_ids)
        ]
        if patient not in app_patient_ids
    ][:wanted]
    ceiling_race, ceiling_slots, ceiling_patients = race(
        ceiling_slots, ceiling_patients, args.race_slots, args.race_clients
    )
    ceiling_pairs = pairs(ceiling_patients, ceiling_slots)
    ceiling_warmup, ceiling_pairs = ceiling_pairs[: args.warmup_bookings], ceiling_pairs[args.warmup_bookings :]
    ceiling_each = min(args.ceiling_bookings, len(ceiling_pairs) // args.spread_runs)

    # Reads: each at a random desk, about its own surgery (the API shows staff their own facility only).
    searches, lookups = [], []
    days = {number: days_with_slots(desk.facility, earliest) for number, desk in enumerate(desks)}
    numbers = {
        number: list(
            Patient.objects.filter(registered_surgery=desk.facility, nhs_number__isnull=False).values_list(
                "nhs_number", flat=True
            )
        )
        for number, desk in enumerate(desks)
    }
    readers = [number for number in range(len(desks)) if days[number] and numbers[number]]
    for _ in range(args.reads):
        number = rng.choice(readers)
        searches.append(
            {
                "desk": number,
                "query": {
                    "facility": str(desks[number].facility.public_id),
                    "date": rng.choice(days[number]).isoformat(),
                    "appointment_type": BOOKED_TYPE,
                },
            }
        )
        lookups.append({"desk": number, "nhs_number": rng.choice(numbers[number])})

    plan = {
        "desks": [
            {"username": desk.user.username, "facility": desk.facility.name, "token": api_token(desk.user.username)}
            for desk in desks
        ],
        "token": True,
        "appointment_type": BOOKED_TYPE,
        "schedules": schedule_note,
        "counts": {
            "patients": Patient.objects.count(),
            "slots": Slot.objects.count(),
            "surgeries": len(desks),
            "free_slots": sum(len(group) for group in app_pairs_by_desk) * 2 + len(ceiling_slots),
        },
        "app_race": race_requests,
        "ceiling_race": ceiling_race or [],
        "app_warmup": app_warmup,
        "app_spread": [app_pairs[run * app_each : (run + 1) * app_each] for run in range(args.spread_runs)],
        "ceiling_warmup": ceiling_warmup,
        "ceiling_spread": [
            ceiling_pairs[run * ceiling_each : (run + 1) * ceiling_each] for run in range(args.spread_runs)
        ],
        "searches": searches,
        "lookups": lookups,
    }
    plan.update(count_hot_path_statements(plan))
    # After everything above, with a generator of its own, so the other scenarios' plans stay as they were.
    plan.update(
        plan_prescribing(
            desks,
            random.Random(args.seed),
            app=args.app_prescriptions,
            ceiling=args.ceiling_prescriptions,
            warmup=args.warmup_prescriptions,
        )
    )
    # Referrals (issue 8) after that, again with a generator of their own.
    plan.update(plan_arrivals(random.Random(args.seed), most=args.arrivals, reads=args.reads))
    plan.update(
        plan_referring(
            desks,
            random.Random(args.seed),
            app=args.app_referrals,
            ceiling=args.ceiling_referrals,
            warmup=args.warmup_referrals,
        )
    )
    args.plan.write_text(json.dumps(plan))
    print(
        f"prepare: booking at {len(desks)} surgeries (the race at {home.facility.name}, as {home.user.username!r});"
        f" up to {app_each:,} bookings per spread run at the app, {ceiling_each:,} at the ceiling."
    )
    return 0


@dataclass(frozen=True)
class Desk:
    user: User
    facility: Facility


def front_desks(most: int) -> list[Desk]:
    """The demo's reception login, then a front-desk login at each other GP surgery (made if missing)."""
    reception = User.objects.select_related("staff_member__facility").get(username=RECEPTION_USERNAME)
    desks = [Desk(reception, reception.staff_member.facility)]
    for surgery in (
        Facility.objects.filter(facility_type=FacilityType.GP_SURGERY)
        .exclude(pk=reception.staff_member.facility_id)
        .order_by("pk")
    ):
        if len(desks) >= most:
            break
        staff = next(
            (
                member
                for member in StaffMember.objects.filter(facility=surgery).order_by("pk").select_related("user")
                if member.role == Role.FRONT_DESK
            ),
            None,
        )
        if staff is None:
            continue
        desks.append(Desk(staff.user or login_for(staff, "bench-desk"), surgery))
    return desks


def ensure_schedules() -> str:
    """Weekly sessions for every GP surgery's clinicians, unless the seed made some. Says which happened."""
    if ClinicianSession.objects.exists():
        return "from seed-demo"
    started = time.perf_counter()
    surgeries = Facility.objects.filter(facility_type=FacilityType.GP_SURGERY).order_by("pk")
    for surgery in surgeries:
        actor = Actor.command_line(manager_login(surgery))
        services.opening_hours_set(actor=actor, facility=surgery, hours=BENCH_OPENING)
        for clinician in Clinician.objects.filter(workplace=surgery).order_by("pk"):
            types = NURSE_TYPES if clinician.role == Role.NURSE else GP_TYPES
            services.sessions_set(
                actor=actor,
                clinician=clinician,
                sessions=[
                    services.WeeklySession(weekday, start, end, BENCH_SLOT_MINUTES, types)
                    for weekday in range(5)
                    for start, end in BENCH_SESSIONS
                ],
            )
    seconds = time.perf_counter() - started
    note = (
        f"bench-only: seed-demo made no weekly sessions, so prepare.py gave the {surgeries.count()} GP surgeries "
        f"opening hours and their clinicians weekday sessions ({BENCH_SLOT_MINUTES}-minute slots) through "
        f"opening_hours_set/sessions_set as each practice manager, in {seconds:.1f} s"
    )
    print(f"prepare: {note}; {Slot.objects.count():,} slots.")
    return note


def manager_login(surgery: Facility) -> User:
    managers = [
        staff
        for staff in StaffMember.objects.filter(facility=surgery).select_related("user")
        if staff.role == Role.FACILITY_MANAGER
    ]
    if not managers:
        raise SystemExit(f"prepare: {surgery.name} has no practice manager to set its schedules")
    return managers[0].user or login_for(managers[0], "bench-manager")


def login_for(staff: StaffMember, prefix: str) -> User:
    """A login for a staff member who has none (bench-only; it has no password, so nobody can sign in)."""
    user = user_create(
        actor=Actor.command_line(),
        username=f"{prefix}-{staff.public_id}",
        kind=AccountKind.STAFF,
        password=None,
        first_name=staff.first_name,
        last_name=staff.last_name,
        linked_record=staff,
    )
    return user


def free_patients(patients, now: dt.datetime, rng: random.Random, limit: int | None = None) -> list:
    """Patients with no appointment ahead of them, shuffled: no booking of theirs can overlap another."""
    ahead = Appointment.objects.filter(patient=OuterRef("pk"), status__in=HOLDING_STATUSES, starts_at__gt=now)
    chosen = list(patients.filter(~Exists(ahead)).order_by("pk").values_list("public_id", flat=True)[:limit])
    rng.shuffle(chosen)
    return chosen


def race(slots: list, patients: list, slot_count: int, client_count: int) -> tuple[list | None, list, list]:
    """The race's requests (client n books slot n mod `slot_count`, each for a patient of its own), and
    the slots and patients left over; None for the race when there are too few of either."""
    if len(slots) < slot_count or len(patients) < client_count:
        return None, slots, patients
    requests = [
        {"slot": str(slots[number % slot_count]), "patient": str(patient)}
        for number, patient in enumerate(patients[:client_count])
    ]
    return requests, slots[slot_count:], patients[client_count:]


def pairs(patients: list, slots: list) -> list[dict[str, str]]:
    return [{"patient": str(patient), "slot": str(slot)} for patient, slot in zip(patients, slots, strict=False)]


def days_with_slots(facility: Facility, earliest: dt.datetime) -> list[dt.date]:
    starts = Slot.objects.filter(facility=facility, starts_at__gte=earliest).values_list("starts_at", flat=True)
    return sorted({start.astimezone(clock.LONDON).date() for start in starts})


# --- Prescribing ----------------------------------------------------------------------------------------

# Every prescribing request: an acute course of paracetamol for low back pain, as a GP writes it, with the
# quantity given (40 x 500 mg tablets, as an EPS prescription states it; it is what the dose, frequency and
# days work out to, and the quantity check still compares the two). Paracetamol 1 g four times a day is the
# usual maximum, not above it, so it trips no warning for a patient with no allergy to it and no active
# medicine of its class or one it interacts with; every planned patient is put through the real checks
# (prescribing.safety.check) before it is planned, so any answer but 201 in the run is an error.
RX_ORDER = {
    "medicine": "paracetamol",
    "dose_value": "1",
    "dose_unit": "g",
    "frequency": "Four times daily",
    "duration_days": 5,
    "quantity_value": "40",
    "quantity_unit": "tablets",
    "instructions": "Two tablets four times a day, at least 4 hours apart, for up to 5 days.",
}
RX_CONDITION = "279039007"  # SNOMED CT: low back pain
# Prescriptions made in-process before the run to count one request's SQL statements: the last is counted,
# the ones before it warm the process (imports, connection, caches) as the servers' warm-up does.
RX_PROBES = 3


def plan_prescribing(desks: list[Desk], rng: random.Random, *, app: int, ceiling: int, warmup: int) -> dict:
    """Who prescribes at each desk's surgery (a GP, with an API token), and which patients, each with an
    active problem for the prescription to treat. Bench-only writes: a GP login where a surgery's GPs have
    none (`user_create`, no password), and a "low back pain" entry on each planned patient's problem list,
    through `clinical.services.condition_record` as that GP, exactly as a GP's would be made."""
    started = time.perf_counter()
    medicine = medicine_for(RX_ORDER["medicine"])
    assert medicine is not None
    order = services_rx.Order(
        medicine=RX_ORDER["medicine"],
        dose_value=Decimal(RX_ORDER["dose_value"]),
        dose_unit=RX_ORDER["dose_unit"],
        frequency=RX_ORDER["frequency"],
        duration_days=RX_ORDER["duration_days"],
        quantity_value=Decimal(RX_ORDER["quantity_value"]),
        quantity_unit=RX_ORDER["quantity_unit"],
    )
    prescribers = [gp_at(desk.facility) for desk in desks]
    surgeries = sum(1 for gp in prescribers if gp is not None)
    if not surgeries:
        print("prepare: no GP surgery has a GP, so prescribing cannot be measured", file=sys.stderr)
        return {"prescribers": [], "rx_order": RX_ORDER}
    wanted = RX_PROBES + warmup + app
    each = -(-wanted // surgeries)
    no_allergy = ~Exists(Allergy.objects.filter(patient=OuterRef("pk")))
    by_desk, refused = [], 0
    for number, (desk, gp) in enumerate(zip(desks, prescribers, strict=True)):
        items: list[dict] = []
        by_desk.append(items)
        if gp is None:
            continue
        actor = Actor.command_line(gp.user)
        ids = list(
            Patient.objects.filter(no_allergy, registered_surgery=desk.facility)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rng.shuffle(ids)
        for start in range(0, len(ids), 500):
            if len(items) >= each:
                break
            chunk = Patient.objects.in_bulk(ids[start : start + 500])
            for pk in ids[start : start + 500]:
                if len(items) >= each:
                    break
                patient = chunk[pk]
                if check(
                    patient=patient,
                    medicine=medicine,
                    name=medicine.name,
                    dose_value=order.dose_value,
                    dose_unit=order.dose_unit,
                    frequency=order.frequency,
                    duration_days=order.duration_days,
                    quantity_value=order.quantity_value,
                ):
                    refused += 1  # a warning: an active painkiller of the class, say
                    continue
                condition = condition_record(actor=actor, patient=patient, code=RX_CONDITION)
                items.append(
                    {
                        "desk": number,
                        "patient": str(patient.public_id),
                        "condition": str(condition.public_id),
                        # For the ceiling only, which knows nobody from a token.
                        "prescriber": str(gp.public_id),
                    }
                )
    # The probes as one GP, so the token's first use (which records it) is not the request counted.
    first = next(group for group in by_desk if group)
    probes, first[:] = first[:RX_PROBES], first[RX_PROBES:]
    # Round robin over the surgeries, as the bookings are.
    items = [item for group in itertools.zip_longest(*by_desk) for item in group if item]
    app_warmup, app_run = items[:warmup], items[warmup:][:app]
    tokens = [api_token(gp.user.username) if gp else "" for gp in prescribers]
    statements = count_statements(probes, tokens)
    # The ceiling checks nothing, so it may prescribe to the same patients, after the application has:
    # its prescriptions are plain rows, whatever the patient already has.
    ceiling_run = [app_run[index % len(app_run)] for index in range(ceiling)] if app_run else []
    seconds = time.perf_counter() - started
    print(
        f"prepare: prescribing as a GP at {surgeries} surgeries, {len(app_run):,} patients planned for the app "
        f"(each given a coded problem through condition_record; {refused} passed over because the checks would "
        f"warn), {len(ceiling_run):,} prescriptions for the ceiling; "
        + (f"{statements} SQL statements per prescription" if statements is not None else "statements not counted")
        + f"; {seconds:.1f} s"
    )
    return {
        "prescribers": [
            {
                "username": gp.user.username if gp else "",
                "facility": desk.facility.name,
                "token": token,
            }
            for desk, gp, token in zip(desks, prescribers, tokens, strict=True)
        ],
        "rx_order": RX_ORDER,
        "rx_statements": statements,
        "rx_passed_over": refused,
        "app_rx_warmup": app_warmup,
        "app_rx": app_run,
        "ceiling_rx_warmup": app_warmup,
        "ceiling_rx": ceiling_run,
    }


def gp_at(surgery: Facility) -> Clinician | None:
    """The surgery's prescribing GP: the demo's `gp` login if it works there, else the first GP with a login,
    else the first GP, given a login (bench-only, no password)."""
    gps = [
        clinician
        for clinician in Clinician.objects.filter(workplace=surgery, title=ClinicianTitle.GP)
        .select_related("user", "workplace")
        .order_by("pk")
        if clinician.may_prescribe
    ]
    if not gps:
        return None
    chosen = (
        next((gp for gp in gps if gp.user is not None and gp.user.username == GP_USERNAME), None)
        or next((gp for gp in gps if gp.user is not None), None)
        or gps[0]
    )
    if chosen.user is None:
        user_create(
            actor=Actor.command_line(),
            username=f"bench-gp-{chosen.public_id}",
            kind=AccountKind.CLINICIAN,
            password=None,
            first_name=chosen.first_name,
            last_name=chosen.last_name,
            linked_record=chosen,
        )
        chosen.refresh_from_db()
    return chosen


def count_hot_path_statements(plan: dict) -> dict:
    """SQL statements one booking, one free-slot search and one NHS-number lookup run, counted in this
    process as count_statements counts a prescription's: the last of two requests of each (the first warms
    the process). The two bookings take two warm-up pairs, which the run then leaves alone: the last two
    at one surgery whose patient has an email address. So the booking counted is the one most bookings
    are: it queues a confirmation (about four in five demo patients have an address; without one a booking
    runs two statements fewer), and its token was used a moment before, so it does not run the token's
    once-a-minute `last_used_at` UPDATE. The column used to move between 15 and 17 with the pair drawn."""
    tokens = [desk["token"] for desk in plan["desks"]]
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    booked = None
    counted = _pairs_whose_patient_has_email(plan["app_warmup"], 2)
    if not counted:
        print(
            "prepare: no surgery has two warm-up patients with an email address; bookings not counted", file=sys.stderr
        )
    for pair in counted:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[pair['desk']]}")
        body = {
            "patient": pair["patient"],
            "slot": pair["slot"],
            "appointment_type": plan["appointment_type"],
            "reason": "Counting statements",
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/appointments", data=json.dumps(body), content_type="application/json")
        booked = len(queries) if response.status_code == 201 else None
        if booked is None:
            print(f"prepare: counting statements, a booking answered {response.status_code}", file=sys.stderr)
            break
    search, lookup = plan["searches"][0], plan["lookups"][0]
    return {
        "booking_statements": booked,
        "search_statements": count_get_statements(f"/api/slots?{urlencode(search['query'])}", tokens[search["desk"]]),
        "lookup_statements": count_get_statements(
            f"/api/patients?{urlencode({'nhs_number': lookup['nhs_number']})}", tokens[lookup["desk"]]
        ),
    }


def _pairs_whose_patient_has_email(pairs: list[dict], wanted: int) -> list[dict]:
    """The last `wanted` of `pairs` at one desk whose patient has an email address, taken out of `pairs`
    (none if no desk has that many)."""
    with_email = {
        str(public_id)
        for public_id in Patient.objects.filter(public_id__in=[pair["patient"] for pair in pairs])
        .exclude(email="")
        .values_list("public_id", flat=True)
    }
    by_desk: dict[int, list[dict]] = {}
    for pair in reversed(pairs):
        if pair["patient"] in with_email:
            by_desk.setdefault(pair["desk"], []).append(pair)
    chosen = next((found[:wanted] for found in by_desk.values() if len(found) >= wanted), [])
    for pair in chosen:
        pairs.remove(pair)
    return chosen


def count_statements(probes: list[dict], tokens: list[str]) -> int | None:
    """SQL statements one POST /api/prescriptions runs, through the whole Django stack in this process
    (Django's test client skips only gunicorn and the network), as Django logs them: BEGIN, COMMIT and
    savepoints count, as they are round trips too."""
    if not probes:
        return None
    # The test client builds the static-files middleware, which warns that nobody ran collectstatic.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    counted = 0
    for item in probes:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[item['desk']]}")
        body = {"patient": item["patient"], "condition": item["condition"], **RX_ORDER}
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/prescriptions", data=json.dumps(body), content_type="application/json")
        if response.status_code != 201:
            print(
                f"prepare: counting statements, POST /api/prescriptions answered {response.status_code}: "
                f"{response.content[:300]!r}",
                file=sys.stderr,
            )
            return None
        counted = len(queries)
    return counted


# --- Referrals (issue 8) ---------------------------------------------------------------------------------

# Requests made in-process before the run to count one request's SQL statements, as for prescribing: the
# last is counted, the ones before it warm the process.
REFERRAL_PROBES = 3
# Every referral the run makes: routine, with a reason, a summary and two investigations, no attachment, to a
# service the hospital offers (not its emergency or critical care, which are not referred to this way).
REFERRAL_ORDER = {
    "priority": "routine",
    "reason": "Symptoms persisting despite treatment in primary care: specialist assessment, please",
    "clinical_summary": (
        "Three months of symptoms, not settled with first-line treatment. Examination otherwise unremarkable; "
        "no red-flag features. Blood tests this month within normal limits. Grateful for your opinion."
    ),
    "investigations": ["Full blood count", "Urea and electrolytes"],
    "attachments": [],
}
NOT_REFERRED_TO = frozenset({"Emergency Medicine", "Critical Care"})


def api_has(path: str) -> bool:
    """Whether the application routes `path` (the referral API is newer than this benchmark)."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def plan_arrivals(rng: random.Random, *, most: int, reads: int) -> dict:
    """The arrival lookup: referred patients checked in at the hospital, and who asks for each pack.

    Takes the seeded referrals that are still open and hold a booked appointment ahead at the receiving
    hospital (at most `most`, drawn at random), and checks each patient in through
    `scheduling.services.appointment_check_in`, as the hospital's front desk, with this process's clock set
    to ten minutes before the appointment (bench-only: the service checks in only on the day, and the
    appointments are on many days). Each pack is then asked for by the clinician whose clinic the
    appointment is in (a consultant at the receiving hospital, which sees the patient while the referral is
    open), with an API token, given a login (bench-only, no password) where they have none."""
    if not api_has(f"/api/referrals/{uuid.uuid4()}/pack"):
        print("prepare: the application has no GET /api/referrals/{id}/pack yet, so arrival is not planned")
        return {"arrivals": [], "arrival_note": "the application has no GET /api/referrals/{id}/pack yet"}
    started = time.perf_counter()
    now = clock.now()
    candidates = list(
        Referral.objects.filter(
            status__in=OPEN_STATUSES,
            appointment__status=AppointmentStatus.BOOKED,
            appointment__facility_id=F("receiving_facility_id"),
            appointment__starts_at__gt=now + dt.timedelta(hours=1),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rng.shuffle(candidates)
    chosen = list(
        Referral.objects.filter(pk__in=candidates[:most])
        .select_related("appointment__clinician__user", "appointment__facility", "receiving_facility")
        .order_by("pk")
    )
    if not chosen:
        print("prepare: no open referral holds a booked hospital appointment ahead, so arrival is not planned")
        return {"arrivals": [], "arrival_note": "no open referral with a booked hospital appointment ahead"}
    desks: dict[int, User] = {}
    try:
        for referral in chosen:
            appointment = referral.appointment
            assert appointment is not None
            hospital = appointment.facility
            if hospital.pk not in desks:
                desks[hospital.pk] = front_desk_login(hospital)
            clock.freeze(appointment.starts_at - dt.timedelta(minutes=10))
            services.appointment_check_in(actor=Actor.command_line(desks[hospital.pk]), appointment=appointment)
    finally:
        clock.freeze(None)
    consultants: list[Clinician] = []
    index: dict[int, int] = {}
    items: list[dict[str, str | int]] = []
    for referral in chosen:
        clinician = referral.appointment.clinician  # type: ignore[union-attr]
        if clinician.pk not in index:
            index[clinician.pk] = len(consultants)
            consultants.append(login_ensured(clinician, "bench-consultant"))
        items.append({"desk": index[clinician.pk], "referral": str(referral.public_id)})
    tokens = [api_token(consultant.user.username) for consultant in consultants]  # type: ignore[union-attr]
    first_desk = index[chosen[0].appointment.clinician.pk]  # type: ignore[union-attr]
    statements = count_get_statements(f"/api/referrals/{items[0]['referral']}/pack", tokens[first_desk])
    requests = [rng.choice(items) for _ in range(reads)]
    seconds = time.perf_counter() - started
    print(
        f"prepare: arrival: {len(chosen):,} referred patients checked in (of {len(candidates):,} open referrals "
        f"with a booked hospital appointment ahead), their packs asked for by {len(consultants)} consultants; "
        + (f"{statements} SQL statements per pack" if statements is not None else "statements not counted")
        + f"; {seconds:.1f} s"
    )
    return {
        "consultants": [
            {
                "username": consultant.user.username,  # type: ignore[union-attr]
                "facility": consultant.workplace.name,
                "token": token,
            }
            for consultant, token in zip(consultants, tokens, strict=True)
        ],
        "arrivals": requests,
        "arrival_referrals": len(chosen),
        "arrival_candidates": len(candidates),
        "arrival_statements": statements,
    }


def front_desk_login(facility: Facility) -> User:
    """A front-desk login at `facility` (the first with one, else one made: bench-only, no password)."""
    staff = [
        member
        for member in StaffMember.objects.filter(facility=facility).select_related("user").order_by("pk")
        if member.role == Role.FRONT_DESK
    ]
    if not staff:
        raise SystemExit(f"prepare: {facility.name} has no front desk to check patients in")
    with_login = next((member for member in staff if member.user is not None), None)
    if with_login is not None:
        return with_login.user  # type: ignore[return-value]
    return login_for(staff[0], "bench-desk")


def login_ensured(clinician: Clinician, prefix: str) -> Clinician:
    """`clinician`, given a login if they have none (bench-only, no password: nobody can sign in with it)."""
    if clinician.user is None:
        user_create(
            actor=Actor.command_line(),
            username=f"{prefix}-{clinician.public_id}",
            kind=AccountKind.CLINICIAN,
            password=None,
            first_name=clinician.first_name,
            last_name=clinician.last_name,
            linked_record=clinician,
        )
        clinician = Clinician.objects.select_related("user", "workplace").get(pk=clinician.pk)
    return clinician


def plan_referring(desks: list[Desk], rng: random.Random, *, app: int, ceiling: int, warmup: int) -> dict:
    """Making a referral: as each desk's surgery's GP (the prescribing GP, whose token the run already
    has), for a patient registered there, to a random hospital and a service it offers. Nothing is written
    here but the probes' referrals (three, to count statements); the run makes the rest. No facility has
    a remote endpoint set, so each referral queues its emails and no FHIR message."""
    if not api_has("/api/referrals"):
        print("prepare: the application has no POST /api/referrals yet, so making a referral is not planned")
        return {"app_referrals": [], "referring_note": "the application has no POST /api/referrals yet"}
    started = time.perf_counter()
    hospitals = [
        (facility, sorted(set(facility.specialities_offered or []) - NOT_REFERRED_TO))
        for facility in Facility.objects.filter(facility_type=FacilityType.HOSPITAL).order_by("pk")
    ]
    hospitals = [(facility, services_offered) for facility, services_offered in hospitals if services_offered]
    gps = [gp_at(desk.facility) for desk in desks]
    surgeries = sum(1 for gp in gps if gp is not None)
    if not hospitals or not surgeries:
        print("prepare: no hospital offers a service, or no surgery has a GP: making a referral is not planned")
        return {"app_referrals": [], "referring_note": "no hospital service or no GP to refer"}
    wanted = REFERRAL_PROBES + warmup + app
    each = -(-wanted // surgeries)
    by_desk: list[list[dict]] = []
    for number, (desk, gp) in enumerate(zip(desks, gps, strict=True)):
        items: list[dict] = []
        by_desk.append(items)
        if gp is None:
            continue
        patients = list(
            Patient.objects.filter(registered_surgery=desk.facility).order_by("pk").values_list("public_id", flat=True)
        )
        for patient in rng.sample(patients, min(each, len(patients))):
            hospital, offered = rng.choice(hospitals)
            items.append(
                {
                    "desk": number,
                    "patient": str(patient),
                    "receiving_facility": str(hospital.public_id),
                    "speciality": rng.choice(offered),
                    # For the ceiling only, which knows nobody from a token.
                    "referrer": str(gp.public_id),
                }
            )
    first = next(group for group in by_desk if group)
    probes, first[:] = first[:REFERRAL_PROBES], first[REFERRAL_PROBES:]
    items = [item for group in itertools.zip_longest(*by_desk) for item in group if item]
    app_warmup, app_run = items[:warmup], items[warmup:][:app]
    gp = gps[probes[0]["desk"]]
    assert gp is not None and gp.user is not None
    statements = count_referral_statements(probes, api_token(gp.user.username))
    # The ceiling checks nothing, so it may refer the same patients again: a referral is a plain row.
    ceiling_run = [app_run[index % len(app_run)] for index in range(ceiling)] if app_run else []
    seconds = time.perf_counter() - started
    print(
        f"prepare: making a referral: as a GP at {surgeries} surgeries, {len(app_run):,} referrals planned for "
        f"the app to {len(hospitals)} hospitals, {len(ceiling_run):,} for the ceiling; "
        + (f"{statements} SQL statements per referral" if statements is not None else "statements not counted")
        + f"; {seconds:.1f} s"
    )
    return {
        "referral_order": REFERRAL_ORDER,
        "referral_statements": statements,
        "app_referrals_warmup": app_warmup,
        "app_referrals": app_run,
        "ceiling_referrals_warmup": app_warmup,
        "ceiling_referrals": ceiling_run,
    }


def count_get_statements(path: str, token: str) -> int | None:
    """SQL statements one GET of `path` runs through the whole Django stack in this process, counted as
    count_statements counts them: the last of REFERRAL_PROBES requests (the ones before warm the process
    and the token's first use)."""
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counted = None
    for _ in range(REFERRAL_PROBES):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            print(
                f"prepare: counting statements, GET {path} answered {response.status_code}: {response.content[:300]!r}",
                file=sys.stderr,
            )
            return None
        counted = len(queries)
    return counted


def count_referral_statements(probes: list[dict], token: str) -> int | None:
    """SQL statements one POST /api/referrals runs, as count_statements counts a prescription's."""
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counted = None
    for item in probes:
        body = {key: value for key, value in item.items() if key not in ("desk", "referrer")} | REFERRAL_ORDER
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/referrals", data=json.dumps(body), content_type="application/json")
        if response.status_code != 201:
            print(
                f"prepare: counting statements, POST /api/referrals answered {response.status_code}: "
                f"{response.content[:300]!r}",
                file=sys.stderr,
            )
            return None
        counted = len(queries)
    return counted


def api_token(username: str) -> str:
    """What `carebridge api-token USERNAME` prints."""
    out = io.StringIO()
    call_command("api_token", username, label="make bench", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1].strip()


if __name__ == "__main__":
    sys.exit(main())
