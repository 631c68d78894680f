"""Machinery for the parity suite (carebridge/api/tests/test_parity.py): one action, three channels.

The suite states what each person may do to alice's and bob's appointments once, as a table; this
module sends each row through the web pages, the REST API (/api/) and FHIR (/fhir/), turns each answer
into the one vocabulary of outcomes, and collects the audit rows each request wrote.

Every channel starts from the same database: each runs inside a savepoint that is rolled back
afterwards, so a booking made through the pages is gone before REST tries the same booking.
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from carebridge.accounts.models import User
from carebridge.accounts.services import api_token_issue
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, Slot
from carebridge.testing.schedule import MONDAY_MORNING, WEEKDAYS_8_TO_6
from carebridge.testing.world import World

# --- The one vocabulary --------------------------------------------------------------------------------

OK = "ok"
NOT_FOUND = "not-found"  # missing, or not visible to this person
NOT_PERMITTED = "not-permitted"  # visible, but they may not do this
INVALID = "invalid"  # breaks a rule (no reason given, a move out of the appointment's facility)
CONFLICT = "conflict"  # the slot was just taken
OUTCOMES = (OK, NOT_FOUND, NOT_PERMITTED, INVALID, CONFLICT)

_REFUSAL_STATUS = {404: NOT_FOUND, 403: NOT_PERMITTED, 422: INVALID, 409: CONFLICT}

WEB, REST, FHIR = "web", "rest", "fhir"
CHANNELS = (WEB, REST, FHIR)

FHIR_JSON = "application/fhir+json"
JSON = "application/json"


def _day(offset: int, time: dt.time) -> dt.datetime:
    return clock.london_datetime(MONDAY_MORNING.date() + dt.timedelta(days=offset), time)


# When things happen. A (alice at her surgery) is on Tuesday at 09:00; the others are later.
A_STARTS = _day(1, dt.time(9, 0))
BEFORE_A = _day(1, dt.time(8, 30))  # A's day, before it starts: check-in
AFTER_A = _day(1, dt.time(9, 20))  # A's day, after it started: did not attend, done
H_STARTS = _day(14, dt.time(10, 30))


# --- The targets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """What the cases act on, by public id: the same ids hold in every channel's savepoint."""

    world: World
    alice: uuid.UUID
    bob: uuid.UUID
    a: uuid.UUID  # alice, booked GP appointment at world.surgery, tomorrow 09:00
    b: uuid.UUID  # bob, booked at world.other_surgery with other_gp, tomorrow 09:00
    h: uuid.UUID  # alice, at world.hospital with the specialist, made from her referral
    referral: uuid.UUID  # alice's referral from world.surgery to world.hospital (Cardiology)
    free_gp_slot: uuid.UUID  # for booking alice
    gp_slot_for_a: uuid.UUID  # where A moves to
    gp_slot_for_h: uuid.UUID  # where H may not move to: another facility
    hospital_slot: uuid.UUID  # where H moves to
    other_surgery_slot: uuid.UUID  # where B moves to
    taken_gp_slot: uuid.UUID  # held by carol, another patient of the surgery
    missing: uuid.UUID  # no appointment has this id

    def user(self, name: str) -> User:
        return getattr(self.world, name)

    def names(self) -> dict[str, str]:
        """Each id the cases know, by the name the table uses: audit rows then read, and compare, alike."""
        known = {
            str(value): name.upper() if name in ("a", "b", "h") else name
            for name, value in vars(self).items()
            if isinstance(value, uuid.UUID)
        }
        for facility in ("surgery", "other_surgery", "hospital", "other_hospital"):
            known[str(getattr(self.world, facility).public_id)] = facility
        return known


def _slot(clinician, starts_at: dt.datetime) -> Slot:
    return Slot.objects.get(clinician=clinician, starts_at=starts_at)


