"""The prescribing and referrals reports against rows made for them, with exact counts.

These reports only read, so the prescriptions, repeat requests, overrides and referrals are made
directly (as the named world makes its own), each with the one date or state the report counts by.
"""

import datetime as dt
from decimal import Decimal

import pytest

from carebridge.core import clock
from carebridge.prescribing.models import Prescription, RepeatRequest, RepeatRequestStatus, SafetyOverride
from carebridge.referrals.models import Referral, ReferralPriority, ReferralStatus
from carebridge.reports.figures import (
    Period,
    PrescribingWeek,
    ReferralsReceived,
    ReferralsSent,
    monday_of,
    prescribing_by_week,
    referrals_received,
    referrals_sent,
)
from carebridge.reports.tests.worlds import at, day
from carebridge.testing.days import BASE_DAY

THIS_MONDAY = monday_of(BASE_DAY)
LAST_MONDAY = THIS_MONDAY - dt.timedelta(weeks=1)
NO_OVERRIDES = (0, 0, 0, 0, 0, 0)


def _prescription(world, prescriber, on: dt.date) -> Prescription:
    template = world.alice_prescription
    return Prescription.objects.create(
        patient=world.alice,
        prescriber=prescriber.clinician,
        prescribed_on=on,
        medication_name=template.medication_name,
        dose_value=template.dose_value,
        dose_unit=template.dose_unit,
        frequency=template.frequency,
        duration_days=28,
        quantity_value=template.quantity_value,
        quantity_unit=template.quantity_unit,
    )


def _override(prescription: Prescription, prescriber, kind: str, when: dt.datetime) -> None:
    SafetyOverride.objects.create(
        prescription=prescription,
        kind=kind,
        message="Warning shown",
        reason="Benefit outweighs the risk",
        overridden_by=prescriber.clinician,
        overridden_at=when,
    )


def _request(world, surgery, status: str, decided_by, when: dt.datetime | None) -> None:
    # The repeat it asks for was written last Monday, by whoever decides the request (or the GP).
    prescription = _prescription(world, decided_by or world.gp, LAST_MONDAY)
    RepeatRequest.objects.create(
        prescription=prescription,
        patient=world.alice,
        surgery=surgery,
        requested_at=when or clock.now(),
        status=status,
        decided_by=decided_by.clinician if decided_by else None,
        decided_at=when,
        refusal_reason="Review needed first" if status == RepeatRequestStatus.REFUSED else "",
    )


@pytest.fixture
def prescribing(world):
    """Last week: the GP prescribes on Monday and Wednesday and the nurse on Tuesday; the GP approves one
    repeat request (Tuesday) and refuses one (Thursday), and overrides an allergy warning (Monday) and two
    interaction warnings (Wednesday). This week: the world's own prescription (the GP, today) and a dose
    warning the nurse overrode. Elsewhere: another surgery's GP, and a request still pending."""
    monday_item = _prescription(world, world.gp, LAST_MONDAY)
    wednesday_item = _prescription(world, world.gp, LAST_MONDAY + dt.timedelta(days=2))
    _prescription(world, world.nurse, LAST_MONDAY + dt.timedelta(days=1))
    _prescription(world, world.other_gp, LAST_MONDAY)
    monday = clock.london_datetime(LAST_MONDAY, dt.time(10, 0))
    _override(monday_item, world.gp, "allergy", monday)
    _override(wednesday_item, world.gp, "interaction", monday + dt.timedelta(days=2))
    _override(wednesday_item, world.gp, "interaction", monday + dt.timedelta(days=2, minutes=1))
    _override(world.alice_prescription, world.nurse, "dose", at(0, dt.time(6, 30)))
    _request(world, world.surgery, RepeatRequestStatus.APPROVED, world.gp, monday + dt.timedelta(days=1))
    _request(world, world.surgery, RepeatRequestStatus.REFUSED, world.gp, monday + dt.timedelta(days=3))
    _request(world, world.surgery, RepeatRequestStatus.PENDING, None, None)
    _request(world, world.other_surgery, RepeatRequestStatus.APPROVED, world.other_gp, monday)
    # The repeat requests' own prescriptions were written last Monday too: three by this surgery's GP.
    return world


def test_prescribing_per_week(prescribing):
    world = prescribing
    rows = prescribing_by_week(facility=world.surgery, period=Period(first_day=LAST_MONDAY, last_day=BASE_DAY))
    # Kinds in order: allergy, duplicate therapy, interaction, dose, quantity, unchecked.
    assert rows == [
        PrescribingWeek(
            week=LAST_MONDAY, items_issued=3 + 3, repeats_approved=1, repeats_refused=1, overrides=(1, 0, 2, 0, 0, 0)
        ),
        PrescribingWeek(
            week=THIS_MONDAY, items_issued=1, repeats_approved=0, repeats_refused=0, overrides=(0, 0, 0, 1, 0, 0)
        ),
    ]
    assert [row.overrides_total for row in rows] == [3, 1]


