"""The facility manager's schedule pages: opening hours, weekly sessions, leave and closures."""

import datetime as dt

import pytest
from django.forms import ValidationError
from django.urls import reverse

from carebridge.appointments.forms import parse_opening_intervals
from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.scheduling import services
from carebridge.scheduling.models import (
    Appointment,
    ClinicianSession,
    OpeningTime,
    ScheduleException,
    Slot,
)
from carebridge.testing.days import day_month_year, short_when
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

SCHEDULES = reverse("scheduling:schedules")
OPENING_HOURS = reverse("scheduling:opening_hours")
SESSION_ADD = reverse("scheduling:session_add")
EXCEPTION_ADD = reverse("scheduling:exception_add")
HOURS = {f"day_{weekday}": "08:00-18:00" for weekday in range(5)}
# Days of the schedule's week, as the forms take them.
MONDAY, TUESDAY, THURSDAY = (schedule_day(offset).isoformat() for offset in (0, 1, 3))


def _booked(world, day_offset: int, time: dt.time) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=world.alice,
        slot=slot_at(world, day_offset, time),
        appointment_type="Routine Consultation",
        reason="Check-up",
    )


def test_the_manager_sees_the_facilitys_schedules(schedule, client_for):
    response = client_for(schedule.manager).get(SCHEDULES)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Oak Tree Surgery" in page and "Schedules" in page
    assert "08:00 to 18:00" in page and "Closed" in page  # weekdays open, weekend closed
    gp_card = page.split(f'data-testid="clinician-{schedule.gp.clinician.public_id}"')[1]
    gp_card = gp_card.split('data-testid="clinician-')[0]
    assert "09:00 to 12:00" in gp_card and "15 minutes: Routine Consultation, Follow-up" in gp_card
    assert "No weekly sessions." in page  # the nurse
    assert "None: every booked appointment still has its time." in page


@pytest.mark.parametrize("name", ["reception", "gp", "alice_user", "porter", "admin", "privacy"])
def test_schedules_are_for_the_facility_manager_only(schedule, client_for, name):
    user = getattr(schedule, name)
    client = client_for(user)
    session = ClinicianSession.objects.filter(clinician=schedule.gp.clinician).first()
    assert client.get(SCHEDULES).status_code == 404
    assert client.post(OPENING_HOURS, HOURS).status_code == 404
    assert (
        client.post(reverse("scheduling:session_end", args=[session.public_id]), {"last_day": MONDAY}).status_code
        == 404
    )
    session.refresh_from_db()
    assert session.valid_until is None
    assert AuditEvent.objects.filter(actor=user, action=AuditAction.DENY, object_type="schedules").count() == 3


# --- Opening hours --------------------------------------------------------------------------------------


def test_the_manager_sets_opening_hours_with_a_lunch_break(schedule, client_for):
    response = client_for(schedule.manager).post(
        OPENING_HOURS, {**HOURS, "day_2": "08:00-12:30, 13:30-18:00", "day_5": "09:00-12:00"}
    )
    assert response.status_code == 302 and response["Location"] == SCHEDULES
    wednesday = list(OpeningTime.objects.filter(facility=schedule.surgery, weekday=2).values_list("opens", "closes"))
    assert wednesday == [(dt.time(8), dt.time(12, 30)), (dt.time(13, 30), dt.time(18))]
    assert OpeningTime.objects.filter(facility=schedule.surgery, weekday=5).exists()
    assert not OpeningTime.objects.filter(facility=schedule.surgery, weekday=6).exists()


def test_opening_hours_that_cannot_be_read_change_nothing(schedule, client_for):
    before = list(OpeningTime.objects.values_list("weekday", "opens", "closes"))
    response = client_for(schedule.manager).post(OPENING_HOURS, {**HOURS, "day_0": "eight till six"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "&#x27;eight till six&#x27; is not a time range. Write it like 08:00-18:00." in page
    assert list(OpeningTime.objects.values_list("weekday", "opens", "closes")) == before


def test_closing_earlier_lists_booked_appointments_for_rebooking(schedule, client_for):
    appointment = _booked(schedule, 0, dt.time(11, 30))
    client = client_for(schedule.manager)
    client.post(OPENING_HOURS, {**HOURS, "day_0": "08:00-11:00"})
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == "booked"
    rebooking = client.get(SCHEDULES).content.decode().split("Appointments to rebook")[1]
    assert "ARCHER, Alice" in rebooking and reverse("scheduling:move", args=[appointment.public_id]) in rebooking


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("08:00-18:00", [(dt.time(8), dt.time(18))]),
        ("8.30 to 12.00, 13:00 – 17:30", [(dt.time(8, 30), dt.time(12)), (dt.time(13), dt.time(17, 30))]),
    ],
)
def test_opening_hours_are_read_as_people_write_them(text, expected):
    assert parse_opening_intervals(text) == expected


