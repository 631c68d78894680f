"""The REST API answers as its own OpenAPI description says (schemathesis, in-process, bounded).

Every operation in /api/openapi.json is called with requests generated from its description (12 valid
ones and 3 invalid ones each, from a fixed seed), as the GP and as the surgery's receptionist, and now and
then with an unknown token, on the test world with the GP's slots. schemathesis checks each answer: never
a 5xx, only statuses the description names, and a body (and content type) that matches the schema given
for that status. It takes about ten seconds.

Generated identifiers are random, so most would only ever meet a 404; half the valid examples have their
path and body identifiers swapped for the world's real ones (and a booking given a type and reason), so
that the services' own answers (200, 201, 403, 422) are checked too.

schemathesis' own pytest plugin (from_fixture) does not work with pytest 9, so the operations are walked
here, each with hypothesis' @given over schemathesis' strategy for it.
"""

import contextlib
import uuid

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from carebridge.clinical.models import Condition, Consultation
from carebridge.prescribing.models import Prescription, RepeatRequest
from carebridge.referrals.models import Referral, ReferralDocument
from carebridge.scheduling.models import Appointment, Slot

POSITIVE_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _real_ids(world) -> dict[str, list[uuid.UUID]]:
    """Path parameters and body fields that name rows, with identifiers of rows that exist."""

    def ids(model, **where) -> list[uuid.UUID]:
        return list(model.objects.filter(**where).order_by("pk").values_list("public_id", flat=True)[:5])

    patients = [world.alice.public_id, world.carol.public_id, world.bob.public_id]
    return {
        "patient_id": patients,
        "patient": patients,
        "appointment_id": ids(Appointment),
        "appointment": ids(Appointment),
        "consultation_id": ids(Consultation),
        "consultation": ids(Consultation),
        "condition_id": ids(Condition),
        "condition": ids(Condition),
        "prescription_id": ids(Prescription),
        "request_id": ids(RepeatRequest),
        "slot": ids(Slot, facility=world.surgery),
        "referral_id": ids(Referral),
        "document_id": ids(ReferralDocument),
    }


def test_every_answer_is_described(schedule, token_for):
    world = schedule
    # The GP and the receptionist see the same patients and may do different things; an unknown token
    # is answered 401 everywhere.
    tokens = [token_for(world.gp), token_for(world.reception), "cb_unknown"]
    known = _real_ids(world)
    failures: list[str] = []
    with _wsgi_calls_keep_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        for operation in operations:
            for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, 3)):
                try:
                    _exercise(operation, mode, examples, tokens, known)
                except BaseException as failure:  # every operation is tried; all mismatches reported together
                    if isinstance(failure, KeyboardInterrupt):
                        raise
                    failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n\n".join(failures)


def _exercise(operation, mode, examples: int, tokens: list[str], known: dict[str, list[uuid.UUID]]) -> None:
    calls = [0]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        calls[0] += 1
        if calls[0] % 2 and mode == GenerationMode.POSITIVE:
            pick = calls[0] // 2
            for name in case.path_parameters or {}:
                if known.get(name):
                    case.path_parameters[name] = str(known[name][pick % len(known[name])])
            if isinstance(case.body, dict):
                for name in case.body:
                    if known.get(name):
                        case.body[name] = str(known[name][pick % len(known[name])])
                # A booking the rules can accept, so that 201 and then 409 (the slot taken) are checked too.
                if "slot" in case.body and "patient" in case.body:
                    case.body.update(appointment_type="Routine Consultation", reason="Check-up")
        for token in tokens[:2] if calls[0] % 4 else tokens:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


@contextlib.contextmanager
def _wsgi_calls_keep_the_test_transaction():
    # As Django's test client does: the end of a request would otherwise close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_every_operation_describes_the_answers_any_request_can_get(client):
    description = client.get("/api/openapi.json").json()
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                for status, body in (("400", "Error"), ("422", "Refusal")):
                    schema = responses[status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": f"#/components/schemas/{body}"}, (method, path, status)


def test_input_the_description_does_not_allow_is_refused_in_the_refusal_shape(schedule, api_client_for):
    world = schedule
    api = api_client_for(world.reception)
    wrong = api.get("/api/slots", {"limit": 0, "date": "tomorrow"})
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid" and set(wrong.json()["fields"]) == {"limit", "date"}
    not_json = api.post("/api/appointments", "{not json", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json() == {
        "detail": "Cannot parse request body",
        "code": "bad-request",
    }
    unknown = Client(headers={"Authorization": "Bearer cb_unknown"}).get("/api/me")
    assert unknown.status_code == 401 and unknown.json()["code"] == "unauthorized"
