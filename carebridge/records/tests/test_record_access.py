"""Who may open Alice's record page, what each of them sees, and that every outcome is audited."""

import re
import uuid

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent

# Alice is registered at `surgery`, referred by `gp` to `specialist` at `hospital`, booked there.
ALLOWED_CLINICAL = ["gp", "nurse", "specialist", "hospital_nurse", "alice_user"]
ALLOWED_ADMINISTRATIVE = ["reception", "manager", "hospital_reception"]
REFUSED = ["other_gp", "other_specialist", "other_reception", "porter", "admin", "privacy", "bob_user"]


def _without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def _record_url(patient) -> str:
    return reverse("records:record", args=[patient.public_id])


@pytest.mark.parametrize("name", ALLOWED_CLINICAL)
def test_clinicians_with_a_relationship_and_the_patient_see_the_clinical_record(world, client_for, name):
    user = getattr(world, name)
    response = client_for(user).get(_record_url(world.alice))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Simvastatin" in page  # prescriptions
    assert "Grade 2/6 systolic murmur." in page  # referral clinical summary
    assert "Murmur heard at routine check" in page  # appointment notes
    event = AuditEvent.objects.get(actor=user, action=AuditAction.VIEW)
    assert event.patient_id == world.alice.pk
    assert event.detail["clinical"] is True


@pytest.mark.parametrize("name", ALLOWED_ADMINISTRATIVE)
def test_administrative_staff_see_demographics_and_appointments_but_no_clinical_content(world, client_for, name):
    user = getattr(world, name)
    response = client_for(user).get(_record_url(world.alice))
    assert response.status_code == 200
    page = response.content.decode()
    assert "943 476 5919" in page  # NHS number, shown 3-3-4
    assert "Specialist Consultation" in page  # the hospital appointment itself
    # Its reason is clinical: shown to non-clinical staff only at the facility the appointment is at,
    # who need it to book and check in.
    assert ("Cardiology referral" in page) == (name == "hospital_reception")
    assert "Urgent" in page and "Heartlands Hospital" in page  # referral's administrative fields
    assert "Simvastatin" not in page
    assert "Grade 2/6 systolic murmur." not in page
    assert "Heart murmur" not in page  # the referral's reason is clinical content
    assert "Murmur heard at routine check" not in page
    event = AuditEvent.objects.get(actor=user, action=AuditAction.VIEW)
    assert event.patient_id == world.alice.pk
    assert event.detail["clinical"] is False


@pytest.mark.parametrize("name", REFUSED)
def test_everyone_else_gets_404_and_the_refusal_is_audited(world, client_for, name):
    user = getattr(world, name)
    response = client_for(user).get(_record_url(world.alice))
    assert response.status_code == 404
    assert b"Alice" not in response.content
    denial = AuditEvent.objects.get(actor=user, action=AuditAction.DENY)
    assert denial.patient_id == world.alice.pk
    assert not AuditEvent.objects.filter(actor=user, action=AuditAction.VIEW).exists()


def test_a_missing_record_looks_exactly_like_a_forbidden_one(world, client_for):
    client = client_for(world.other_gp)
    forbidden = client.get(_record_url(world.alice))
    missing = client.get(reverse("records:record", args=[uuid.uuid4()]))
    assert forbidden.status_code == missing.status_code == 404
    # The pages differ only in the sign-out form's CSRF token, which is masked afresh on every page.
    assert _without_csrf_token(forbidden.content) == _without_csrf_token(missing.content)
    assert AuditEvent.objects.filter(actor=world.other_gp, action=AuditAction.DENY).count() == 2


def test_signed_out_visitors_are_sent_to_sign_in_and_see_nothing(world, client):
    response = client.get(_record_url(world.alice))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_patient_sees_their_own_record_and_who_has_looked_at_it(world, client_for):
    client_for(world.gp).get(_record_url(world.alice))
    response = client_for(world.alice_user).get(reverse("records:my_record"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your record" in page
    assert "Who has looked at your record" in page
    assert "Grace Patel (GP)" in page  # the GP's read, by name and role


def test_the_access_log_is_only_on_the_patients_own_page(world, client_for):
    page = client_for(world.gp).get(_record_url(world.alice)).content.decode()
    assert "Who has looked at your record" not in page


@pytest.mark.parametrize("name", ["gp", "reception", "admin", "privacy"])
def test_my_record_is_only_for_patients(world, client_for, name):
    assert client_for(getattr(world, name)).get(reverse("records:my_record")).status_code == 404
