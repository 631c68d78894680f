"""Prescribing: each safety check fires on its case and stays quiet on a near miss; overrides need a
reason and keep it; quantities add up; who may prescribe; a prescription's life and its repeats."""

import datetime as dt
from decimal import Decimal

import pytest

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.clinical.services import allergy_record, condition_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, NotFound, NotPermitted
from carebridge.prescribing import dosing
from carebridge.prescribing.formulary import MEDICINES_BY_KEY
from carebridge.prescribing.models import Course, Prescription, PrescriptionStatus, RepeatRequestStatus
from carebridge.prescribing.safety import WarningKind
from carebridge.prescribing.services import (
    Order,
    SafetyWarnings,
    pharmacy_nominate,
    prescription_cancel,
    prescription_issue,
    prescription_record_supply,
    repeat_request_approve,
    repeat_request_create,
    repeat_request_refuse,
)

HYPERTENSION = "59621000"
TONSILLITIS = "17741008"


@pytest.fixture
def gp(world):
    return Actor.command_line(world.gp)


@pytest.fixture
def tonsillitis(world, gp):
    return condition_record(actor=gp, patient=world.alice, code=TONSILLITIS)


def order(
    medicine="amoxicillin", dose="500", unit="mg", frequency="Three times daily", days=7, quantity=None, **extra
) -> Order:
    return Order(
        medicine=medicine,
        dose_value=Decimal(dose),
        dose_unit=unit,
        frequency=frequency,
        duration_days=days,
        quantity_value=Decimal(quantity) if quantity is not None else None,
        **extra,
    )


def issue(world, actor, condition, the_order, **extra) -> Prescription:
    return prescription_issue(actor=actor, patient=world.alice, condition=condition, order=the_order, **extra)


def warnings_of(world, actor, condition, the_order) -> set[WarningKind]:
    with pytest.raises(SafetyWarnings) as raised:
        issue(world, actor, condition, the_order)
    return {warning.kind for warning in raised.value.warnings}


def issued_without_warnings(world, actor, condition, the_order) -> Prescription:
    # The world's Alice takes simvastatin 20 mg (the world's prescription, dated today).
    return issue(world, actor, condition, the_order)


# --- Allergies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "allergy, medicine",
    [
        ({"substance": "penicillins"}, "amoxicillin"),
        ({"substance": "penicillins"}, "co-amoxiclav"),  # a penicillin too
        ({"substance": "amoxicillin"}, "co-amoxiclav"),  # contains amoxicillin
        ({"text": "Penicillin - widespread rash"}, "amoxicillin"),  # free text still counts
    ],
)
def test_an_allergy_to_the_medicine_its_class_or_a_substance_in_it_warns(world, gp, tonsillitis, allergy, medicine):
    allergy_record(actor=gp, patient=world.alice, reaction="Rash", **allergy)
    assert WarningKind.ALLERGY in warnings_of(world, gp, tonsillitis, order(medicine, dose="500"))


def test_a_penicillin_allergy_says_nothing_about_paracetamol(world, gp, tonsillitis):
    allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Rash")
    issued_without_warnings(
        world, gp, tonsillitis, order("paracetamol", dose="1", unit="g", frequency="Four times daily", days=5)
    )


# --- Duplicate therapy and interactions -------------------------------------------------------------------


def test_the_same_class_already_active_is_duplicate_therapy(world, gp, tonsillitis):
    issue(world, gp, tonsillitis, order("ibuprofen", dose="400", frequency="Three times daily", days=5))
    kinds = warnings_of(world, gp, tonsillitis, order("naproxen", dose="250", frequency="Twice daily", days=5))
    assert WarningKind.DUPLICATE in kinds


def test_two_different_classes_are_not_duplicates(world, gp, tonsillitis):
    issue(world, gp, tonsillitis, order("omeprazole", dose="20", frequency="Once daily", days=28))
    issued_without_warnings(
        world, gp, tonsillitis, order("paracetamol", dose="1", unit="g", frequency="Four times daily", days=5)
    )


