"""Logs carry no patient identifiers: refused requests are not logged with their paths, and whatever is
logged has IDs, NHS numbers, phone numbers and email addresses blanked out."""

import io
import logging
import uuid

import pytest
from django.test import Client

from carebridge.core.log_redaction import RedactIdentifiers, redact


def _api_client(user) -> Client:
    from carebridge.accounts.services import api_token_issue
    from carebridge.core.actor import Actor

    _, token = api_token_issue(actor=Actor.command_line(), user=user, label="test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_404_for_a_patient_logs_nothing_naming_them(world, client_for, client, caplog):
    missing = uuid.uuid4()
    visible = world.alice.public_id
    with caplog.at_level(logging.DEBUG):
        assert _api_client(world.gp).get(f"/api/patients/{missing}").status_code == 404
        assert _api_client(world.reception).get(f"/api/patients/{world.bob.public_id}").status_code == 404
        assert client.get(f"/api/patients/{visible}").status_code == 401
        assert client_for(world.other_gp).get(f"/patients/{visible}/").status_code == 404
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for identifier in (missing, world.bob.public_id, visible):
        assert str(identifier) not in logged and identifier.hex not in logged
    assert world.alice.nhs_number not in logged


def _through_the_configured_handler(logger_name: str, *args, **kwargs) -> str:
    """What the settings' console handler writes for one record."""
    [handler] = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactIdentifiers) for f in h.filters)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger(logger_name).error(*args, **kwargs)
    finally:
        handler.setStream(previous)
    return stream.getvalue()


def test_a_server_error_is_logged_with_its_path_and_traceback_redacted():
    patient = uuid.UUID("0f0e4f2b-3c8d-4e1a-9b7c-2d5e6f708192")
    try:
        raise ValueError(f"duplicate key (nhs_number)=(9434765919) for {patient.hex} <alice@example.com>")
    except ValueError:
        written = _through_the_configured_handler(
            "django.request", "Internal Server Error: %s", f"/api/patients/{patient}", exc_info=True
        )
    assert "Internal Server Error: /api/patients/<id>" in written
    assert "ValueError: duplicate key (nhs_number)=(<number>) for <id> <<email>>" in written
    for identifier in (str(patient), patient.hex, "9434765919", "alice@example.com"):
        assert identifier not in written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/patients/0f0e4f2b-3c8d-4e1a-9b7c-2d5e6f708192/", "/patients/<id>/"),
        ("/fhir/Patient/0F0E4F2B3C8D4E1A9B7C2D5E6F708192", "/fhir/Patient/<id>"),
        ("nhs 943 476 5919 and 943-476-5919", "nhs <number> and <number>"),
        ("phone 07700900301", "phone <number>"),
        ("Email <id-abc> attempt 3: refused", "Email <id-abc> attempt 3: refused"),
        ("on 2026-11-30 at 09:30", "on 2026-11-30 at 09:30"),
    ],
)
def test_what_is_blanked(text, expected):
    assert redact(text) == expected
