"""Emergency access: a clinician outside the relationship states a reason; it is granted, flagged, reviewed."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from carebridge.access.models import BreakGlassAccess
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock

URL = reverse("records:break_glass")
REASON = "Attending A&E unconscious, need medication history"


def test_a_clinician_opens_a_record_by_stating_a_reason(world, client_for):
    client = client_for(world.other_specialist)
    record_url = reverse("records:record", args=[world.alice.public_id])
    assert client.get(record_url).status_code == 404
    response = client.post(URL, {"nhs_number": world.alice.nhs_number, "reason": REASON})
    assert response.status_code == 302 and response["Location"] == record_url
    page = client.get(record_url).content.decode()
    assert "You are viewing this record through emergency access" in page
    assert "Simvastatin" in page
    grant = BreakGlassAccess.objects.get()
    assert grant.reason == REASON and grant.reviewed_at is None
    event = AuditEvent.objects.get(action=AuditAction.BREAK_GLASS)
    assert event.actor == world.other_specialist and event.reason == REASON
    assert AuditEvent.objects.get(actor=world.other_specialist, action=AuditAction.VIEW).detail["break_glass"] is True


def test_the_grant_expires(world, client_for, settings):
    client = client_for(world.other_gp)
    client.post(URL, {"nhs_number": world.alice.nhs_number, "reason": REASON})
    clock.freeze(clock.now() + dt.timedelta(hours=settings.BREAK_GLASS_HOURS, minutes=1))
    # Hours later the first session has ended for idleness (accounts.middleware): a new sign-in.
    client = client_for(world.other_gp)
    assert client.get(reverse("records:record", args=[world.alice.public_id])).status_code == 404


def test_a_thin_reason_is_refused(world, client_for):
    response = client_for(world.other_gp).post(URL, {"nhs_number": world.alice.nhs_number, "reason": "need it"})
    assert "Say why you need this record now" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()


def test_an_unknown_number_grants_nothing_and_is_audited(world, client_for):
    response = client_for(world.other_gp).post(URL, {"nhs_number": "9876543210", "reason": REASON})
    assert "No patient with this NHS number was found." in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(actor=world.other_gp, action=AuditAction.DENY, object_type="break_glass").exists()


@pytest.mark.parametrize("name", ["other_reception", "porter", "admin", "privacy", "bob_user"])
def test_only_clinicians_may_break_the_glass(world, client_for, name):
    user = getattr(world, name)
    response = client_for(user).post(URL, {"nhs_number": world.alice.nhs_number, "reason": REASON})
    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="break_glass").exists()


def test_the_patient_sees_the_emergency_access_in_their_log(world, client_for):
    client_for(world.other_gp).post(URL, {"nhs_number": world.alice.nhs_number, "reason": REASON})
    page = client_for(world.alice_user).get(reverse("records:my_record")).content.decode()
    who_can_see, access_log = page.split('data-testid="who-can-see"')[1].split('data-testid="access-log"')
    # Who opened it, that it was an emergency, and the reason they gave, in the patient's own log...
    assert f"Owen Hughes (GP) opened your record in an emergency (reason given: “{escape(REASON)}”)" in access_log
    # ...and, while the grant lasts, among those who can see the record.
    assert "<strong>Owen Hughes</strong>: Emergency access" in who_can_see and escape(REASON) in who_can_see
