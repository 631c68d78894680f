"""Registering a patient at reception: the NHS number rules, who may register, and the audit row."""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.patients.models import Patient

URL = reverse("patients:register")


def _form(**overrides) -> dict[str, str]:
    data = {
        "nhs_number": "401 023 2137",
        "first_name": "Dev",
        "last_name": "Mistry",
        "date_of_birth": "1990-02-03",
        "gender": "male",
        "phone_number": "07700900123",
        "email": "dev@example.org",
        "address": "2 Canal Walk, Birmingham",
        "postcode": "b1 2aa",
        "emergency_contact_name": "Asha Mistry",
        "emergency_contact_phone": "07700900456",
    }
    return {**data, **overrides}


def test_reception_registers_a_patient_at_their_own_surgery(world, client_for):
    response = client_for(world.reception).post(URL, _form())
    patient = Patient.objects.get(nhs_number="4010232137")
    assert response.status_code == 302
    assert response["Location"] == reverse("records:record", args=[patient.public_id])
    assert patient.registered_surgery == world.surgery
    assert patient.nhs_number_verified is True
    assert patient.postcode == "B1 2AA"
    assert patient.date_of_birth == dt.date(1990, 2, 3)
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
    assert event.actor == world.reception and event.patient_id == patient.pk


def test_an_invalid_nhs_number_is_refused_with_a_clear_message_and_nothing_is_stored(world, client_for):
    before = Patient.objects.count()
    response = client_for(world.reception).post(URL, _form(nhs_number="401 023 2138"))
    assert response.status_code == 200
    assert "This is not a valid NHS number" in response.content.decode()
    assert Patient.objects.count() == before


@pytest.mark.parametrize(
    "typed, message",
    [
        ("40102321", "An NHS number has 10 digits; this one has 8."),
        ("40102321AB", "An NHS number must contain only digits."),
    ],
)
def test_malformed_nhs_numbers_say_what_is_wrong(world, client_for, typed, message):
    response = client_for(world.reception).post(URL, _form(nhs_number=typed))
    assert message in response.content.decode()


def test_a_patient_may_be_registered_without_a_number_while_it_is_traced(world, client_for):
    client_for(world.reception).post(URL, _form(nhs_number=""))
    patient = Patient.objects.get(last_name="Mistry")
    assert patient.nhs_number is None and patient.nhs_number_verified is False


def test_a_number_already_registered_is_refused(world, client_for):
    response = client_for(world.reception).post(URL, _form(nhs_number=world.bob.nhs_number))
    assert "already registered in Carebridge" in response.content.decode()
    assert Patient.objects.filter(nhs_number=world.bob.nhs_number).count() == 1


def test_a_birth_date_in_the_future_is_refused(world, client_for):
    response = client_for(world.reception).post(URL, _form(date_of_birth="2999-01-01"))
    assert "Date of birth must be today or in the past." in response.content.decode()
    assert not Patient.objects.filter(last_name="Mistry").exists()


@pytest.mark.parametrize("name", ["gp", "specialist", "hospital_reception", "porter", "admin", "privacy", "alice_user"])
def test_only_staff_at_a_gp_surgery_may_register(world, client_for, name):
    user = getattr(world, name)
    response = client_for(user).post(URL, _form())
    assert response.status_code == 404
    assert not Patient.objects.filter(last_name="Mistry").exists()
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="patient_registration").exists()
