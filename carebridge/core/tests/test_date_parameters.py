"""Every page and endpoint that takes a date, given the extremes: never a 500, and a clear message.

The table of addresses was built by searching the code for date parameters (`date=`, `from_date`,
`date_of_birth`, `birthdate`, the FHIR date searches, and every form with a date field); each is sent
every value in EXTREMES as the person who would use it. A value that is no date, or a date outside the
ones Carebridge works with (core.clock.FIRST_DAY..LAST_DAY), is answered with a message saying so: on a
page in the error summary (or the bad-input page), on the REST API as {"detail"}, on FHIR as an
OperationOutcome. An empty value is allowed to mean "no date" (today, or no filter), so it is only held
to "never a 500".
"""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from carebridge.api.tests.conftest import token_for  # noqa: F401  (a fixture, used by name)
from carebridge.scheduling.models import ClinicianSession
from carebridge.testing import parity

EXTREMES = ["0001-01-01", "9999-12-31", "2026-02-30", "", "abc", "10000-01-01", "-1"]
# The three boxes of the NHS.UK date input, sent as a browser sends them: (day, month, year).
BOXES = [("31", "2", "2026"), ("1", "1", "99999"), ("", "", "2026"), ("x", "y", "z"), ("1", "1", "1799")]


@dataclass(frozen=True)
class DateParameter:
    name: str
    who: str
    method: str
    path: str  # "{a}" alice's booked appointment, "{alice}" alice's patient id, "{rx}" her prescription,
    # "{session}" the GP's weekly session
    parameter: str
    other: tuple[tuple[str, str], ...] = ()  # the rest of the query or form
    boxes: bool = False  # a page with the NHS.UK date input: its three boxes are fuzzed too


PARAMETERS = [
    # --- Pages: GET ---------------------------------------------------------------------------------
    DateParameter("day list", "reception", "GET", "/appointments/day/", "date", boxes=True),
    DateParameter("my day", "gp", "GET", "/appointments/my-day/", "date", boxes=True),
    DateParameter("patient's slot search", "alice_user", "GET", "/appointments/book/", "from_date", boxes=True),
    DateParameter(
        "reception's slot search", "reception", "GET", "/appointments/patients/{alice}/book/", "from_date", boxes=True
    ),
    DateParameter("move slot search", "alice_user", "GET", "/appointments/{a}/change/", "from_date", boxes=True),
    DateParameter("audit from", "privacy", "GET", "/privacy/audit/", "date_from", boxes=True),
    DateParameter("audit to", "privacy", "GET", "/privacy/audit/", "date_to", boxes=True),
    DateParameter(
        "patient search", "reception", "GET", "/patients/", "date_of_birth", (("last_name", "Smith"),), boxes=True
    ),
    # --- Pages: POST --------------------------------------------------------------------------------
    DateParameter(
        "register a patient",
        "reception",
        "POST",
        "/patients/register/",
        "date_of_birth",
        (("first_name", "Dora"), ("last_name", "Fuzz"), ("gender", "Female")),
        boxes=True,
    ),
    DateParameter(
        "time off first day",
        "manager",
        "POST",
        "/appointments/schedules/time-off/add/",
        "first_day",
        (("last_day", "2026-12-04"), ("reason", "Leave")),
        boxes=True,
    ),
    DateParameter(
        "time off last day",
        "manager",
        "POST",
        "/appointments/schedules/time-off/add/",
        "last_day",
        (("first_day", "2026-12-04"), ("reason", "Leave")),
        boxes=True,
    ),
    DateParameter(
        "session first day",
        "manager",
        "POST",
        "/appointments/schedules/sessions/add/",
        "valid_from",
        (("weekday", "3"), ("start_time", "14:00"), ("end_time", "16:00"), ("slot_minutes", "15")),
        boxes=True,
    ),
    DateParameter(
        "session end", "manager", "POST", "/appointments/schedules/sessions/{session}/end/", "last_day", boxes=True
    ),
    DateParameter(
        "prescription review date",
        "gp",
        "POST",
        "/prescribing/patients/{alice}/new/",
        "review_date",
        (("course", "repeat"), ("issues_allowed", "3")),
    ),
    DateParameter(
        "prescription supplied on", "gp", "POST", "/prescribing/{rx}/supply/", "on", (("status", "dispensed"),)
    ),
    # --- REST API ------------------------------------------------------------------------------------
    DateParameter("rest appointments", "reception", "GET", "/api/appointments", "date"),
    DateParameter("rest slots", "alice_user", "GET", "/api/slots", "date"),
    DateParameter(
        "rest patient search", "reception", "GET", "/api/patients", "date_of_birth", (("last_name", "Smith"),)
    ),
    DateParameter("rest supply", "gp", "POST", "/api/prescriptions/{rx}/supply", "on", (("status", "dispensed"),)),
    # --- FHIR ------------------------------------------------------------------------------------------
    DateParameter("fhir appointment date", "reception", "GET", "/fhir/Appointment", "date"),
    DateParameter("fhir slot start", "alice_user", "GET", "/fhir/Slot", "start"),
    DateParameter("fhir patient birthdate", "gp", "GET", "/fhir/Patient", "birthdate"),
    DateParameter("fhir encounter date", "gp", "GET", "/fhir/Encounter", "date", (("patient", "{alice}"),)),
    DateParameter(
        "fhir prescription authored", "gp", "GET", "/fhir/MedicationRequest", "authoredon", (("patient", "{alice}"),)
    ),
]

