"""One vocabulary for what the trail is about, and searches recorded against every patient they found."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carebridge.api.tests.conftest import api_client_for, token_for  # noqa: F401  (fixtures, used by name)
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.services import audit_record, audit_search
from carebridge.core.actor import Actor

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def test_an_object_type_outside_the_vocabulary_is_refused(world):
    with pytest.raises(TypeError):
        audit_record(actor=Actor.command_line(world.gp), action=AuditAction.VIEW, object_type="appointmnet")
    assert not AuditEvent.objects.exists()


def test_every_object_type_has_a_label_people_read():
    for member in AuditObject:
        assert member.label and member.label != member.value


def test_a_search_writes_one_row_per_patient_found_in_one_statement(world):
    with CaptureQueriesContext(connection) as queries:
        rows = audit_search(
            actor=Actor.command_line(world.reception),
            object_type=AuditObject.PATIENT,
            criteria={"last_name": "Archer", "first_name": ""},
            patient_ids=[world.alice.pk, world.bob.pk, world.alice.pk],
        )
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]
    stored = AuditEvent.objects.filter(action=AuditAction.SEARCH).order_by("patient_id")
    assert [row.patient_id for row in stored] == sorted([world.alice.pk, world.bob.pk]) and len(rows) == 2
    assert {row.detail["search"] for row in stored} == {rows[0].detail["search"]}  # one search, two rows
    assert all(row.detail["criteria"] == {"last_name": "Archer"} and row.detail["results"] == 2 for row in stored)


def test_a_search_that_found_nobody_is_still_recorded(world):
    audit_search(
        actor=Actor.command_line(world.reception),
        object_type=AuditObject.PATIENT,
        criteria={"nhs_number": "9999999999"},
        patient_ids=[],
    )
    row = AuditEvent.objects.get(action=AuditAction.SEARCH)
    assert row.patient_id is None and row.detail["results"] == 0


def test_every_row_a_day_across_the_channels_writes_is_in_the_vocabulary(world, client, client_for, api_client_for):
    """What the services and edges write in an ordinary day: nothing outside the typed vocabulary."""
    reception, gp = client_for(world.reception), client_for(world.gp)
    reception.get(reverse("records:search"), {"nhs_number": world.alice.nhs_number})
    reception.get(reverse("records:record", args=[world.alice.public_id]))
    reception.get(reverse("scheduling:day"))
    gp.get(reverse("records:record", args=[world.bob.public_id]))  # refused
    gp.get(reverse("scheduling:my_day"))
    client_for(world.porter).get(reverse("records:search"))  # refused
    client_for(world.other_gp).post(
        reverse("records:break_glass"), {"nhs_number": world.alice.nhs_number, "reason": "Out-of-hours, chest pain"}
    )
    client_for(world.alice_user).get(reverse("records:my_record"))
    client_for(world.alice_user).get(reverse("scheduling:mine"))
    client_for(world.manager).get(reverse("privacy:audit"))  # refused
    client_for(world.privacy).get(reverse("privacy:audit"))
    api = api_client_for(world.reception)
    api.get("/api/patients", {"nhs_number": world.alice.nhs_number})
    api.get("/api/appointments")
    api.get("/fhir/Patient", {"identifier": f"{NHS}|{world.alice.nhs_number}"})
    api.get("/fhir/Appointment", {"patient": f"Patient/{world.alice.public_id}"})
    client_for(world.gp).post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "gp", "password": "not the password"})

    written = set(AuditEvent.objects.values_list("object_type", flat=True))
    assert written - set(AuditObject.values) == set()
    # The day touched the kinds of record this test is about, so the check above has rows to judge.
    assert {
        AuditObject.PATIENT,
        AuditObject.PATIENT_SEARCH,
        AuditObject.DAY_LIST,
        AuditObject.PRIVACY,
        AuditObject.AUDIT_TRAIL,
        AuditObject.APPOINTMENT,
        AuditObject.SIGN_IN,
    } <= written
