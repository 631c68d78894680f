"""Registering someone who may already be in Carebridge: the match is shown, and going on needs a confirmation.

World: alice and carol are registered at `surgery` (reception's), bob at `other_surgery`; all three
were born on 17 May 1980.
"""

import datetime as dt

import pytest
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid
from carebridge.patients.models import Patient
from carebridge.patients.selectors import name_key
from carebridge.patients.services import PossibleDuplicate, patient_register

URL = reverse("patients:register")
BORN = dt.date(1980, 5, 17)


def _register(world, *, first="Alice", last="Archer", born=BORN, number="", confirm=False) -> Patient:
    return patient_register(
        actor=Actor(user=world.reception, channel="web"),
        first_name=first,
        last_name=last,
        date_of_birth=born,
        nhs_number_text=number,
        gender="female",
        confirm_possible_duplicate=confirm,
    )


def test_names_compare_without_case_accents_or_spaces():
    assert name_key("  Zoë ") == name_key("ZOE") == "zoe"
    assert name_key("Mc Donald") == name_key("mcdonald")
    assert name_key("Zoe") != name_key("Zara")


@pytest.mark.parametrize(
    "first, last", [("Alice", "Archer"), ("  alice ", "ARCHER"), ("Alíce", "Arch er"), ("ALICE", "árcher")]
)
def test_same_name_and_birth_date_is_refused_as_a_possible_duplicate(world, first, last):
    with pytest.raises(PossibleDuplicate) as refused:
        _register(world, first=first, last=last)
    assert refused.value.code == "possible-duplicate" and refused.value.status == 409
    assert refused.value.shown == [world.alice]
    assert refused.value.elsewhere == 0
    assert Patient.objects.filter(last_name__iexact="archer").count() == 1


def test_a_match_without_an_nhs_number_is_still_a_match(world):
    Patient.objects.filter(pk=world.carol.pk).update(nhs_number=None, nhs_number_verified=False)
    with pytest.raises(PossibleDuplicate) as refused:
        _register(world, first="Carol", last="Clarke", number="401 023 2137")
    assert refused.value.shown == [world.carol]


def test_a_different_birth_date_is_no_match(world):
    patient = _register(world, born=BORN + dt.timedelta(days=1))
    assert patient.registered_surgery == world.surgery
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient", patient_id=patient.pk)
    assert "possible_duplicate_confirmed" not in event.detail


def test_a_match_at_another_surgery_is_said_to_exist_without_its_details(world):
    with pytest.raises(PossibleDuplicate) as refused:
        _register(world, first="Bob", last="Baker")
    assert refused.value.shown == []
    assert refused.value.elsewhere == 1
    assert "Baker" not in refused.value.message and "another surgery" in refused.value.message


def test_showing_a_possible_duplicate_is_audited_against_the_patient_matched(world):
    with pytest.raises(PossibleDuplicate):
        _register(world, first="Bob", last="Baker")
    event = AuditEvent.objects.get(object_type="patient_registration", patient_id=world.bob.pk)
    assert event.actor == world.reception and event.action == AuditAction.SEARCH
    assert event.detail == {"possible_duplicate": "said to exist at another surgery"}


def test_confirming_registers_and_the_audit_row_names_the_patients_matched(world):
    patient = _register(world, confirm=True)
    assert patient.pk != world.alice.pk and patient.registered_surgery == world.surgery
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient", patient_id=patient.pk)
    assert event.actor == world.reception
    assert event.detail["possible_duplicate_confirmed"] == [str(world.alice.public_id)]


def test_a_number_already_registered_is_refused_even_when_confirmed(world):
    with pytest.raises(Invalid) as refused:
        _register(world, first="Someone", last="Else", number=world.bob.nhs_number, confirm=True)
    assert "nhs_number" in refused.value.fields
    assert not Patient.objects.filter(last_name="Else").exists()


# --- The page ------------------------------------------------------------------------------------------


def _form(**overrides) -> dict[str, str]:
    data = {
        "nhs_number": "",
        "first_name": "alice",
        "last_name": "Archer ",
        "date_of_birth": "1980-05-17",
        "gender": "female",
    }
    return {**data, **overrides}


def test_the_page_shows_the_match_and_offers_the_confirmation(world, client_for):
    response = client_for(world.reception).post(URL, _form())
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="possible-duplicate"' in page
    assert "Alice Archer" in page and "17 May 1980" in page and world.alice.nhs_number_display in page
    assert reverse("records:record", args=[world.alice.public_id]) in page
    assert "This is a different person: register anyway" in page
    assert Patient.objects.filter(last_name="Archer").count() == 1


def test_the_page_does_not_show_a_match_at_another_surgery(world, client_for):
    response = client_for(world.reception).post(URL, _form(first_name="Bob", last_name="Baker"))
    page = response.content.decode()
    assert 'data-testid="possible-duplicate-elsewhere"' in page
    assert world.bob.nhs_number_display not in page and "Elm Street Practice" not in page
    assert 'data-testid="possible-duplicate-matches"' not in page


def test_ticking_the_box_registers_the_patient(world, client_for):
    response = client_for(world.reception).post(URL, _form(confirm_possible_duplicate="on"))
    assert response.status_code == 302
    patient = Patient.objects.exclude(pk=world.alice.pk).get(last_name="Archer")
    assert response["Location"] == reverse("records:record", args=[patient.public_id])
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient", patient_id=patient.pk)
    assert event.detail["possible_duplicate_confirmed"] == [str(world.alice.public_id)]