def build_targets(world: World) -> Targets:
    """On top of `schedule` (the GP's weekday mornings, clock Monday 07:00): sessions at the other
    surgery and the hospital, and the appointments A, B and H."""
    system = Actor.command_line(None)
    types = ["Routine Consultation", "Follow-up"]
    services.opening_hours_set(actor=system, facility=world.other_surgery, hours=WEEKDAYS_8_TO_6)
    services.session_add(
        actor=system,
        clinician=world.other_gp.clinician,
        weekday=1,
        start_time=dt.time(9, 0),
        end_time=dt.time(12, 0),
        slot_minutes=15,
        appointment_types=types,
    )
    services.opening_hours_set(actor=system, facility=world.hospital, hours=WEEKDAYS_8_TO_6)
    services.session_add(
        actor=system,
        clinician=world.specialist.clinician,
        weekday=2,
        start_time=dt.time(13, 0),
        end_time=dt.time(17, 0),
        slot_minutes=30,
        appointment_types=["Specialist Consultation", "Follow-up"],
    )

    gp, other_gp, specialist = world.gp.clinician, world.other_gp.clinician, world.specialist.clinician
    a = services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=world.alice,
        slot=_slot(gp, A_STARTS),
        appointment_type="Routine Consultation",
        reason="Persistent cough",
    )
    b = services.appointment_book(
        actor=Actor.command_line(world.other_reception),
        patient=world.bob,
        slot=_slot(other_gp, A_STARTS),
        appointment_type="Routine Consultation",
        reason="Back pain",
    )
    now = clock.now()
    carol = Patient.objects.create(
        first_name="Carol",
        last_name="Cole",
        date_of_birth=dt.date(1990, 2, 3),
        registration_date=dt.date(2021, 1, 1),
        registered_surgery=world.surgery,
        created_at=now,
        updated_at=now,
    )
    taken = services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=carol,
        slot=_slot(gp, _day(1, dt.time(9, 30))),
        appointment_type="Routine Consultation",
        reason="Asthma review",
    )
    h = world.alice_referral.appointment
    # The world dates H from the day it was built; pinned here so the case holds on any date. It is a
    # hospital follow-up, a type the GP's slots offer too: a move of H into a GP slot can then be
    # refused only for leaving the hospital, which is the rule under test, not for the type.
    Appointment.objects.filter(pk=h.pk).update(starts_at=H_STARTS, appointment_type="Follow-up")
    return Targets(
        world=world,
        alice=world.alice.public_id,
        bob=world.bob.public_id,
        a=a.public_id,
        b=b.public_id,
        h=h.public_id,
        referral=world.alice_referral.public_id,
        free_gp_slot=_slot(gp, _day(1, dt.time(10, 0))).public_id,
        gp_slot_for_a=_slot(gp, _day(1, dt.time(11, 0))).public_id,
        gp_slot_for_h=_slot(gp, _day(2, dt.time(9, 0))).public_id,
        hospital_slot=_slot(specialist, _day(2, dt.time(14, 0))).public_id,
        other_surgery_slot=_slot(other_gp, _day(1, dt.time(10, 0))).public_id,
        taken_gp_slot=taken.slot.public_id,
        missing=uuid.UUID("00000000-0000-4000-8000-000000000000"),
    )


# --- One request, as each channel says it ----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str  # GET, POST or PATCH
    path: str
    body: dict | None = None
    content_type: str | None = None  # None: a form post (the web); otherwise the body is sent as JSON


Builder = Callable[[Targets, str], Request]


@dataclass(frozen=True)
class Action:
    """Something a person does, as the pages, REST and FHIR each say it, and when (the clock).

    A channel that cannot say it yet has no builder (None): the action is asked of the others only, and
    gains that channel when its builder is written (`channels`)."""

    name: str
    web: Builder | None
    rest: Builder | None
    fhir: Builder | None
    at: dt.datetime = MONDAY_MORNING
    # A read answers the page itself; a change redirects after its POST.
    web_ok_status: int = 302
    # A change must leave a create or update row when it succeeds; a read need not.
    changes: bool = True

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(channel for channel in CHANNELS if getattr(self, channel) is not None)

    def request(self, channel: str, targets: Targets, actor: str) -> Request:
        builder = getattr(self, channel)
        assert builder is not None, f"{self.name} is not said through {channel}"
        return builder(targets, actor)


def _web_book(targets: Targets, actor: str, slot: uuid.UUID, reason: str) -> Request:
    form = {"appointment_type": "Routine Consultation", "reason": reason}
    if targets.user(actor).pk == targets.world.alice.user_id:
        # The patient's own booking pages; everyone else books through the pages for a named patient.
        return Request("POST", reverse("scheduling:book_confirm", args=[slot]), form)
    return Request("POST", reverse("scheduling:book_for_confirm", args=[targets.alice, slot]), form)


def _rest_book(targets: Targets, slot: uuid.UUID, reason: str) -> Request:
    return Request(
        "POST",
        "/api/appointments",
        {
            "patient": str(targets.alice),
            "slot": str(slot),
            "appointment_type": "Routine Consultation",
            "reason": reason,
        },
        JSON,
    )


