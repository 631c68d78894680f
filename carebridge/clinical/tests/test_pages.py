"""The consultation, allergy and problem-list pages: what clinicians record, and who is refused."""

import datetime as dt

import pytest

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.clinical import services
from carebridge.clinical.models import Allergy, Condition, ConditionStatus, Consultation
from carebridge.core.actor import Actor
from carebridge.scheduling import services as scheduling
from carebridge.testing.schedule import slot_at

TONSILLITIS = "17741008"


def _consultation_url(patient, appointment=None) -> str:
    url = f"/clinical/patients/{patient.public_id}/consultations/new/"
    return f"{url}?appointment={appointment.public_id}" if appointment else url


def _denied(user, patient) -> bool:
    """A refusal row naming the patient: whether it was refused as a record the person may not see, or as
    clinical content, or as an action they may not take."""
    return AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, patient_id=patient.pk).exists()


def _consultation(world, **fields) -> Consultation:
    return services.consultation_record(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        **{
            "symptoms": "Sore throat for four days",
            "findings": "Exudate on both tonsils",
            "condition_code": TONSILLITIS,
            **fields,
        },
    )


@pytest.fixture
def booked(schedule):
    """The GP's 09:00 appointment with Alice today, booked by reception."""
    return scheduling.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=schedule.alice,
        slot=slot_at(schedule, 0, dt.time(9, 0)),
        appointment_type="Routine Consultation",
        reason="Sore throat",
    )


def test_my_day_offers_to_record_a_consultation_for_each_appointment(booked, client_for):
    page = client_for(booked.clinician.user).get("/appointments/my-day/")
    assert page.status_code == 200
    assert _consultation_url(booked.patient, booked) in page.content.decode()


def test_a_gp_records_a_consultation_from_an_appointment(booked, schedule, client_for):
    gp = client_for(schedule.gp)
    form = gp.get(_consultation_url(schedule.alice, booked))
    assert form.status_code == 200
    assert "No known allergies recorded" in form.content.decode()
    response = gp.post(
        _consultation_url(schedule.alice, booked),
        {
            "appointment": str(booked.public_id),
            "symptoms": "Sore throat for four days, worse on swallowing",
            "findings": "Temperature 38.2; exudate on both tonsils",
            "assessment": "Bacterial tonsillitis likely",
            "condition_code": TONSILLITIS,
            "plan": "Antibiotics; review if not better in a week",
        },
    )
    consultation = Consultation.objects.get(patient=schedule.alice)
    assert response.status_code == 302
    assert response["Location"] == f"/clinical/consultations/{consultation.public_id}/"
    assert consultation.appointment == booked
    assert consultation.clinician == schedule.gp.clinician
    assert consultation.condition.code == TONSILLITIS and consultation.condition.status == ConditionStatus.ACTIVE
    page = gp.get(response["Location"]).content.decode()
    assert "worse on swallowing" in page and "exudate on both tonsils" in page
    assert "Acute tonsillitis" in page
    assert f"/prescribing/patients/{schedule.alice.public_id}/new/?consultation={consultation.public_id}" in page


def test_a_condition_written_as_free_text_is_flagged_uncoded_on_the_record(world, client_for):
    gp = client_for(world.gp)
    response = gp.post(
        _consultation_url(world.alice),
        {"symptoms": "Itchy patches on elbows", "condition_text": "Possible lichen planus"},
    )
    assert response.status_code == 302
    condition = Condition.objects.get(patient=world.alice)
    assert condition.code == "" and condition.display == "Possible lichen planus"
    record = gp.get(f"/patients/{world.alice.public_id}/").content.decode()
    assert "Possible lichen planus" in record and "Uncoded" in record


def test_a_consultation_needs_the_patients_account(world, client_for):
    response = client_for(world.gp).post(_consultation_url(world.alice), {"symptoms": " ", "findings": "Normal"})
    assert response.status_code == 422
    assert "Write what the patient describes." in response.content.decode()
    assert not Consultation.objects.exists()


def test_an_unknown_condition_code_is_sent_back(world, client_for):
    response = client_for(world.gp).post(_consultation_url(world.alice), {"symptoms": "Cough", "condition_code": "123"})
    assert response.status_code == 422
    assert not Consultation.objects.exists()


def test_a_non_prescribing_nurse_may_record_a_consultation(world, client_for):
    response = client_for(world.nurse).post(_consultation_url(world.alice), {"symptoms": "Dressing change"})
    assert response.status_code == 302
    assert Consultation.objects.get().clinician == world.nurse.clinician


@pytest.mark.parametrize("who, status", [("reception", 403), ("bob_user", 404), ("other_gp", 404)])
def test_the_consultation_form_is_refused_and_audited(world, client_for, who, status):
    user = getattr(world, who)
    client = client_for(user)
    assert client.get(_consultation_url(world.alice)).status_code == status
    assert client.post(_consultation_url(world.alice), {"symptoms": "Cough"}).status_code == status
    assert not Consultation.objects.exists()
    assert _denied(user, world.alice)


