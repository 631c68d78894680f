"""Hostile and careless input: every edge answers a clear 4xx in its own format (a page with a date box
shows its form again with the message), and nothing is written.

One table: dates beyond the supported range, NUL bytes, huge offsets, oversized bodies, the JSON Patch
bomb and long URLs, sent to the pages, the REST API and FHIR as the person who could otherwise use them.
A page answers HTML, /api/ answers {"detail", "code"}, /fhir/ an OperationOutcome.
"""

import datetime as dt
import json
from dataclasses import dataclass, field

import pytest
from django.test import Client

from carebridge.access.selectors import patient_record_for
from carebridge.api.tests.conftest import token_for  # noqa: F401  (a fixture, used by name)
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import NotFound
from carebridge.fhir.patch import MAX_OPERATIONS
from carebridge.scheduling.models import Appointment, ScheduleException, Slot
from carebridge.testing import parity

BIG = 2_000_000  # above the 1 MB body limit (settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
HUGE_OFFSET = str(2**63 + 1)
LONG = "x" * 5000  # past the 4,096-character URL limit

# 20 copies of /participant onto itself: the document doubles with every operation.
PATCH_BOMB = [{"op": "copy", "from": "/participant", "path": "/participant/-"} for _ in range(20)]
TOO_MANY_OPERATIONS = [{"op": "test", "path": "/resourceType", "value": "Appointment"}] * (MAX_OPERATIONS + 1)


@dataclass(frozen=True)
class Hostile:
    name: str
    who: str | None  # a world user's name; None: nobody signed in
    method: str
    path: str  # "{a}" is alice's booked appointment, "{alice}" alice's patient id
    status: int
    body: object = None  # a dict for a form, anything else as JSON (or raw str/bytes)
    content_type: str = ""
    headers: dict = field(default_factory=dict)


JSON = "application/json"
FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"

HOSTILE = [
    # --- Dates beyond the supported range -----------------------------------------------------------
    Hostile("rest appointments far future", "reception", "GET", "/api/appointments?date=9999-12-31", 400),
    Hostile("rest appointments year one", "reception", "GET", "/api/appointments?date=0001-01-01", 400),
    # Not a date at all: the REST API's own validation of its described parameters (422, code "invalid").
    Hostile("rest appointments empty date", "reception", "GET", "/api/appointments?date=", 422),
    Hostile("rest slots far future", "alice_user", "GET", "/api/slots?date=9999-12-31", 400),
    Hostile(
        "fhir appointment year one +14", "reception", "GET", "/fhir/Appointment?date=eq0001-01-01T00:00:00%2B14:00", 400
    ),
    Hostile("fhir appointment far future", "reception", "GET", "/fhir/Appointment?date=9999-12-31", 400),
    Hostile("fhir slot far future", "alice_user", "GET", "/fhir/Slot?start=9999-12-31", 400),
    Hostile("fhir birthdate far future", "gp", "GET", "/fhir/Patient?birthdate=9999-12-31", 400),
    # A page with a date box shows its form again, the message in the error summary, so the person can
    # correct the date where they typed it (no dead end); test_date_parameters.py checks the message.
    Hostile("page day list", "reception", "GET", "/appointments/day/?date=9999-12-31", 200),
    Hostile("page day list year one", "reception", "GET", "/appointments/day/?date=0001-01-01", 200),
    Hostile("page my day", "gp", "GET", "/appointments/my-day/?date=9999-12-31", 200),
    Hostile("page slot search", "alice_user", "GET", "/appointments/book/?from_date=9999-12-31", 200),
    Hostile("page audit search", "privacy", "GET", "/privacy/audit/?date_from=2026-01-01&date_to=9999-12-31", 200),
    Hostile(
        "page time off",
        "manager",
        "POST",
        "/appointments/schedules/time-off/add/",
        200,
        body={"first_day": "9999-12-31", "last_day": "9999-12-31", "reason": "Leave"},
    ),
    # --- NUL bytes (PostgreSQL refuses them in text) -----------------------------------------------
    Hostile("sign-in username", None, "POST", "/accounts/sign-in/", 400, body={"username": "gp\x00", "password": "x"}),
    Hostile("page patient search", "reception", "GET", "/patients/?last_name=Sm%00ith", 400),
    Hostile("page patient id", "gp", "GET", "/patients/ab%00cd/", 400),
    Hostile("rest patient search", "reception", "GET", "/api/patients?last_name=Sm%00ith", 400),
    Hostile("rest patient id", "gp", "GET", "/api/patients/ab%00cd", 400),
    Hostile(
        "rest cancel reason",
        "reception",
        "POST",
        "/api/appointments/{a}/cancel",
        400,
        body={"reason": "Feeling\u0000better"},
        content_type=JSON,
    ),
    Hostile("fhir patient name", "gp", "GET", "/fhir/Patient?name=Sm%00ith", 400),
    Hostile("fhir patient id", "gp", "GET", "/fhir/Patient/ab%00cd", 400),
    Hostile(
        "fhir patch value",
        "reception",
        "PATCH",
        "/fhir/Appointment/{a}",
        400,
        body=[{"op": "add", "path": "/cancelationReason", "value": {"text": "a\u0000b"}}],
        content_type=JSON_PATCH,
    ),
    # --- Paging -------------------------------------------------------------------------------------
    Hostile("fhir huge offset", "reception", "GET", f"/fhir/Appointment?_offset={HUGE_OFFSET}", 400),
    # --- Oversized bodies, patch bombs, long URLs ----------------------------------------------------
    Hostile(
        "fhir patch bomb", "alice_user", "PATCH", "/fhir/Appointment/{a}", 413, body=PATCH_BOMB, content_type=JSON_PATCH
    ),
    Hostile(
        "fhir too many operations",
        "alice_user",
        "PATCH",
        "/fhir/Appointment/{a}",
        422,
        body=TOO_MANY_OPERATIONS,
        content_type=JSON_PATCH,
    ),
    Hostile("fhir huge create", "reception", "POST", "/fhir/Appointment", 413, body="x" * BIG, content_type=FHIR_JSON),
    Hostile("fhir huge put", "reception", "PUT", "/fhir/Appointment/{a}", 413, body="x" * BIG, content_type=FHIR_JSON),
    Hostile("rest huge body", "reception", "POST", "/api/appointments", 413, body="x" * BIG, content_type=JSON),
    Hostile(
        "page huge form",
        "manager",
        "POST",
        "/appointments/schedules/time-off/add/",
        413,
        body="a=" + "x" * BIG,
        content_type="application/x-www-form-urlencoded",
    ),
    Hostile("fhir long url", "gp", "GET", f"/fhir/Patient?name={LONG}", 414),
    Hostile("rest long url", "gp", "GET", f"/api/patients?last_name={LONG}", 414),
    Hostile("page long url", "reception", "GET", f"/patients/?last_name={LONG}", 414),
]