def _fhir_book(targets: Targets, slot: uuid.UUID, reason: str) -> Request:
    body: dict = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot}"}],
        "participant": [{"actor": {"reference": f"Patient/{targets.alice}"}, "status": "accepted"}],
        "appointmentType": {"text": "Routine Consultation"},
    }
    if reason:
        body["reasonCode"] = [{"text": reason}]
    return Request("POST", "/fhir/Appointment", body, FHIR_JSON)


def book(name: str = "book", *, slot: str = "free_gp_slot", reason: str = "Sore throat for a week") -> Action:
    """Book alice into `slot` (a field of Targets)."""
    return Action(
        name=name,
        web=lambda t, actor: _web_book(t, actor, getattr(t, slot), reason),
        rest=lambda t, actor: _rest_book(t, getattr(t, slot), reason),
        fhir=lambda t, actor: _fhir_book(t, getattr(t, slot), reason),
    )


def _fhir_patch(appointment: uuid.UUID, change: dict) -> Request:
    # A merge patch (a partial Appointment): it works whether or not the appointment holds a slot yet.
    return Request("PATCH", f"/fhir/Appointment/{appointment}", change, FHIR_JSON)


def move(name: str, appointment: str, slot: str) -> Action:
    """`appointment` and `slot` name fields of Targets (a, h, b; gp_slot_for_a, ...)."""

    def ids(t: Targets) -> tuple[uuid.UUID, uuid.UUID]:
        return getattr(t, appointment), getattr(t, slot)

    return Action(
        name=name,
        web=lambda t, actor: Request("POST", reverse("scheduling:move_confirm", args=ids(t)), {"search": ""}),
        rest=lambda t, actor: Request("POST", f"/api/appointments/{ids(t)[0]}/move", {"slot": str(ids(t)[1])}, JSON),
        fhir=lambda t, actor: _fhir_patch(ids(t)[0], {"slot": [{"reference": f"Slot/{ids(t)[1]}"}]}),
    )


def cancel(name: str, appointment: str, reason: str = "Feeling better") -> Action:
    fhir_change: dict = {"status": "cancelled"}
    if reason:
        fhir_change["cancelationReason"] = {"text": reason}
    return Action(
        name=name,
        web=lambda t, actor: Request(
            "POST", reverse("scheduling:cancel", args=[getattr(t, appointment)]), {"reason": reason}
        ),
        rest=lambda t, actor: Request(
            "POST", f"/api/appointments/{getattr(t, appointment)}/cancel", {"reason": reason}, JSON
        ),
        fhir=lambda t, actor: _fhir_patch(getattr(t, appointment), fhir_change),
    )


def status_change(
    name: str, *, web_url: str, rest_path: str, fhir_status: str, at: dt.datetime, reason: str = ""
) -> Action:
    """Check-in, did not attend and done, on A. `reason`: why A, never checked in, is done."""
    web_form = {"date": at.date().isoformat(), **({"reason": reason} if reason else {})}
    return Action(
        name=name,
        at=at,
        web=lambda t, actor: Request("POST", reverse(web_url, args=[t.a]), web_form),
        rest=lambda t, actor: Request(
            "POST", f"/api/appointments/{t.a}/{rest_path}", {"reason": reason} if reason else {}, JSON
        ),
        fhir=lambda t, actor: _fhir_patch(t.a, {"status": fhir_status, **({"comment": reason} if reason else {})}),
    )


READ = Action(
    name="read-record",
    web=lambda t, actor: Request("GET", reverse("records:record", args=[t.alice])),
    rest=lambda t, actor: Request("GET", f"/api/patients/{t.alice}"),
    fhir=lambda t, actor: Request("GET", f"/fhir/Patient/{t.alice}"),
    web_ok_status=200,
    changes=False,
)

# Alice's referral: its page, REST, and FHIR (the ServiceRequest).
READ_REFERRAL = Action(
    name="read-referral",
    web=lambda t, actor: Request("GET", reverse("referrals:referral", args=[t.referral])),
    rest=lambda t, actor: Request("GET", f"/api/referrals/{t.referral}"),
    fhir=lambda t, actor: Request("GET", f"/fhir/ServiceRequest/{t.referral}"),
    web_ok_status=200,
    changes=False,
)


# --- Sending it, and reading the answer --------------------------------------------------------------------