def test_prescribing_for_one_clinician(prescribing):
    world = prescribing
    rows = prescribing_by_week(
        facility=world.surgery,
        period=Period(first_day=LAST_MONDAY, last_day=BASE_DAY),
        clinician_id=world.nurse.clinician.pk,
    )
    assert rows == [
        PrescribingWeek(
            week=LAST_MONDAY, items_issued=1, repeats_approved=0, repeats_refused=0, overrides=NO_OVERRIDES
        ),
        PrescribingWeek(
            week=THIS_MONDAY, items_issued=0, repeats_approved=0, repeats_refused=0, overrides=(0, 0, 0, 1, 0, 0)
        ),
    ]


def _referral(world, *, speciality: str, priority: str, status: str, on: int, triaged_after: int | None = None):
    referral_date = day(on)
    return Referral.objects.create(
        patient=world.carol,
        referring_clinician=world.gp.clinician,
        referring_facility=world.surgery,
        receiving_facility=world.hospital,
        referral_date=referral_date,
        priority=priority,
        reason="Assessment",
        speciality=speciality,
        status=status,
        triaged_at=None if triaged_after is None else at(on + triaged_after, dt.time(11, 0)),
        created_at=clock.now(),
        updated_at=clock.now(),
    )


@pytest.fixture
def referrals(world):
    """Beside the world's urgent cardiology referral made today (new, not triaged):

      Cardiology  routine        d-10  seen (completed)      triaged 2 days after
      Dermatology two-week wait  d-20  accepted (pending)    triaged 3 days after, open: 20 > 14 days, a breach
      Dermatology two-week wait  d-5   rejected              triaged 1 day after
      Cardiology  urgent         d-100 booked (in progress)  before the period; open: 100 > 28 days, a breach
    and one from the other surgery to the other hospital, which neither report counts."""
    _referral(
        world,
        speciality="Cardiology",
        priority=ReferralPriority.ROUTINE,
        status=ReferralStatus.COMPLETED,
        on=-10,
        triaged_after=2,
    )
    _referral(
        world,
        speciality="Dermatology",
        priority=ReferralPriority.TWO_WEEK_WAIT,
        status=ReferralStatus.PENDING,
        on=-20,
        triaged_after=3,
    )
    _referral(
        world,
        speciality="Dermatology",
        priority=ReferralPriority.TWO_WEEK_WAIT,
        status=ReferralStatus.REJECTED,
        on=-5,
        triaged_after=1,
    )
    _referral(
        world,
        speciality="Cardiology",
        priority=ReferralPriority.URGENT,
        status=ReferralStatus.IN_PROGRESS,
        on=-100,
        triaged_after=4,
    )
    Referral.objects.create(
        patient=world.bob,
        referring_clinician=world.other_gp.clinician,
        referring_facility=world.other_surgery,
        receiving_facility=world.other_hospital,
        referral_date=day(-3),
        priority=ReferralPriority.ROUTINE,
        reason="Headaches",
        speciality="Neurology",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    return world


FOUR_WEEKS = Period(first_day=day(-27), last_day=day(0))


def test_referrals_sent_by_speciality_priority_and_state(referrals):
    rows = referrals_sent(facility=referrals.surgery, period=FOUR_WEEKS)
    # States in order: new, more information requested, accepted, booked, seen, returned, rejected.
    assert rows == [
        ReferralsSent(speciality="Cardiology", priority="Urgent", sent=1, by_state=(1, 0, 0, 0, 0, 0, 0)),
        ReferralsSent(speciality="Cardiology", priority="Routine", sent=1, by_state=(0, 0, 0, 0, 1, 0, 0)),
        ReferralsSent(speciality="Dermatology", priority="Two-week wait", sent=2, by_state=(0, 0, 1, 0, 0, 0, 1)),
    ]


def test_referrals_received_waiting_against_target(referrals):
    rows = referrals_received(facility=referrals.hospital, period=FOUR_WEEKS)
    assert rows == [
        ReferralsReceived(
            service="Cardiology",
            received=2,
            triaged=1,
            median_days_to_triage=Decimal("2.0"),
            waiting=2,
            within_target=1,
            breaches=1,
        ),
        ReferralsReceived(
            service="Dermatology",
            received=2,
            triaged=2,
            median_days_to_triage=Decimal("2.0"),
            waiting=1,
            within_target=0,
            breaches=1,
        ),
    ]


def test_referrals_for_one_receiving_clinician(referrals):
    # Only the world's referral names its receiving clinician.
    rows = referrals_received(
        facility=referrals.hospital, period=FOUR_WEEKS, clinician_id=referrals.specialist.clinician.pk
    )
    assert rows == [
        ReferralsReceived(
            service="Cardiology",
            received=1,
            triaged=0,
            median_days_to_triage=None,
            waiting=1,
            within_target=1,
            breaches=0,
        )
    ]