def _client(who: str | None, path: str, world, token_for) -> Client:
    if who is None:
        return Client()
    user = getattr(world, who)
    if path.startswith(("/api/", "/fhir/")):
        return Client(headers={"Authorization": f"Bearer {token_for(user)}"})
    client = Client()
    client.force_login(user)
    return client


def _send(client: Client, case: Hostile, path: str):
    body, content_type = case.body, case.content_type
    if body is None:
        return client.generic(case.method, path)
    if isinstance(body, dict) and not content_type:
        return client.post(path, body)
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return client.generic(case.method, path, body, content_type=content_type)


def _written() -> dict:
    """What a refused request must leave alone: every appointment as it was, no new time off or slots,
    and no audit row of a change or a denial (none of these is an access denial; a view that looked a
    record up before refusing, such as the appointment a patch names, has audited that read)."""
    return {
        "audit": AuditEvent.objects.exclude(action__in=[AuditAction.VIEW, AuditAction.SEARCH]).count(),
        "appointments": sorted(Appointment.objects.values_list("public_id", "status", "slot_id", "updated_at")),
        "exceptions": ScheduleException.objects.count(),
        "slots": Slot.objects.count(),
    }


def _assert_edge_format(response, path: str) -> None:
    content_type = response["Content-Type"]
    if path.startswith("/fhir/"):
        assert content_type.startswith(FHIR_JSON)
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["details"]["text"]
    elif path.startswith("/api/"):
        assert content_type.startswith(JSON)
        body = response.json()
        assert isinstance(body["detail"], str) and body["detail"]
        assert body["code"]
    else:
        assert content_type.startswith("text/html")
        assert b"<html" in response.content.lower()


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_hostile_input_gets_a_clear_4xx_in_the_edges_format_and_changes_nothing(case, schedule, token_for):
    targets = parity.build_targets(schedule)
    path = case.path.format(a=targets.a, alice=targets.alice)
    client = _client(case.who, path, schedule, token_for)
    before = _written()

    response = _send(client, case, path)

    assert response.status_code == case.status, response.content[:500]
    _assert_edge_format(response, path)
    assert _written() == before


def test_the_patch_bomb_leaves_the_appointment_as_it_was_and_the_server_answers_on(schedule, token_for):
    targets = parity.build_targets(schedule)
    client = Client(headers={"Authorization": f"Bearer {token_for(schedule.alice_user)}"})
    path = f"/fhir/Appointment/{targets.a}"
    before = client.get(path).json()

    bomb = client.patch(path, json.dumps(PATCH_BOMB), content_type=JSON_PATCH)

    assert bomb.status_code == 413
    assert bomb.json()["issue"][0]["code"] == "too-costly"
    # The worker survived and the appointment is unchanged (meta.lastUpdated included).
    assert client.get(path).json() == before


def test_a_patch_that_grows_within_bounds_still_applies(schedule, token_for):
    """The bound is on size, not on copy: a few copies of a small value are an ordinary patch."""
    from carebridge.fhir.patch import json_patch

    document = {"resourceType": "Appointment", "participant": [{"actor": {"reference": "Patient/1"}}]}
    patched = json_patch(document, PATCH_BOMB[:3])
    # Each copy appends the whole array so far as one element: the document doubles.
    assert len(patched["participant"]) == 4
    assert patched["participant"][3][2] == patched["participant"][:2]


def test_a_nul_in_a_patient_id_is_audited_without_the_nul(world):
    """Behind the middleware, a second line: an access denial naming a NUL-bearing id still writes its row."""
    with pytest.raises(NotFound):
        patient_record_for(actor=Actor.command_line(world.gp), public_id="ab\x00cd", purpose="hostile")
    row = AuditEvent.objects.filter(action=AuditAction.DENY).latest("at")
    assert "\x00" not in row.object_id
    assert "\x00" not in json.dumps(row.detail)


def test_the_supported_dates_are_the_clocks():
    assert clock.london_datetime(clock.FIRST_DAY, dt.time.min).date() == clock.FIRST_DAY
    with pytest.raises(clock.DateOutOfRange, match="between"):
        clock.london_datetime(dt.date(9999, 12, 31), dt.time.min)
