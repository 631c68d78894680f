"""The privacy officer's pages: the audit trail search and the review of emergency access."""

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.records.models import BreakGlassAccess

AUDIT = reverse("privacy:audit")
REVIEW_LIST = reverse("privacy:break_glass")
REASON = "Seen in out-of-hours clinic, chest pain"


def test_the_privacy_officer_finds_who_read_a_patients_record(world, client_for):
    client_for(world.gp).get(reverse("records:record", args=[world.alice.public_id]))
    client_for(world.gp).get(reverse("records:record", args=[world.bob.public_id]))  # refused, audited
    response = client_for(world.privacy).get(AUDIT, {"nhs_number": world.alice.nhs_number})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<td class=\"nhsuk-table__cell\">gp (GP)</td>") == 1
    assert str(world.alice.public_id) in page and str(world.bob.public_id) not in page
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
    client_for(world.other_gp).post(reverse("records:break_glass"),
                                    {"nhs_number": world.alice.nhs_number, "reason": REASON})
    grant = BreakGlassAccess.objects.get()
    privacy = client_for(world.privacy)
    assert REASON in privacy.get(REVIEW_LIST).content.decode()
    privacy.post(reverse("privacy:break_glass_review", args=[grant.pk]), {"note": "Appropriate: out-of-hours"})
    grant.refresh_from_db()
    assert grant.reviewed_by == world.privacy and grant.review_note == "Appropriate: out-of-hours"
    assert AuditEvent.objects.filter(actor=world.privacy, action=AuditAction.UPDATE, object_type="break_glass").exists()
    assert REASON not in privacy.get(REVIEW_LIST).content.decode()  # reviewed: off the waiting list


def test_a_review_without_a_conclusion_changes_nothing(world, client_for):
    client_for(world.other_gp).post(reverse("records:break_glass"),
                                    {"nhs_number": world.alice.nhs_number, "reason": REASON})
    grant = BreakGlassAccess.objects.get()
    client_for(world.privacy).post(reverse("privacy:break_glass_review", args=[grant.pk]), {"note": ""})
    grant.refresh_from_db()
    assert grant.reviewed_at is None