def test_simvastatin_with_clarithromycin_is_an_interaction(world, gp, tonsillitis):
    # The world's prescription: simvastatin 20 mg, active.
    kinds = warnings_of(world, gp, tonsillitis, order("clarithromycin", dose="500", frequency="Twice daily", days=7))
    assert kinds == {WarningKind.INTERACTION}


def test_warfarin_with_an_nsaid_is_an_interaction_either_way_round(world, gp, tonsillitis):
    issue(world, gp, tonsillitis, order("warfarin", dose="3", frequency="Once daily", days=28))
    assert WarningKind.INTERACTION in warnings_of(
        world, gp, tonsillitis, order("ibuprofen", dose="400", frequency="Three times daily", days=5)
    )


# --- Dose and quantity ------------------------------------------------------------------------------------


def test_a_dose_above_the_usual_maximum_warns_and_the_maximum_itself_does_not(world, gp, tonsillitis):
    issued_without_warnings(
        world, gp, tonsillitis, order("paracetamol", dose="1", unit="g", frequency="Four times daily", days=3)
    )
    Prescription.objects.all().delete()
    assert warnings_of(
        world, gp, tonsillitis, order("paracetamol", dose="1.5", unit="g", frequency="Four times daily", days=3)
    ) == {WarningKind.DOSE}


def test_a_quantity_that_does_not_fit_the_course_warns(world, gp, tonsillitis):
    assert warnings_of(world, gp, tonsillitis, order(quantity="100")) == {WarningKind.QUANTITY}
    issued = issued_without_warnings(world, gp, tonsillitis, order(quantity="21"))
    assert issued.quantity_display == "21 capsules"


@pytest.mark.parametrize(
    "frequency, per_day",
    [
        ("Once daily", 1),
        ("Twice daily", 2),
        ("Three times daily", 3),
        ("Four times daily", 4),
        ("Every morning", 1),
        ("At night", 1),
        ("Every 4 hours", 6),
        ("Every 6 hours", 4),
        ("Every 8 hours", 3),
    ],
)
def test_the_quantity_is_worked_out_for_every_frequency(frequency, per_day):
    paracetamol = MEDICINES_BY_KEY["paracetamol"]
    supply = dosing.supply_for(paracetamol, Decimal("1"), "g", frequency, 10)
    # 1 g is two 500 mg tablets a dose.
    assert supply is not None and supply.quantity == 2 * per_day * 10 and supply.unit == "tablets"


def test_once_weekly_rounds_up_and_as_required_cannot_be_worked_out():
    paracetamol = MEDICINES_BY_KEY["paracetamol"]
    assert dosing.supply_for(paracetamol, Decimal("500"), "mg", "Once weekly", 10).quantity == 2  # 10/7 rounds up
    assert dosing.supply_for(paracetamol, Decimal("500"), "mg", "As required", 10) is None


def test_as_required_needs_a_quantity_given(world, gp, tonsillitis):
    with pytest.raises(Invalid) as refused:
        issue(world, gp, tonsillitis, order("paracetamol", frequency="As required", days=5))
    assert "quantity_value" in refused.value.fields
    issued = issue(world, gp, tonsillitis, order("paracetamol", frequency="As required", days=5, quantity="32"))
    assert issued.quantity_display == "32 tablets"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"days": 0}, "duration_days"),
        ({"days": -3}, "duration_days"),
        ({"days": 36500}, "duration_days"),
        ({"dose": "0"}, "dose_value"),
        ({"frequency": "Whenever"}, "frequency"),
        ({"quantity": "-1"}, "quantity_value"),
    ],
)
def test_nonsense_is_refused_outright(world, gp, tonsillitis, change, field):
    with pytest.raises(Invalid) as refused:
        issue(world, gp, tonsillitis, order(**change))
    assert field in refused.value.fields
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()


# --- Overrides and free text ------------------------------------------------------------------------------