@pytest.mark.parametrize("who", ["reception", "bob_user", "other_gp"])
def test_a_consultation_is_not_shown_to_those_who_may_not_see_it(world, client_for, who):
    consultation = _consultation(world)
    user = getattr(world, who)
    response = client_for(user).get(f"/clinical/consultations/{consultation.public_id}/")
    assert response.status_code == 404
    assert "Sore throat" not in response.content.decode()
    assert _denied(user, world.alice)


def test_a_gp_records_an_allergy_and_it_shows_at_the_top_of_the_record(world, client_for):
    gp = client_for(world.gp)
    record_url = f"/patients/{world.alice.public_id}/"
    assert "No known allergies recorded" in gp.get(record_url).content.decode()
    response = gp.post(
        f"/clinical/patients/{world.alice.public_id}/allergies/new/",
        {"substance": "penicillins", "reaction": "Widespread rash", "severity": "severe"},
    )
    assert response.status_code == 302 and response["Location"] == record_url
    allergy = Allergy.objects.get(patient=world.alice)
    assert allergy.substance == "penicillins" and allergy.coded and allergy.severity == "severe"
    page = gp.get(record_url).content.decode()
    callout = page[page.index('data-testid="allergies"') :]
    assert callout.index("Penicillins") < callout.index("</div>")
    assert "Widespread rash" in callout
    assert page.index('data-testid="allergies"') < page.index("<h2>Details</h2>")


def test_an_allergy_needs_a_substance(world, client_for):
    response = client_for(world.gp).post(
        f"/clinical/patients/{world.alice.public_id}/allergies/new/", {"severity": "mild"}
    )
    assert response.status_code == 422
    assert "Say what the patient is allergic to." in response.content.decode()


@pytest.mark.parametrize("who, status", [("reception", 403), ("bob_user", 404), ("other_gp", 404)])
def test_the_allergy_form_is_refused_and_audited(world, client_for, who, status):
    user = getattr(world, who)
    response = client_for(user).post(
        f"/clinical/patients/{world.alice.public_id}/allergies/new/", {"substance": "penicillins", "severity": "mild"}
    )
    assert response.status_code == status
    assert not Allergy.objects.exists()
    assert _denied(user, world.alice)


def test_a_gp_resolves_a_problem(world, client_for):
    condition = _consultation(world).condition
    response = client_for(world.gp).post(f"/clinical/problems/{condition.public_id}/resolve/")
    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.RESOLVED
    record = client_for(world.gp).get(f"/patients/{world.alice.public_id}/").content.decode()
    assert 'data-testid="resolved-problems"' in record


@pytest.mark.parametrize("who", ["reception", "bob_user", "other_gp"])
def test_resolving_a_problem_is_refused_and_audited(world, client_for, who):
    condition = _consultation(world).condition
    user = getattr(world, who)
    assert client_for(user).post(f"/clinical/problems/{condition.public_id}/resolve/").status_code == 404
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.ACTIVE
    assert _denied(user, world.alice)


def test_a_receptionist_sees_none_of_the_clinical_record(world, client_for):
    _consultation(world, assessment="Streptococcal sore throat likely")
    services.allergy_record(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        substance="penicillins",
        reaction="Anaphylaxis",
        severity="severe",
    )
    page = client_for(world.reception).get(f"/patients/{world.alice.public_id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Alice" in text  # the record itself is shown
    for clinical in (
        "Sore throat",
        "Streptococcal",
        "Acute tonsillitis",
        "Penicillins",
        "Anaphylaxis",
        "No known allergies",
        "Simvastatin",
        'data-testid="allergies"',
        'data-testid="consultations"',
        'data-testid="active-problems"',
        'data-testid="prescriptions"',
        "Record a consultation",
        "/prescribing/",
    ):
        assert clinical not in text, clinical


def test_the_clinician_sees_problems_consultations_and_medicines_on_the_record(world, client_for):
    consultation = _consultation(world)
    page = client_for(world.gp).get(f"/patients/{world.alice.public_id}/").content.decode()
    assert 'data-testid="active-problems"' in page and "Acute tonsillitis" in page
    assert f"/clinical/consultations/{consultation.public_id}/" in page
    assert 'data-testid="current-medicines"' in page and "Simvastatin" in page
    assert f"/prescribing/{world.alice_prescription.public_id}/" in page
    assert "Record a consultation" in page and "Record an allergy" in page


def test_after_recording_an_allergy_the_prescriber_goes_back_to_the_prescribing_form(world, client_for):
    url = f"/clinical/patients/{world.alice.public_id}/allergies/new/"
    back_to = f"/prescribing/patients/{world.alice.public_id}/new/"
    fields = {"substance": "nsaids", "severity": "mild"}
    assert client_for(world.gp).post(f"{url}?next={back_to}", fields)["Location"] == back_to
    # Never to an address elsewhere.
    elsewhere = client_for(world.gp).post(f"{url}?next=https://evil.example/prescribing/", fields)
    assert elsewhere["Location"] == f"/patients/{world.alice.public_id}/"