CASES = [
    pytest.param(parameter, {parameter.parameter: value}, bool(value), id=f"{parameter.name}: {value!r}")
    for parameter in PARAMETERS
    for value in EXTREMES
] + [
    pytest.param(
        parameter,
        {f"{parameter.parameter}_{part}": typed for part, typed in zip(("day", "month", "year"), box, strict=True)},
        True,
        id=f"{parameter.name}: boxes {'/'.join(box)}",
    )
    for parameter in PARAMETERS
    if parameter.boxes
    for box in BOXES
]


def _client(who: str, path: str, world, token_for) -> Client:
    user = getattr(world, who)
    if path.startswith(("/api/", "/fhir/")):
        return Client(headers={"Authorization": f"Bearer {token_for(user)}"})
    client = Client()
    client.force_login(user)
    return client


def _says_what_is_wrong(response, path: str) -> bool:
    if path.startswith("/fhir/"):
        outcome = response.json()
        return outcome.get("resourceType") == "OperationOutcome" and bool(outcome["issue"][0]["details"]["text"])
    if path.startswith("/api/"):
        return response.status_code >= 400 and bool(response.json().get("detail"))
    page = response.content.decode()
    return 'data-testid="error-summary"' in page or 'data-testid="bad-input"' in page


@pytest.mark.parametrize(("parameter", "values", "wrong"), CASES)
def test_a_date_parameter_never_answers_500_and_a_wrong_date_is_explained(
    parameter, values, wrong, schedule, token_for
):
    targets = parity.build_targets(schedule)
    session = ClinicianSession.objects.filter(clinician=schedule.gp.clinician).first()
    assert session is not None
    names = {
        "a": targets.a,
        "alice": schedule.alice.public_id,
        "rx": schedule.alice_prescription.public_id,
        "session": session.public_id,
    }
    path = parameter.path.format(**names)
    data = {name: value.format(**names) for name, value in parameter.other} | values
    client = _client(parameter.who, path, schedule, token_for)

    if parameter.method == "GET":
        response = client.get(path, data)
    elif path.startswith("/api/"):
        response = client.post(path, json.dumps(data), content_type="application/json")
    else:
        response = client.post(path, data)

    assert response.status_code < 500, response.content[:500]
    if wrong:
        assert _says_what_is_wrong(response, path), (response.status_code, response.content[:800])