@pytest.mark.parametrize("text", ["18:00-08:00", "08:00-12:00, 11:00-18:00", "25:00-26:00", "all day"])
def test_opening_hours_that_make_no_sense_are_refused(text):
    with pytest.raises(ValidationError):
        parse_opening_intervals(text)


# --- Sessions --------------------------------------------------------------------------------------------


def _session_data(world, **changes):
    data = {
        "clinician": str(world.nurse.clinician.public_id),
        "weekday": "1",
        "start_time": "14:00",
        "end_time": "16:00",
        "slot_minutes": "20",
        "appointment_types": ["Vaccination"],
        "other_types": "Smear test, Blood test",
        "valid_from": "",
    }
    data.update(changes)
    return data


def test_the_manager_adds_a_session_and_its_slots_appear(schedule, client_for):
    client = client_for(schedule.manager)
    form = client.get(SESSION_ADD, {"clinician": str(schedule.nurse.clinician.public_id)}).content.decode()
    assert f'value="{schedule.nurse.clinician.public_id}" selected' in form
    response = client.post(SESSION_ADD, _session_data(schedule))
    assert response.status_code == 302 and response["Location"] == SCHEDULES
    session = ClinicianSession.objects.get(clinician=schedule.nurse.clinician)
    assert (session.weekday, session.start_time, session.end_time, session.slot_minutes) == (
        1,
        dt.time(14),
        dt.time(16),
        20,
    )
    assert session.appointment_types == ["Vaccination", "Smear test", "Blood test"]
    assert Slot.objects.filter(clinician=schedule.nurse.clinician).count() == 2 * 6  # two Tuesdays, 6 slots each
    assert "Nurse Nia Jones now works Tuesdays 14:00-16:00." in client.get(SCHEDULES).content.decode()


def test_a_session_outside_opening_hours_shows_the_services_message(schedule, client_for):
    response = client_for(schedule.manager).post(
        SESSION_ADD, _session_data(schedule, start_time="17:00", end_time="19:00")
    )
    assert response.status_code == 200
    assert "Oak Tree Surgery is not open for the whole session on that day." in response.content.decode()
    assert not ClinicianSession.objects.filter(clinician=schedule.nurse.clinician).exists()


def test_an_overlapping_session_shows_the_services_message(schedule, client_for):
    response = client_for(schedule.manager).post(
        SESSION_ADD,
        _session_data(
            schedule, clinician=str(schedule.gp.clinician.public_id), weekday="0", start_time="11:00", end_time="13:00"
        ),
    )
    page = response.content.decode()
    assert "This overlaps the existing session" in page and "Monday 09:00-12:00" in page
    assert ClinicianSession.objects.filter(clinician=schedule.gp.clinician).count() == 5


def test_a_session_without_any_type_is_refused(schedule, client_for):
    response = client_for(schedule.manager).post(
        SESSION_ADD, _session_data(schedule, appointment_types=[], other_types=" , ")
    )
    assert "Say which appointment types the session offers." in response.content.decode()
    assert not ClinicianSession.objects.filter(clinician=schedule.nurse.clinician).exists()


def test_a_clinician_from_another_facility_cannot_be_chosen(schedule, client_for):
    response = client_for(schedule.manager).post(
        SESSION_ADD, _session_data(schedule, clinician=str(schedule.other_gp.clinician.public_id))
    )
    assert "Choose clinician from the list" in response.content.decode()
    assert not ClinicianSession.objects.filter(clinician=schedule.other_gp.clinician).exists()


