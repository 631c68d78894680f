"""Finding a patient: by NHS number or name and date of birth, only among patients one cares for."""

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent

URL = reverse("records:search")


def test_reception_finds_their_patient_by_nhs_number_typed_with_spaces(world, client_for):
    response = client_for(world.reception).get(URL, {"nhs_number": "943 476 5919"})
    page = response.content.decode()
    assert reverse("records:record", args=[world.alice.public_id]) in page
    event = AuditEvent.objects.get(actor=world.reception, action=AuditAction.SEARCH)
    assert event.patient_id == world.alice.pk and event.detail["criteria"] == {"nhs_number": "9434765919"}


def test_search_by_last_name_and_date_of_birth_ignores_case(world, client_for):
    response = client_for(world.gp).get(URL, {"last_name": "archer", "date_of_birth": "1980-05-17"})
    assert reverse("records:record", args=[world.alice.public_id]) in response.content.decode()


def test_a_patient_outside_the_relationship_is_not_found(world, client_for):
    response = client_for(world.reception).get(URL, {"nhs_number": world.bob.nhs_number})
    page = response.content.decode()
    assert "No patient found" in page
    assert "Baker" not in page
    # A search that found nobody is still on the trail, against no patient.
    event = AuditEvent.objects.get(actor=world.reception, action=AuditAction.SEARCH)
    assert event.patient_id is None and event.detail["results"] == 0


def test_search_needs_a_number_or_a_name_and_birth_date(world, client_for):
    response = client_for(world.reception).get(URL, {"last_name": "Archer"})
    assert "Enter an NHS number, or a last name and date of birth." in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.SEARCH).exists()


def test_a_short_nhs_number_is_refused_in_search(world, client_for):
    response = client_for(world.reception).get(URL, {"nhs_number": "12345"})
    assert "An NHS number has 10 digits." in response.content.decode()


def test_a_clinician_finding_nobody_is_offered_emergency_access_and_staff_are_not(world, client_for):
    clinician_page = client_for(world.other_gp).get(URL, {"nhs_number": world.alice.nhs_number}).content.decode()
    staff_page = client_for(world.other_reception).get(URL, {"nhs_number": world.alice.nhs_number}).content.decode()
    assert reverse("records:break_glass") in clinician_page
    assert reverse("records:break_glass") not in staff_page


@pytest.mark.parametrize("name", ["alice_user", "porter", "admin", "privacy"])
def test_roles_without_patient_work_cannot_search(world, client_for, name):
    user = getattr(world, name)
    assert client_for(user).get(URL, {"nhs_number": world.alice.nhs_number}).status_code == 404
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="patient_search").exists()
