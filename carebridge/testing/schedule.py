"""A week of GP surgery for scheduling tests: opening hours, GP sessions and the clock on a Monday."""

import datetime as dt

from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import Slot
from carebridge.testing.days import BASE_DAY, BASE_TIME, monday_on_or_after

# A Monday morning before surgery opens, in London: the suite's base day when it is a Monday (the
# default), or else the first Monday after it. Never a Monday before it: the world is built at the base
# moment, and going back in time would leave its rows stamped in the future.
MONDAY_MORNING = clock.london_datetime(monday_on_or_after(BASE_DAY), BASE_TIME)
WEEKDAYS_8_TO_6 = {weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(5)}


def build_schedule(world, settings):
    """The GP works 09:00-12:00 every weekday in 15-minute slots, for two weeks ahead."""
    settings.SLOT_HORIZON_DAYS = 13
    clock.freeze(MONDAY_MORNING)
    manager = Actor.command_line(world.manager)
    services.opening_hours_set(actor=manager, facility=world.surgery, hours=WEEKDAYS_8_TO_6)
    for weekday in range(5):
        services.session_add(
            actor=manager,
            clinician=world.gp.clinician,
            weekday=weekday,
            start_time=dt.time(9, 0),
            end_time=dt.time(12, 0),
            slot_minutes=15,
            appointment_types=["Routine Consultation", "Follow-up"],
        )
    return world


def schedule_day(day_offset: int) -> dt.date:
    """The schedule's Monday, or a day that many days after it (or before, if negative)."""
    return MONDAY_MORNING.date() + dt.timedelta(days=day_offset)


def schedule_time(day_offset: int, time: dt.time) -> dt.datetime:
    """A wall-clock time in London on schedule_day(day_offset)."""
    return clock.london_datetime(schedule_day(day_offset), time)


def slot_at(world, day_offset: int, time: dt.time) -> Slot:
    starts_at = schedule_time(day_offset, time)
    return Slot.objects.get(clinician=world.gp.clinician, starts_at=starts_at)