def test_ending_a_session_keeps_booked_appointments_for_rebooking(schedule, client_for):
    appointment = _booked(schedule, 7, dt.time(9, 0))  # next Monday
    session = ClinicianSession.objects.get(clinician=schedule.gp.clinician, weekday=0)
    client = client_for(schedule.manager)
    assert (
        "End Dr. Grace Patel's Monday session"
        in client.get(reverse("scheduling:session_end", args=[session.public_id])).content.decode()
    )
    response = client.post(reverse("scheduling:session_end", args=[session.public_id]), {"last_day": TUESDAY})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.valid_until == schedule_day(1)
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == "booked"
    page = client.get(SCHEDULES).content.decode()
    assert f"ends after {day_month_year(schedule_day(1))}" in page
    assert "ARCHER, Alice" in page.split("Appointments to rebook")[1]


def test_a_session_at_another_facility_is_not_found(schedule, client_for):
    other = ClinicianSession.objects.create(
        clinician=schedule.other_gp.clinician,
        facility=schedule.other_surgery,
        weekday=0,
        start_time=dt.time(9),
        end_time=dt.time(12),
        slot_minutes=15,
        appointment_types=["Routine Consultation"],
        valid_from=clock.today(),
    )
    response = client_for(schedule.manager).post(
        reverse("scheduling:session_end", args=[other.public_id]), {"last_day": MONDAY}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.valid_until is None
    assert AuditEvent.objects.filter(actor=schedule.manager, action=AuditAction.DENY, object_type="session").exists()


# --- Leave and closures ----------------------------------------------------------------------------------


def test_the_manager_adds_leave_for_a_clinician(schedule, client_for):
    appointment = _booked(schedule, 2, dt.time(9, 0))  # Wednesday
    response = client_for(schedule.manager).post(
        EXCEPTION_ADD,
        {
            "clinician": str(schedule.gp.clinician.public_id),
            "first_day": schedule_day(2).isoformat(),
            "from_time": "",
            "last_day": schedule_day(3).isoformat(),
            "until_time": "",
            "reason": "Annual leave",
        },
    )
    assert response.status_code == 302
    leave = ScheduleException.objects.get()
    assert leave.clinician == schedule.gp.clinician and leave.reason == "Annual leave"
    assert leave.starts_at == schedule_time(2, dt.time.min)
    assert leave.ends_at == schedule_time(4, dt.time.min)
    assert not Slot.objects.filter(
        clinician=schedule.gp.clinician, withdrawn=False, starts_at__date=schedule_day(3)
    ).exists()
    appointment.refresh_from_db()
    assert appointment.needs_rebooking
    page = client_for(schedule.manager).get(SCHEDULES).content.decode()
    # Whole days read as days, not as midnight to midnight.
    first, last = schedule_day(2), schedule_day(3)
    assert "Annual leave" in page and f"{first:%A} {first.day} {first:%B} to {last:%A} {last.day} {last:%B}" in page
    assert short_when(schedule_time(2, dt.time.min)) not in page


def test_a_closure_of_the_whole_facility_for_an_afternoon(schedule, client_for):
    client_for(schedule.manager).post(
        EXCEPTION_ADD,
        {
            "clinician": "",
            "first_day": TUESDAY,
            "from_time": "10:00",
            "last_day": TUESDAY,
            "until_time": "12:00",
            "reason": "Training closure",
        },
    )
    closure = ScheduleException.objects.get()
    assert closure.clinician is None and closure.facility == schedule.surgery
    assert closure.ends_at - closure.starts_at == dt.timedelta(hours=2)


def test_time_off_that_ends_before_it_starts_shows_the_services_message(schedule, client_for):
    response = client_for(schedule.manager).post(
        EXCEPTION_ADD,
        {
            "clinician": "",
            "first_day": THURSDAY,
            "from_time": "",
            "last_day": TUESDAY,
            "until_time": "",
            "reason": "Training",
        },
    )
    assert "The time off must end after it starts." in response.content.decode()
    assert not ScheduleException.objects.exists()


def test_time_off_needs_a_reason(schedule, client_for):
    response = client_for(schedule.manager).post(
        EXCEPTION_ADD, {"clinician": "", "first_day": TUESDAY, "last_day": TUESDAY, "reason": ""}
    )
    assert "Give a reason, such as &#x27;Annual leave&#x27;." in response.content.decode()
    assert not ScheduleException.objects.exists()