def test_a_medicine_not_in_the_formulary_warns_that_no_checks_ran(world, gp, tonsillitis):
    with pytest.raises(SafetyWarnings) as raised:
        issue(
            world,
            gp,
            tonsillitis,
            order("Zapnoxin", dose="10", quantity="14", days=14, frequency="Once daily", quantity_unit="tablets"),
        )
    [warning] = raised.value.warnings
    assert warning.kind == WarningKind.UNCHECKED and "no safety checks could run" in warning.message


def test_an_override_needs_a_reason_and_keeps_it(world, gp, tonsillitis):
    allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Rash")
    with pytest.raises(SafetyWarnings):
        issue(world, gp, tonsillitis, order(), overrides={"allergy": "   "})
    issued = issue(world, gp, tonsillitis, order(), overrides={"allergy": "Rash was viral; tolerated since"})
    [override] = issued.overrides.all()
    assert (override.kind, override.reason) == ("allergy", "Rash was viral; tolerated since")
    assert "allergic to Penicillins" in override.message or "allergic to penicillins" in override.message.lower()
    event = AuditEvent.objects.get(
        action=AuditAction.CREATE, object_type=AuditObject.PRESCRIPTION, object_id=str(issued.public_id)
    )
    assert event.detail["overridden"] == ["allergy"]


def test_every_new_prescription_names_its_condition(world, gp):
    with pytest.raises(Invalid) as refused:
        issue(world, gp, None, order())
    assert "condition" in refused.value.fields


def test_an_imported_prescription_without_a_condition_stays_valid(world):
    world.alice_prescription.full_clean()
    assert world.alice_prescription.condition is None


# --- Who may prescribe -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, refusal",
    [
        ("reception", NotPermitted),
        ("nurse", NotPermitted),
        ("other_gp", NotFound),
        ("bob_user", NotFound),
        ("alice_user", NotPermitted),
        ("hospital_reception", NotPermitted),
    ],
)
def test_only_prescribers_who_may_see_the_patient_prescribe_and_every_refusal_is_audited(
    world, tonsillitis, name, refusal
):
    user = getattr(world, name)
    with pytest.raises(refusal):
        issue(world, Actor.command_line(user), tonsillitis, order())
    assert (
        AuditEvent.objects.filter(
            actor=user, action=AuditAction.DENY, object_type=AuditObject.PRESCRIPTION, patient_id=world.alice.pk
        ).count()
        == 1
    )
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()


def test_a_nurse_registered_as_a_prescriber_may_prescribe(world, tonsillitis):
    world.nurse.clinician.is_prescriber = True
    world.nurse.clinician.save()
    issued = issue(world, Actor.command_line(world.nurse), tonsillitis, order())
    assert issued.prescriber == world.nurse.clinician


# --- A prescription's life ---------------------------------------------------------------------------------


def test_the_nominated_pharmacy_is_the_default(world, gp, tonsillitis):
    pharmacy_nominate(actor=Actor.command_line(world.alice_user), patient=world.alice, pharmacy="Boots, High Street")
    world.alice.refresh_from_db()
    assert issue(world, gp, tonsillitis, order()).pharmacy_name == "Boots, High Street"
    assert (
        issue(
            world,
            gp,
            tonsillitis,
            order("paracetamol", frequency="As required", quantity="32"),
            pharmacy="Lloyds, Station Road",
        ).pharmacy_name
        == "Lloyds, Station Road"
    )


def test_cancel_with_a_reason_only_before_it_is_dispensed(world, gp, tonsillitis):
    first = issue(world, gp, tonsillitis, order())
    with pytest.raises(Invalid):
        prescription_cancel(actor=gp, prescription=first, reason=" ")
    cancelled = prescription_cancel(actor=gp, prescription=first, reason="Wrong strength")
    assert (cancelled.status, cancelled.cancellation_reason) == (PrescriptionStatus.CANCELLED, "Wrong strength")
    second = issue(world, gp, tonsillitis, order())
    collected = prescription_record_supply(actor=gp, prescription=second, status="collected")
    assert (collected.status, collected.collection_date) == (PrescriptionStatus.COLLECTED, clock.today())
    with pytest.raises(Invalid, match="can no longer be cancelled"):
        prescription_cancel(actor=gp, prescription=second, reason="Too late")


