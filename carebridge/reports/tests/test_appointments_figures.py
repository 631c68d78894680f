"""The appointments report against the world built for it (worlds.build_appointments_world): exact counts."""

import datetime as dt
from decimal import Decimal

import pytest

from carebridge.reports.figures import AppointmentWeek, Period, appointments_by_week
from carebridge.reports.tests.worlds import build_appointments_world


@pytest.fixture
def filled(world, settings):
    return build_appointments_world(world, settings)


def _two_weeks(filled) -> Period:
    return Period(first_day=filled.first_monday, last_day=filled.second_monday + dt.timedelta(days=6))


def test_each_clinicians_weeks_are_counted_exactly(filled):
    world, w1, w2 = filled.world, filled.first_monday, filled.second_monday
    gp, nurse = world.gp.clinician.display_name, world.nurse.clinician.display_name

    rows = appointments_by_week(facility=world.surgery, period=_two_weeks(filled))

    assert rows == [
        AppointmentWeek(
            clinician=gp,
            week=w1,
            booked=3,
            attended=2,
            did_not_attend=1,
            cancelled_by_patient=1,
            cancelled_by_practice=1,
            cancelled_not_recorded=0,
            offered_slots=8,
            booked_slots=3,
        ),
        AppointmentWeek(
            clinician=nurse,
            week=w1,
            booked=1,
            attended=1,
            did_not_attend=0,
            cancelled_by_patient=0,
            cancelled_by_practice=0,
            cancelled_not_recorded=0,
            offered_slots=4,
            booked_slots=1,
        ),
        AppointmentWeek(
            clinician=gp,
            week=w2,
            booked=4,
            attended=2,
            did_not_attend=1,
            cancelled_by_patient=0,
            cancelled_by_practice=0,
            cancelled_not_recorded=1,
            offered_slots=8,
            booked_slots=4,
        ),
        AppointmentWeek(
            clinician=nurse,
            week=w2,
            booked=0,
            attended=0,
            did_not_attend=0,
            cancelled_by_patient=0,
            cancelled_by_practice=0,
            cancelled_not_recorded=0,
            offered_slots=4,
            booked_slots=0,
        ),
    ]


def test_rates_are_percentages_of_what_they_say(filled):
    rows = appointments_by_week(facility=filled.world.surgery, period=_two_weeks(filled))
    gp_w1, nurse_w1, gp_w2, nurse_w2 = rows
    # DNA rate: did not attend over (attended + did not attend); utilisation: booked over offered slots.
    assert (gp_w1.dna_rate, gp_w1.utilisation) == (Decimal("33.3"), Decimal("37.5"))
    assert (nurse_w1.dna_rate, nurse_w1.utilisation) == (Decimal("0.0"), Decimal("25.0"))
    assert (gp_w2.dna_rate, gp_w2.utilisation) == (Decimal("33.3"), Decimal("50.0"))
    # Nothing attended or missed: there is no rate to give, rather than a misleading 0%.
    assert (nurse_w2.dna_rate, nurse_w2.utilisation) == (None, Decimal("0.0"))


def test_narrowed_to_one_clinician(filled):
    world = filled.world
    rows = appointments_by_week(
        facility=world.surgery, period=_two_weeks(filled), clinician_id=world.nurse.clinician.pk
    )
    assert [(row.clinician, row.week, row.attended, row.offered_slots) for row in rows] == [
        (world.nurse.clinician.display_name, filled.first_monday, 1, 4),
        (world.nurse.clinician.display_name, filled.second_monday, 0, 4),
    ]


def test_another_facility_counts_none_of_them(filled):
    world = filled.world
    assert appointments_by_week(facility=world.other_surgery, period=_two_weeks(filled)) == []


def test_the_period_cuts_by_london_day(filled):
    world, w1 = filled.world, filled.first_monday
    # Only W1's Monday: the GP's four Monday slots and their appointments.
    rows = appointments_by_week(facility=world.surgery, period=Period(first_day=w1, last_day=w1))
    assert [(row.booked, row.attended, row.did_not_attend, row.offered_slots, row.booked_slots) for row in rows] == [
        (2, 1, 1, 4, 2)
    ]
