"""Issue 9 in a real browser, at 1280 px and on a 375 px phone: leave catches an imported appointment
(item 1), appointments end with an outcome that can be undone the same day (item 2), no duplicate
patients by accident (item 3), the NHS date input and an error summary that names and focuses each
field (item 5), and no dead ends (item 6).

At 375 px the header's menu folds away, so pages are reached by their addresses where the menu is not
what is tested. The `schedule` fixture stops the clock on a Monday at 07:00; the live server runs in
this process and sees the same clock.
"""

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.patients.models import Patient
from carebridge.scheduling import services
from carebridge.scheduling.models import Appointment, AppointmentStatus
from carebridge.scheduling.tests.test_outcomes_and_leave import imported
from carebridge.testing.browser import sign_in
from carebridge.testing.days import long_day, short_when, when
from carebridge.testing.schedule import schedule_day, schedule_time, slot_at

pytestmark = pytest.mark.browser

WIDTHS = [1280, 375]
NINE, QUARTER_PAST_NINE, TEN, HALF_TEN = dt.time(9, 0), dt.time(9, 15), dt.time(10, 0), dt.time(10, 30)


def _open(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    # Signed out before the test goes on: a page.goto() now would cancel the sign-out on its way.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Carebridge")


def _type_date(page, legend: str, day: dt.date) -> None:
    """Into the NHS.UK date input named by its legend: the day, month and year boxes."""
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _answered(console_errors, status: int) -> None:
    """A page answered with `status` (a form to correct, a time taken) is reported by the browser as a
    console error: that one is expected; any other still fails the test."""
    assert len(console_errors) == 1 and f"status of {status}" in console_errors[0], console_errors
    console_errors.clear()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _book(world, patient, day: int, time: dt.time) -> Appointment:
    return services.appointment_book(
        actor=Actor.command_line(world.reception),
        patient=patient,
        slot=slot_at(world, day, time),
        appointment_type="Routine Consultation",
        reason="Blood pressure review",
    )


# --- Item 1 (and item 6: a whole day's leave reads as one day) ------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_leave_over_an_imported_appointment_lists_it_to_rebook_and_flags_it_on_the_day_list(schedule, page, width):
    _open(page, width)
    thursday = schedule_day(3)
    # Brought with the practice: no slot, at a time the GP's sessions do not offer.
    appointment = imported(schedule, 3, HALF_TEN)

    sign_in(page, "manager")
    page.goto(reverse("scheduling:schedules"))
    expect(page.get_by_test_id("no-rebooking")).to_be_visible()
    page.get_by_role("button", name="Add leave or a closure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add leave or a closure")
    page.get_by_label("Who is away").select_option(label="Dr. Grace Patel")
    _type_date(page, "First day", thursday)
    _type_date(page, "Last day", thursday)
    page.get_by_label("Reason").fill("Annual leave")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Time off for Dr. Grace Patel is saved.")
    # One whole day, in words: not "00:00 – Fri 4 Dec 00:00".
    expect(page.get_by_test_id("exception-when")).to_have_text(long_day(thursday, year=False))
    rebooking = page.get_by_test_id("rebooking")
    expect(rebooking).to_contain_text("ARCHER, Alice")
    expect(rebooking).to_contain_text(short_when(appointment.starts_at))
    expect(rebooking.get_by_role("link", name="Choose a new time for Alice Archer")).to_be_visible()
    _fits(page, width)
    appointment.refresh_from_db()
    assert appointment.needs_rebooking and appointment.status == AppointmentStatus.BOOKED  # kept, not cancelled

    _sign_out(page)
    sign_in(page, "reception")
    page.goto(f"{reverse('scheduling:day')}?date={thursday.isoformat()}")
    expect(page.get_by_test_id("day-heading")).to_have_text(long_day(thursday))
    row = page.get_by_test_id(f"row-{appointment.public_id}")
    expect(row).to_contain_text("10:30")
    expect(row.get_by_test_id("needs-rebooking")).to_have_text("New time needed")
    expect(page.get_by_test_id("rebooking")).to_contain_text("ARCHER, Alice")
    _fits(page, width)


# --- Item 2 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_reception_marks_arrived_and_did_not_attend_and_undoes_each_the_same_day(schedule, page, width):
    _open(page, width)
    alice = _book(schedule, schedule.alice, 0, NINE)
    carol = _book(schedule, schedule.carol, 0, QUARTER_PAST_NINE)
    clock.freeze(schedule_time(0, dt.time(9, 30)))  # both appointment times have passed

    sign_in(page, "reception")
    page.goto(reverse("scheduling:day"))
    alice_row, carol_row = page.get_by_test_id(f"row-{alice.public_id}"), page.get_by_test_id(f"row-{carol.public_id}")
    alice_row.get_by_role("button", name="Check in Alice Archer").click()
    expect(page.get_by_role("status")).to_have_text("Alice Archer is checked in for 09:00.")
    expect(alice_row.get_by_test_id("status")).to_have_text("Arrived")
    carol_row.get_by_role("button", name="Did not attend – Carol Clarke").click()
    expect(page.get_by_role("status")).to_have_text("Carol Clarke is recorded as not attending at 09:15.")
    expect(carol_row.get_by_test_id("status")).to_have_text("Did not attend")
    _fits(page, width)

    alice_row.get_by_role("button", name="Undo check-in – Alice Archer").click()
    expect(page.get_by_role("status")).to_have_text("The check-in of Alice Archer is undone.")
    # Booked again; its time has passed, so it says no outcome is recorded yet.
    expect(alice_row.get_by_test_id("status")).to_have_text("Outcome not recorded")
    expect(alice_row.get_by_role("button", name="Check in Alice Archer")).to_be_visible()
    carol_row.get_by_role("button", name="Undo did not attend – Carol Clarke").click()
    expect(page.get_by_role("status")).to_have_text("Carol Clarke is no longer recorded as not attending.")
    expect(carol_row.get_by_test_id("status")).to_have_text("Outcome not recorded")
    alice.refresh_from_db()
    carol.refresh_from_db()
    assert alice.status == carol.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("width", WIDTHS)
def test_reception_closes_an_earlier_days_appointment_from_the_list_and_can_undo_it(schedule, page, width):
    _open(page, width)
    appointment = _book(schedule, schedule.alice, 0, NINE)
    clock.freeze(schedule_time(1, dt.time(8, 0)))  # the next morning: nobody recorded what happened

    sign_in(page, "reception")
    page.goto(reverse("scheduling:day"))
    notice = page.get_by_test_id("to-close-link")
    expect(notice).to_contain_text("1 appointment on earlier days has no outcome recorded.")
    notice.get_by_role("link", name="Close earlier appointments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointments to close")
    row = page.get_by_test_id(f"row-{appointment.public_id}")
    expect(row.get_by_test_id("status")).to_have_text("Outcome not recorded")
    _fits(page, width)
    row.get_by_role("button", name="Did not attend – Alice Archer").click()

    expect(page.get_by_role("status")).to_have_text(
        f"Alice Archer is recorded as not attending on {when(appointment.starts_at, year=False)}."
    )
    expect(page.get_by_test_id("none-to-close")).to_be_visible()
    closed = page.get_by_test_id("closed-today")
    expect(closed.get_by_test_id("status")).to_have_text("Did not attend")
    closed.get_by_role("button", name="Undo – Alice Archer").click()
    expect(page.get_by_role("status")).to_have_text("Alice Archer is no longer recorded as not attending.")
    expect(page.get_by_test_id(f"row-{appointment.public_id}")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.parametrize("width", WIDTHS)
def test_a_clinician_marking_done_an_appointment_that_never_arrived_must_say_why(schedule, page, console_errors, width):
    _open(page, width)
    appointment = _book(schedule, schedule.alice, 0, NINE)
    clock.freeze(schedule_time(0, dt.time(9, 5)))

    sign_in(page, "gp")
    page.goto(reverse("scheduling:my_day"))
    row = page.get_by_test_id(f"row-{appointment.public_id}")
    expect(row.get_by_test_id("status")).to_have_text("Booked")
    _fits(page, width)
    row.get_by_role("button", name="Mark as done for Alice Archer (not checked in)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark the appointment as done")
    page.get_by_role("button", name="Mark as done").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("The patient was not checked in: say why the appointment is done.")
    _answered(console_errors, 422)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    page.get_by_label("Why is this appointment done without the patient being checked in?").fill(
        "Telephone consultation instead"
    )
    page.get_by_role("button", name="Mark as done").click()
    expect(page.get_by_role("status")).to_have_text("The appointment with Alice Archer is marked as done.")
    expect(page.get_by_test_id(f"row-{appointment.public_id}").get_by_test_id("status")).to_have_text("Attended")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED


# --- Items 3 and 5 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_registering_the_same_name_and_birth_date_shows_the_match_and_needs_a_deliberate_yes(world, page, width):
    _open(page, width)
    sign_in(page, "reception")
    page.goto(reverse("patients:register"))
    page.get_by_label("First name").fill("Alice")
    page.get_by_label("Last name").fill("ARCHER")
    _type_date(page, "Date of birth", world.alice.date_of_birth)
    page.get_by_label("Gender").select_option("female")
    page.get_by_role("button", name="Register patient").click()

    warning = page.get_by_test_id("possible-duplicate")
    expect(warning).to_contain_text("This patient may already be registered")
    expect(page.get_by_test_id("possible-duplicate-matches")).to_contain_text(
        "Alice Archer, born 17 May 1980, NHS number 943 476 5919, registered at Oak Tree Surgery"
    )
    _fits(page, width)
    # What was typed is kept; going on without the confirmation registers no one.
    expect(page.get_by_label("First name")).to_have_value("Alice")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_test_id("possible-duplicate")).to_be_visible()
    assert Patient.objects.filter(last_name__iexact="archer").count() == 1

    page.get_by_label("This is a different person: register anyway").check()
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("status")).to_have_text("Alice ARCHER is registered at Oak Tree Surgery.")
    assert Patient.objects.filter(last_name__iexact="archer").count() == 2


