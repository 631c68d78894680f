"""The privacy officer's pages: the audit trail search and the review of emergency access."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carebridge.access.models import BreakGlassAccess
from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.testing.days import BASE_MOMENT, short_day

AUDIT = reverse("privacy:audit")
REVIEW_LIST = reverse("privacy:break_glass")
REASON = "Seen in out-of-hours clinic, chest pain"


def test_the_privacy_officer_finds_who_read_a_patients_record(world, client_for):
    client_for(world.gp).get(reverse("records:record", args=[world.alice.public_id]))
    client_for(world.gp).get(reverse("records:record", args=[world.bob.public_id]))  # refused, audited
    response = client_for(world.privacy).get(AUDIT, {"nhs_number": world.alice.nhs_number})
    page = response.content.decode()
    assert response.status_code == 200
    # People by name and role, patients by name and NHS number; no raw identifiers.
    assert page.count('aria-hidden="true">Who </span><span>Grace Patel (GP)</span>') == 1
    assert "Alice Archer" in page and "NHS 943 476 5919" in page and "Patient record" in page
    assert "Bob Baker" not in page
    assert str(world.alice.public_id) not in page and f">{world.alice.pk}<" not in page
    # Reading the trail is itself recorded.
    assert AuditEvent.objects.filter(actor=world.privacy, action=AuditAction.SEARCH, object_type="audit_trail").exists()


def test_the_trail_filters_by_user_and_action(world, client_for):
    client_for(world.gp).get(reverse("records:record", args=[world.bob.public_id]))
    page = client_for(world.privacy).get(AUDIT, {"username": "gp", "action": "deny"}).content.decode()
    assert "1 event." in page


@pytest.mark.parametrize("name", ["gp", "reception", "manager", "admin", "alice_user"])
def test_no_one_else_reads_the_trail(world, client_for, name):
    user = getattr(world, name)
    assert client_for(user).get(AUDIT).status_code == 404
    assert client_for(user).get(REVIEW_LIST).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="privacy").count() == 2


def test_the_privacy_officer_reviews_an_emergency_access(world, client_for):
    client_for(world.other_gp).post(
        reverse("records:break_glass"), {"nhs_number": world.alice.nhs_number, "reason": REASON}
    )
    grant = BreakGlassAccess.objects.get()
    privacy = client_for(world.privacy)
    assert REASON in privacy.get(REVIEW_LIST).content.decode()
    privacy.post(
        reverse("privacy:break_glass_review", args=[grant.pk]),
        {"outcome": "appropriate", "note": "Out-of-hours attendance"},
    )
    grant.refresh_from_db()
    assert grant.reviewed_by == world.privacy and grant.review_outcome == "appropriate"
    assert grant.review_note == f"{short_day(BASE_MOMENT)}, Appropriate: Out-of-hours attendance"
    assert AuditEvent.objects.filter(actor=world.privacy, action=AuditAction.UPDATE, object_type="break_glass").exists()
    assert REASON not in privacy.get(REVIEW_LIST).content.decode()  # reviewed: off the waiting list


def test_a_review_without_a_conclusion_changes_nothing(world, client_for):
    client_for(world.other_gp).post(
        reverse("records:break_glass"), {"nhs_number": world.alice.nhs_number, "reason": REASON}
    )
    grant = BreakGlassAccess.objects.get()
    client_for(world.privacy).post(reverse("privacy:break_glass_review", args=[grant.pk]), {"note": ""})
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_a_row_whose_patient_is_no_longer_on_record_still_shows(world, client_for):
    audit_record(
        actor=Actor.command_line(world.gp),
        action=AuditAction.VIEW,
        object_type=AuditObject.PATIENT,
        patient_id=world.alice.pk + world.bob.pk + 1000,
    )
    response = client_for(world.privacy).get(AUDIT)
    assert response.status_code == 200 and "No longer on record" in response.content.decode()


def _trail_of(count: int, world) -> None:
    """`count` reads, each of a different patient by one of several people, stored as the services store them."""
    surgery = world.alice.registered_surgery
    now = clock.now()
    patients = Patient.objects.bulk_create(
        Patient(
            source_id=f"P-{count}-{n}",
            first_name=f"Pat{n}",
            last_name="Test",
            date_of_birth=dt.date(1990, 1, 1),
            registration_date=dt.date(2020, 1, 1),
            registered_surgery=surgery,
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    )
    readers = [world.gp, world.nurse, world.reception, world.manager, world.specialist]
    for n, patient in enumerate(Patient.objects.filter(pk__in=[p.pk for p in patients])):
        audit_record(
            actor=Actor.command_line(readers[n % len(readers)]),
            action=AuditAction.VIEW,
            object_type=AuditObject.PATIENT,
            patient_id=patient.pk,
        )


def _queries_for_the_first_page(world, client_for) -> tuple[int, str]:
    client = client_for(world.privacy)
    client.get(AUDIT)  # the session is loaded and saved once; count a settled page
    with CaptureQueriesContext(connection) as queries:
        page = client.get(AUDIT).content.decode()
    return len(queries), page


def test_a_page_of_fifty_rows_takes_as_many_queries_as_a_page_of_one(world, client_for):
    _trail_of(1, world)
    one, _ = _queries_for_the_first_page(world, client_for)
    AuditEvent.objects.all().delete()
    _trail_of(60, world)
    fifty, page = _queries_for_the_first_page(world, client_for)
    assert page.count('<tr role="row" class="nhsuk-table__row">') == 50  # a full page
    assert fifty == one, (one, fifty)
    assert fifty <= 12


def test_a_row_about_a_login_names_its_person(world, client_for):
    audit_record(
        actor=Actor.command_line(world.admin),
        action=AuditAction.UPDATE,
        object_type=AuditObject.USER,
        object_id=str(world.nurse.pk),
    )
    page = client_for(world.privacy).get(AUDIT, {"action": "update"}).content.decode()
    assert "Login: Nia Jones (nurse)" in page