AuditRow = tuple[str, str, str, str]
# What a request creates gets a new id in each channel; rows name it alike so they can be compared.
CREATED = "(new)"


@dataclass(frozen=True)
class Result:
    channel: str
    status: int
    outcome: str  # one of OUTCOMES, or "HTTP <status>" for an answer outside the vocabulary
    says: str  # the message shown or sent, to read in a failure
    rows: tuple[AuditRow, ...]  # sorted: compared as a multiset

    def line(self) -> str:
        return f"  {self.channel:<5} {self.outcome:<14} HTTP {self.status}  {self.says[:140]}"


def _client(channel: str, user: User) -> Client:
    # A view that crashes must show up as an answer (HTTP 500) beside the others, not end the test.
    if channel == WEB:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client
    _, token = api_token_issue(actor=Actor.command_line(), user=user, label="parity")
    return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {token}"})


def _send(client: Client, request: Request) -> HttpResponse:
    if request.method == "GET":
        return client.get(request.path)
    send = getattr(client, request.method.lower())
    if request.content_type is None:
        return send(request.path, request.body or {})
    return send(request.path, json.dumps(request.body), content_type=request.content_type)


_ERROR_ITEMS = re.compile(r"<ul[^>]*nhsuk-error-summary__list[^>]*>(.*?)</ul>", re.S)
_REFUSAL = re.compile(r'data-testid="refusal"[^>]*>(.*?)</', re.S)
_TAGS = re.compile(r"<[^>]+>")


def _says(channel: str, response: HttpResponse) -> str:
    if 300 <= response.status_code < 400:
        return f"-> {response.get('Location', '')}"
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        try:
            body = json.loads(response.content)
        except ValueError:
            return ""
        if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
            issue = (body.get("issue") or [{}])[0]
            return (issue.get("details") or {}).get("text") or issue.get("diagnostics") or issue.get("code", "")
        if isinstance(body, dict) and "detail" in body:
            return str(body["detail"])
        return ""
    if "html" in content_type:
        page = response.content.decode(errors="replace")
        found = _ERROR_ITEMS.search(page) or _REFUSAL.search(page)
        if found:
            return " ".join(_TAGS.sub(" ", found.group(1)).split())
    return ""


def _outcome(action: Action, channel: str, status: int) -> str:
    ok_statuses = {action.web_ok_status} if channel == WEB else {200, 201}
    if status in ok_statuses:
        return OK
    return _REFUSAL_STATUS.get(status, f"HTTP {status}")


def _rows_since(mark: int, targets: Targets) -> tuple[AuditRow, ...]:
    names = targets.names()
    patients = {targets.world.alice.pk: "alice", targets.world.bob.pk: "bob"}

    def patient(pk: int | None) -> str:
        return "-" if pk is None else patients.get(pk, f"patient {pk}")

    return tuple(
        sorted(
            (action, object_type, names.get(object_id, CREATED) if object_id else "-", patient(patient_id))
            for action, object_type, object_id, patient_id in AuditEvent.objects.filter(pk__gt=mark).values_list(
                "action", "object_type", "object_id", "patient_id"
            )
        )
    )


def run(action: Action, channel: str, targets: Targets, actor: str) -> Result:
    """Send the action as `actor` through one channel; whatever it changed is rolled back afterwards."""
    clock.freeze(action.at)
    request = action.request(channel, targets, actor)
    with transaction.atomic():
        client = _client(channel, targets.user(actor))
        # Only what this request wrote: not the sign-in, the token, or the fixture.
        mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = _send(client, request)
        rows = _rows_since(mark, targets)
        result = Result(
            channel=channel,
            status=response.status_code,
            outcome=_outcome(action, channel, response.status_code),
            says=_says(channel, response),
            rows=rows,
        )
        transaction.set_rollback(True)
    return result


def audit_problems(result: Result, *, changes: bool) -> list[str]:
    """What the trail must hold whatever the channel: a refusal of access is recorded; a change is."""
    actions = {row[0] for row in result.rows}
    problems = []
    if result.outcome in (NOT_FOUND, NOT_PERMITTED) and AuditAction.DENY not in actions:
        problems.append(f"{result.channel}: refused ({result.outcome}) without a deny row in the audit trail")
    if changes and result.outcome == OK and not actions & {AuditAction.CREATE, AuditAction.UPDATE}:
        problems.append(f"{result.channel}: changed the appointment without a create or update row")
    return problems