def test_reception_cannot_record_what_happened_to_a_prescription(world, gp, tonsillitis):
    issued = issue(world, gp, tonsillitis, order())
    with pytest.raises(NotPermitted):
        prescription_cancel(actor=Actor.command_line(world.reception), prescription=issued, reason="Asked to")


def _repeat(world, gp, hypertension) -> Prescription:
    return issue(
        world,
        gp,
        hypertension,
        order("ramipril", dose="5", frequency="Once daily", days=28),
        course=Course.REPEAT,
        issues_allowed=3,
        review_date=clock.today() + dt.timedelta(days=180),
    )


def test_a_patient_asks_for_a_repeat_and_a_prescriber_at_their_surgery_issues_it(world, gp):
    hypertension = condition_record(actor=gp, patient=world.alice, code=HYPERTENSION)
    first = _repeat(world, gp, hypertension)
    patient = Actor.command_line(world.alice_user)
    request = repeat_request_create(actor=patient, prescription=first, note="Running low")
    with pytest.raises(Invalid, match="already asked"):
        repeat_request_create(actor=patient, prescription=first)
    with pytest.raises(NotFound):  # a GP elsewhere cannot even see the patient
        repeat_request_approve(actor=Actor.command_line(world.other_gp), request=request)
    second = repeat_request_approve(actor=gp, request=request)
    request.refresh_from_db()
    assert request.status == RepeatRequestStatus.APPROVED and request.issued == second
    # The same checks ran again, and the issue being replaced did not count as a duplicate of itself.
    assert (second.issue_number, second.previous, second.medicine_key) == (2, first, "ramipril")
    with pytest.raises(Invalid, match="not your current prescription"):
        repeat_request_create(actor=patient, prescription=first)


def test_a_refused_repeat_says_why_and_the_last_issue_needs_a_review(world, gp):
    hypertension = condition_record(actor=gp, patient=world.alice, code=HYPERTENSION)
    first = _repeat(world, gp, hypertension)
    request = repeat_request_create(actor=Actor.command_line(world.alice_user), prescription=first)
    with pytest.raises(Invalid):
        repeat_request_refuse(actor=gp, request=request, reason="")
    refused = repeat_request_refuse(actor=gp, request=request, reason="Please book a blood pressure check first")
    assert refused.status == RepeatRequestStatus.REFUSED
    acute = issue(world, gp, hypertension, order())
    with pytest.raises(Invalid, match="not as a repeat"):
        repeat_request_create(actor=Actor.command_line(world.alice_user), prescription=acute)
    with pytest.raises(NotFound):  # another patient cannot see Alice's prescriptions
        repeat_request_create(actor=Actor.command_line(world.bob_user), prescription=first)


def test_a_weekly_medicine_written_daily_is_stopped(world, gp, tonsillitis):
    kinds = warnings_of(
        world, gp, tonsillitis, order("methotrexate", dose="2.5", frequency="Once daily", days=28, quantity="28")
    )
    assert WarningKind.DOSE in kinds


def test_a_free_text_allergy_matches_whole_words_only(world, gp, tonsillitis):
    # "Nystatin" contains "statin" but is not one: simvastatin (the world's) and a statin are not blocked by it.
    allergy_record(actor=gp, patient=world.alice, text="Nystatin", reaction="Mouth ulcers")
    Prescription.objects.all().delete()
    issued_without_warnings(world, gp, tonsillitis, order("atorvastatin", dose="20", frequency="Once daily", days=28))


def test_a_dose_more_precise_than_the_record_keeps_is_refused_not_a_crash(world, gp, tonsillitis):
    with pytest.raises(Invalid) as refused:
        issue(world, gp, tonsillitis, order("paracetamol", dose="500.000001", frequency="As required", quantity="32"))
    assert "dose_value" in refused.value.fields
