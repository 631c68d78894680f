"""The prescribing pages: prescribing with the safety checks, a prescription's life, the patient's medicines
and repeat requests, the surgery's queue; and everyone who is refused, each refusal audited."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.clinical import services as clinical
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.prescribing import services
from carebridge.prescribing.models import (
    Course,
    Prescription,
    PrescriptionStatus,
    RepeatRequest,
    RepeatRequestStatus,
    SafetyOverride,
)
from carebridge.prescribing.services import Order
from carebridge.testing.days import date_boxes

TONSILLITIS = "17741008"
AMOXICILLIN = {
    "medicine": "amoxicillin",
    "dose_value": "500",
    "dose_unit": "mg",
    "frequency": "Three times daily",
    "duration_days": "7",
    "course": "acute",
}


def _denied(user, patient) -> bool:
    return AuditEvent.objects.filter(action=AuditAction.DENY, actor=user, patient_id=patient.pk).exists()


@pytest.fixture
def consulted(world):
    """Alice has been seen by the GP for tonsillitis: the condition is on her problem list."""
    return clinical.consultation_record(
        actor=Actor.command_line(world.gp), patient=world.alice, symptoms="Sore throat", condition_code=TONSILLITIS
    )


def _allergic_to_penicillin(world) -> None:
    clinical.allergy_record(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        substance="penicillins",
        reaction="Rash",
        severity="moderate",
    )


def _new_url(patient) -> str:
    return f"/prescribing/patients/{patient.public_id}/new/"


def _order(consulted, **fields) -> dict[str, str]:
    return {
        **AMOXICILLIN,
        "condition": str(consulted.condition.public_id),
        "consultation": str(consulted.public_id),
        **fields,
    }


def _issued(world, consulted, *, medicine="amoxicillin", course=Course.ACUTE, issues=1, overrides=None) -> Prescription:
    return services.prescription_issue(
        actor=Actor.command_line(world.gp),
        patient=world.alice,
        condition=consulted.condition,
        order=Order(
            medicine=medicine, dose_value=Decimal(500), dose_unit="mg", frequency="Three times daily", duration_days=7
        ),
        course=course,
        issues_allowed=issues,
        review_date=clock.today() + dt.timedelta(days=90) if course != Course.ACUTE else None,
        consultation=consulted,
        overrides=overrides,
    )


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")


# --- Prescribing ------------------------------------------------------------------------------------------


def test_the_form_shows_allergies_the_formulary_and_the_condition_from_the_consultation(world, consulted, client_for):
    _allergic_to_penicillin(world)
    page = client_for(world.gp).get(f"{_new_url(world.alice)}?consultation={consulted.public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index('data-testid="allergies"') < text.index('name="medicine"')
    assert "Penicillins" in text
    assert '<datalist id="formulary">' in text and '<option value="amoxicillin">' in text
    assert f'<option value="{consulted.condition.public_id}" selected>Acute tonsillitis</option>' in text


def test_a_gp_prescribes_and_the_quantity_is_worked_out(world, consulted, client_for):
    services.pharmacy_nominate(
        actor=Actor.command_line(world.alice_user), patient=world.alice, pharmacy="Boots, 12 High Street"
    )
    response = client_for(world.gp).post(_new_url(world.alice), _order(consulted, instructions="With water"))
    prescription = Prescription.objects.get(medicine_key="amoxicillin")
    assert response.status_code == 302
    assert response["Location"] == f"/prescribing/{prescription.public_id}/"
    assert prescription.quantity_value == 21 and prescription.quantity_unit == "capsules"
    assert prescription.condition == consulted.condition and prescription.consultation == consulted
    assert prescription.pharmacy_name == "Boots, 12 High Street"
    assert prescription.status == PrescriptionStatus.ISSUED and prescription.course == Course.ACUTE


def test_a_penicillin_allergy_stops_amoxicillin_until_a_reason_is_given(world, consulted, client_for):
    _allergic_to_penicillin(world)
    gp = client_for(world.gp)
    stopped = gp.post(_new_url(world.alice), _order(consulted))
    assert stopped.status_code == 422
    page = stopped.content.decode()
    assert 'data-testid="safety-warnings"' in page
    assert "The patient is allergic to Penicillins (reaction: Rash): Amoxicillin is one of the penicillins." in page
    assert 'name="override-allergy"' in page and "Reason to go ahead anyway" in page
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()

    reason = "Rash was viral, not allergic: discussed with the patient"
    response = gp.post(
        _new_url(world.alice),
        _order(
            consulted,
            **{
                "override-allergy": reason,
                "overrides_for": _hidden(page, "overrides_for"),
                "warning-allergy": _hidden(page, "warning-allergy"),
            },
        ),
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(medicine_key="amoxicillin")
    override = SafetyOverride.objects.get(prescription=prescription)
    assert override.kind == "allergy" and override.reason == reason
    assert override.overridden_by == world.gp.clinician
    shown = gp.get(response["Location"]).content.decode()
    assert reason in shown and "Amoxicillin is one of the penicillins" in shown


def test_a_reason_given_for_one_medicine_is_not_carried_to_another(world, consulted, client_for):
    _allergic_to_penicillin(world)
    gp = client_for(world.gp)
    page = gp.post(_new_url(world.alice), _order(consulted)).content.decode()
    # The prescriber changes the drug to co-amoxiclav (also a penicillin) with the reason still in the box.
    changed = gp.post(
        _new_url(world.alice),
        _order(
            consulted,
            medicine="co-amoxiclav",
            **{"override-allergy": "Rash was viral", "overrides_for": _hidden(page, "overrides_for")},
        ),
    )
    assert changed.status_code == 422
    assert "Co-amoxiclav is one of the penicillins" in changed.content.decode()
    assert not Prescription.objects.filter(medicine_key="co-amoxiclav").exists()


def test_changing_the_drug_instead_issues_it_without_an_override(world, consulted, client_for):
    _allergic_to_penicillin(world)
    gp = client_for(world.gp)
    page = gp.post(_new_url(world.alice), _order(consulted)).content.decode()
    response = gp.post(
        _new_url(world.alice),
        _order(
            consulted,
            medicine="doxycycline",
            dose_value="100",
            frequency="Once daily",
            overrides_for=_hidden(page, "overrides_for"),
        ),
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(medicine_key="doxycycline")
    assert not prescription.overrides.exists()


def test_a_free_text_medicine_warns_that_no_checks_ran(world, consulted, client_for):
    gp = client_for(world.gp)
    fields = _order(
        consulted,
        medicine="Manuka honey lozenges",
        dose_value="1",
        dose_unit="lozenge",
        quantity_value="20",
        quantity_unit="lozenges",
    )
    stopped = gp.post(_new_url(world.alice), fields)
    assert stopped.status_code == 422
    page = stopped.content.decode()
    assert "Manuka honey lozenges is not in the formulary, so no safety checks could run on it" in page
    assert 'name="override-unchecked"' in page
    response = gp.post(
        _new_url(world.alice),
        {
            **fields,
            "override-unchecked": "Patient's own request; no interactions",
            "overrides_for": _hidden(page, "overrides_for"),
        },
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(medication_name="Manuka honey lozenges")
    assert prescription.medicine_key == "" and prescription.overrides.get().kind == "unchecked"


def test_a_repeat_is_prescribed_with_its_issues_and_review_date_from_the_date_boxes(world, consulted, client_for):
    review = clock.today() + dt.timedelta(days=90)
    response = client_for(world.gp).post(
        _new_url(world.alice),
        _order(
            consulted,
            course="continuous",
            issues_allowed="3",
            review_date_day=str(review.day),
            review_date_month=str(review.month),
            review_date_year=str(review.year),
        ),
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(medicine_key="amoxicillin")
    assert prescription.course == Course.REPEAT and prescription.issues_allowed == 3
    assert prescription.review_date == review and prescription.issue_number == 1


def test_a_repeat_needs_a_review_date_after_today(world, consulted, client_for):
    response = client_for(world.gp).post(
        _new_url(world.alice), _order(consulted, course="continuous", issues_allowed="3")
    )
    assert response.status_code == 422
    assert "Give a review date after today." in response.content.decode()
    not_a_date = client_for(world.gp).post(
        _new_url(world.alice),
        _order(
            consulted,
            course="continuous",
            issues_allowed="3",
            review_date_day="31",
            review_date_month="2",
            review_date_year="2027",
        ),
    )
    assert not_a_date.status_code == 422
    assert "Review date must be a real date" in not_a_date.content.decode()
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()


def test_nonsense_is_sent_back_with_the_field_named(world, consulted, client_for):
    response = client_for(world.gp).post(_new_url(world.alice), _order(consulted, duration_days="0"))
    assert response.status_code == 422
    assert "A course lasts from 1 to 365 days" in response.content.decode()
    no_condition = client_for(world.gp).post(_new_url(world.alice), _order(consulted, condition=""))
    assert no_condition.status_code == 422
    assert "Say which condition this prescription treats." in no_condition.content.decode()
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()


@pytest.mark.parametrize("who, status", [("reception", 403), ("bob_user", 404), ("nurse", 403), ("other_gp", 404)])
def test_prescribing_is_refused_and_audited(world, consulted, client_for, who, status):
    user = getattr(world, who)
    client = client_for(user)
    assert client.get(_new_url(world.alice)).status_code == status
    assert client.post(_new_url(world.alice), _order(consulted)).status_code == status
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()
    assert _denied(user, world.alice)


def test_a_nurse_registered_as_a_prescriber_may_prescribe(world, consulted, client_for):
    world.nurse.clinician.is_prescriber = True
    world.nurse.clinician.save()
    assert client_for(world.nurse).post(_new_url(world.alice), _order(consulted)).status_code == 302


# --- One prescription ---------------------------------------------------------------------------------------


def test_the_prescription_page_shows_it_and_offers_what_the_surgery_may_do(world, consulted, client_for):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    page = client_for(world.gp).get(f"/prescribing/{prescription.public_id}/").content.decode()
    for shown in (
        "Amoxicillin 500mg",
        "three times daily",
        "21 capsules",
        "Acute tonsillitis",
        "issue 1 of 3",
        "Ready for your pharmacy",
        "Print (PDF)",
        "Issue next repeat",
        "Cancel prescription",
        "Record",
    ):
        assert shown in page, shown


@pytest.mark.parametrize("who", ["reception", "bob_user", "other_gp"])
def test_the_prescription_page_is_refused_and_audited(world, client_for, who):
    user = getattr(world, who)
    response = client_for(user).get(f"/prescribing/{world.alice_prescription.public_id}/")
    assert response.status_code == 404
    assert "Simvastatin" not in response.content.decode()
    assert _denied(user, world.alice)


def test_cancelling_needs_a_reason_and_is_only_while_issued(world, consulted, client_for):
    prescription = _issued(world, consulted)
    gp = client_for(world.gp)
    blank = gp.post(f"/prescribing/{prescription.public_id}/cancel/", {"reason": ""})
    assert blank.status_code == 422
    assert "Say why the prescription is cancelled." in blank.content.decode()
    response = gp.post(f"/prescribing/{prescription.public_id}/cancel/", {"reason": "Wrong patient record"})
    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.CANCELLED
    assert prescription.cancellation_reason == "Wrong patient record"
    page = gp.get(f"/prescribing/{prescription.public_id}/").content.decode()
    assert "Cancelled: Wrong patient record" in page and "Cancel prescription" not in page
    again = gp.post(f"/prescribing/{prescription.public_id}/cancel/", {"reason": "Twice"})
    assert again.status_code == 422


def test_supply_is_recorded_with_its_date(world, consulted, client_for):
    prescription = _issued(world, consulted)
    clock.freeze(clock.now() + dt.timedelta(days=3))
    collected_on = clock.today() - dt.timedelta(days=1)
    response = client_for(world.gp).post(
        f"/prescribing/{prescription.public_id}/supply/",
        {"status": "collected"} | date_boxes("on", collected_on),
    )
    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.COLLECTED and prescription.collection_date == collected_on


@pytest.mark.parametrize("who, status", [("specialist", 403), ("reception", 404), ("other_gp", 404)])
def test_cancelling_and_recording_supply_are_refused_and_audited(world, consulted, client_for, who, status):
    # The specialist may see Alice (she is referred to him) but only her surgery records what became of it.
    prescription = _issued(world, consulted)
    user = getattr(world, who)
    client = client_for(user)
    assert client.post(f"/prescribing/{prescription.public_id}/cancel/", {"reason": "No"}).status_code == status
    assert client.post(f"/prescribing/{prescription.public_id}/supply/", {"status": "collected"}).status_code == status
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.ISSUED
    assert _denied(user, world.alice)


def test_the_next_repeat_is_issued_from_the_prescription_page(world, consulted, client_for):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    response = client_for(world.gp).post(f"/prescribing/{prescription.public_id}/reissue/")
    following = Prescription.objects.get(previous=prescription)
    assert response.status_code == 302 and response["Location"] == f"/prescribing/{following.public_id}/"
    assert following.issue_number == 2


def test_the_next_repeat_is_stopped_by_a_warning_until_a_reason_is_given(world, consulted, client_for):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    _allergic_to_penicillin(world)
    gp = client_for(world.gp)
    stopped = gp.post(f"/prescribing/{prescription.public_id}/reissue/")
    assert stopped.status_code == 422
    assert 'name="override-allergy"' in stopped.content.decode()
    assert not Prescription.objects.filter(previous=prescription).exists()
    done = gp.post(f"/prescribing/{prescription.public_id}/reissue/", {"override-allergy": "Tolerated issue 1 well"})
    assert done.status_code == 302
    assert Prescription.objects.get(previous=prescription).overrides.get().reason == "Tolerated issue 1 well"


# --- The patient's medicines --------------------------------------------------------------------------------


def test_the_patient_sees_each_status_in_plain_english(world, consulted, client_for):
    cancelled = _issued(world, consulted, medicine="paracetamol")
    services.prescription_cancel(
        actor=Actor.command_line(world.gp), prescription=cancelled, reason="Prescribed in error"
    )
    services.prescription_record_supply(
        actor=Actor.command_line(world.gp), prescription=world.alice_prescription, status="collected", on=clock.today()
    )
    ready = _issued(world, consulted, course=Course.REPEAT, issues=3)
    page = client_for(world.alice_user).get("/prescribing/mine/")
    assert page.status_code == 200
    text = page.content.decode()
    today = clock.today()
    assert f"Collected on {today.day} {today:%B}" in text
    assert "Cancelled: Prescribed in error" in text
    assert "Ready for your pharmacy" in text
    assert f"/prescribing/mine/{ready.public_id}/repeat/" in text
    assert f"/prescribing/mine/{world.alice_prescription.public_id}/repeat/" not in text  # acute: no repeats


def test_the_patient_requests_a_repeat_and_sees_it_waiting(world, consulted, client_for):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    alice = client_for(world.alice_user)
    response = alice.post(f"/prescribing/mine/{prescription.public_id}/repeat/", {"note": "Running out on Friday"})
    assert response.status_code == 302 and response["Location"] == "/prescribing/mine/"
    request = RepeatRequest.objects.get(prescription=prescription)
    assert request.status == RepeatRequestStatus.PENDING and request.note == "Running out on Friday"
    assert request.surgery == world.surgery
    page = alice.get("/prescribing/mine/").content.decode()
    assert "Waiting for the surgery" in page
    assert f"/prescribing/mine/{prescription.public_id}/repeat/" not in page
    twice = alice.post(f"/prescribing/mine/{prescription.public_id}/repeat/")
    assert twice.status_code == 422
    assert "already asked for this repeat" in twice.content.decode()
    assert RepeatRequest.objects.count() == 1


def test_an_acute_prescription_cannot_be_requested_as_a_repeat(world, client_for):
    response = client_for(world.alice_user).post(f"/prescribing/mine/{world.alice_prescription.public_id}/repeat/")
    assert response.status_code == 422
    assert not RepeatRequest.objects.exists()


@pytest.mark.parametrize("who, status", [("bob_user", 404), ("reception", 404), ("gp", 403)])
def test_requesting_a_repeat_is_refused_and_audited(world, consulted, client_for, who, status):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    user = getattr(world, who)
    assert client_for(user).post(f"/prescribing/mine/{prescription.public_id}/repeat/").status_code == status
    assert not RepeatRequest.objects.exists()
    assert _denied(user, world.alice)


@pytest.mark.parametrize("who", ["gp", "reception", "admin"])
def test_your_medicines_is_for_patients_only(world, client_for, who):
    user = getattr(world, who)
    assert client_for(user).get("/prescribing/mine/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENY, actor=user).exists()


def test_the_patient_nominates_a_pharmacy(world, client_for):
    alice = client_for(world.alice_user)
    response = alice.post("/prescribing/mine/pharmacy/", {"pharmacy": "Lloyds, 3 Station Road"})
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.nominated_pharmacy == "Lloyds, 3 Station Road"
    assert "Your prescriptions go to Lloyds, 3 Station Road." in alice.get("/prescribing/mine/").content.decode()


def test_the_patients_record_and_home_link_to_their_medicines(world, client_for):
    alice = client_for(world.alice_user)
    assert "/prescribing/mine/" in alice.get("/patients/me/").content.decode()
    assert "/prescribing/mine/" in alice.get("/", follow=True).content.decode()


# --- The surgery's queue ------------------------------------------------------------------------------------


@pytest.fixture
def requested(world, consulted):
    prescription = _issued(world, consulted, course=Course.REPEAT, issues=3)
    return services.repeat_request_create(
        actor=Actor.command_line(world.alice_user), prescription=prescription, note="Running low"
    )


def test_the_gp_sees_the_queue_and_approves_a_request(world, requested, client_for):
    gp = client_for(world.gp)
    assert "/prescribing/repeat-requests/" in gp.get("/").content.decode()
    page = gp.get("/prescribing/repeat-requests/").content.decode()
    assert "ARCHER" in page and "Amoxicillin 500mg" in page and "Running low" in page
    response = gp.post(f"/prescribing/repeat-requests/{requested.public_id}/approve/")
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == RepeatRequestStatus.APPROVED
    assert requested.issued.issue_number == 2 and requested.issued.previous == requested.prescription
    assert "No repeat requests are waiting." in gp.get("/prescribing/repeat-requests/").content.decode()
    assert f"Approved on {clock.today().day}" in client_for(world.alice_user).get("/prescribing/mine/").content.decode()


def test_approving_is_stopped_by_a_warning_until_a_reason_is_given(world, requested, client_for):
    _allergic_to_penicillin(world)
    gp = client_for(world.gp)
    stopped = gp.post(f"/prescribing/repeat-requests/{requested.public_id}/approve/")
    assert stopped.status_code == 422
    page = stopped.content.decode()
    assert "Amoxicillin is one of the penicillins" in page and 'name="override-allergy"' in page
    requested.refresh_from_db()
    assert requested.status == RepeatRequestStatus.PENDING
    done = gp.post(
        f"/prescribing/repeat-requests/{requested.public_id}/approve/",
        {"override-allergy": "Has taken it for months without reaction"},
    )
    assert done.status_code == 302
    requested.refresh_from_db()
    assert requested.issued.overrides.get().reason == "Has taken it for months without reaction"


def test_refusing_needs_a_reason_the_patient_then_reads(world, requested, client_for):
    gp = client_for(world.gp)
    blank = gp.post(f"/prescribing/repeat-requests/{requested.public_id}/refuse/", {"reason": ""})
    assert blank.status_code == 422
    assert "Say why, in words the patient will read." in blank.content.decode()
    response = gp.post(
        f"/prescribing/repeat-requests/{requested.public_id}/refuse/", {"reason": "Please book a review first"}
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == RepeatRequestStatus.REFUSED
    page = client_for(world.alice_user).get("/prescribing/mine/").content.decode()
    assert "Refused: Please book a review first" in page


@pytest.mark.parametrize("who", ["reception", "nurse", "specialist", "alice_user"])
def test_the_queue_page_is_not_there_for_others(world, client_for, who):
    user = getattr(world, who)
    assert client_for(user).get("/prescribing/repeat-requests/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENY, actor=user).exists()


def test_another_surgerys_gp_does_not_see_the_request(world, requested, client_for):
    page = client_for(world.other_gp).get("/prescribing/repeat-requests/").content.decode()
    assert "ARCHER" not in page and "No repeat requests are waiting." in page


@pytest.mark.parametrize(
    "who, status", [("reception", 404), ("bob_user", 404), ("nurse", 403), ("other_gp", 404), ("specialist", 403)]
)
def test_approving_and_refusing_are_refused_and_audited(world, requested, client_for, who, status):
    user = getattr(world, who)
    client = client_for(user)
    assert client.post(f"/prescribing/repeat-requests/{requested.public_id}/approve/").status_code == status
    assert (
        client.post(f"/prescribing/repeat-requests/{requested.public_id}/refuse/", {"reason": "No"}).status_code
        == status
    )
    requested.refresh_from_db()
    assert requested.status == RepeatRequestStatus.PENDING
    assert _denied(user, world.alice)