@pytest.mark.parametrize("width", WIDTHS)
def test_date_of_birth_is_three_boxes_and_the_error_summary_names_and_focuses_each_field(world, page, width):
    _open(page, width)
    sign_in(page, "reception")
    page.goto(reverse("patients:register"))
    birth = page.get_by_role("group", name="Date of birth")
    for part in ("Day", "Month", "Year"):
        box = birth.get_by_label(part)
        expect(box).to_have_attribute("type", "text")  # not the browser's own mm/dd/yyyy picker
        expect(box).to_have_attribute("inputmode", "numeric")
    page.get_by_role("button", name="Register patient").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()  # read out first, before the form
    expected = [
        "Enter the patient's first name",
        "Enter the patient's last name",
        "Enter the patient's date of birth",
        "Choose the patient's gender",
    ]
    expect(summary.get_by_role("link")).to_have_text(expected)
    _fits(page, width)
    summary.get_by_role("link", name="Enter the patient's date of birth").click()
    expect(birth.get_by_label("Day")).to_be_focused()
    summary.get_by_role("link", name="Enter the patient's last name").click()
    expect(page.get_by_label("Last name")).to_be_focused()

    # A date that does not exist is named as such, at the field, with what was typed kept.
    _type_date(page, "Date of birth", dt.date(1980, 2, 1))
    birth.get_by_label("Day").fill("31")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Date of birth must be a real date")
    expect(page.get_by_role("group", name="Date of birth")).to_contain_text("Date of birth must be a real date")
    expect(page.get_by_role("group", name="Date of birth").get_by_label("Day")).to_have_value("31")
    assert not Patient.objects.filter(first_name="").exists()


