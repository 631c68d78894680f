"""The third next available routine appointment, on the hand-worked example in worlds.build_access_world."""

import datetime as dt

import pytest

from carebridge.reports.figures import AccessFigure, Period, access_moments, third_next_available
from carebridge.reports.tests.worlds import at, build_access_world, day
from carebridge.testing.days import BASE_MOMENT


@pytest.fixture
def access(world, settings):
    return build_access_world(world, settings)


def test_today_and_a_week_ago_as_worked_by_hand(access):
    world = access.world
    figures = third_next_available(facility=world.surgery, moments=[access.week_ago, access.now])
    gp = world.gp.clinician.display_name
    # The nurse offers only vaccinations, which are not routine: she has no access figure at all.
    assert figures == [
        AccessFigure(clinician=gp, as_of=access.week_ago, third_available=day(1)),
        AccessFigure(clinician=gp, as_of=access.now, third_available=day(3)),
    ]
    assert [figure.days for figure in figures] == [8, 3]


def test_a_slot_freed_later_still_counts_as_held_before_it_was_freed(access):
    """Just after the cancellation at d-6 08:00, the freed 09:00 slot is the first free one, so the third
    is d-4 09:45, two days ahead."""
    world = access.world
    [figure] = third_next_available(
        facility=world.surgery, moments=[access.week_ago + dt.timedelta(days=1, hours=1, minutes=1)]
    )
    assert (figure.third_available, figure.days) == (day(-4), 2)


def test_fewer_than_three_free_has_no_figure(access):
    """At d+10 09:20 only 09:30 and 09:45 are left that day, and the schedule holds no slot after d+10
    (slots were last offered at d, 13 days ahead): two free, so no third."""
    world = access.world
    [figure] = third_next_available(facility=world.surgery, moments=[at(10, dt.time(9, 20))])
    assert figure.third_available is None and figure.days is None


def test_narrowed_to_a_clinician_without_routine_slots(access):
    world = access.world
    assert (
        third_next_available(facility=world.surgery, moments=[access.now], clinician_id=world.nurse.clinician.pk) == []
    )


def test_the_measure_is_taken_now_and_at_this_time_each_earlier_week_of_the_period():
    period = Period(first_day=BASE_MOMENT.date() - dt.timedelta(days=20), last_day=BASE_MOMENT.date())
    assert access_moments(period, BASE_MOMENT) == [
        BASE_MOMENT - dt.timedelta(weeks=2),
        BASE_MOMENT - dt.timedelta(weeks=1),
        BASE_MOMENT,
    ]
    # A period that ended a few days ago: the moments a whole number of weeks back that fall in it.
    ended = Period(
        first_day=BASE_MOMENT.date() - dt.timedelta(days=20), last_day=BASE_MOMENT.date() - dt.timedelta(days=3)
    )
    assert access_moments(ended, BASE_MOMENT) == [
        BASE_MOMENT - dt.timedelta(weeks=2),
        BASE_MOMENT - dt.timedelta(weeks=1),
    ]