# --- Item 6 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_after_a_time_is_taken_the_search_keeps_its_date_and_the_reason_typed(schedule, page, console_errors, width):
    _open(page, width)
    wednesday = schedule_day(2)
    reason = "Rash on both arms since Friday"
    sign_in(page, "alice")
    page.goto(reverse("scheduling:book"))
    _type_date(page, "From", wednesday)
    page.get_by_role("button", name="Show free times").click()
    page.get_by_test_id(f"day-{wednesday.isoformat()}").get_by_role("button", name="09:00 with").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check and book your appointment")
    page.get_by_label("Follow-up").check()
    page.get_by_label("What is the appointment about?").fill(reason)
    # Meanwhile reception gives 09:00 to someone else.
    _book(schedule, schedule.carol, 2, NINE)
    page.get_by_role("button", name="Book appointment").click()

    expect(page.get_by_text("That time has just been taken")).to_be_visible()
    _answered(console_errors, 409)
    expect(page.get_by_test_id(f"day-{wednesday.isoformat()}")).to_be_visible()
    searched_from = page.get_by_role("group", name="From", exact=True)
    expect(searched_from.get_by_label("Day")).to_have_value(str(wednesday.day))
    expect(searched_from.get_by_label("Month")).to_have_value(str(wednesday.month))
    _fits(page, width)
    page.get_by_test_id(f"day-{wednesday.isoformat()}").get_by_role("button", name="10:00 with").click()
    expect(page.get_by_label("What is the appointment about?")).to_have_value(reason)
    expect(page.get_by_label("Follow-up")).to_be_checked()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Your appointment is booked for {when(schedule_time(2, TEN), year=False)}"
    )
    assert Appointment.objects.get(slot=slot_at(schedule, 2, TEN)).reason_for_visit == reason


@pytest.mark.parametrize("width", WIDTHS)
def test_a_date_out_of_range_gets_a_clear_message_not_an_error_page(schedule, page, width):
    _open(page, width)
    sign_in(page, "reception")
    response = page.goto(f"{reverse('scheduling:day')}?date=9999-12-31")
    assert response is not None and response.status < 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Day list")
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("must be between 1800 and 2999")
    # The day list still shows a day (today) rather than nothing at all.
    expect(page.get_by_test_id("day-heading")).to_contain_text(long_day(schedule_day(0)))
    _fits(page, width)
