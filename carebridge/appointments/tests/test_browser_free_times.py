"""In a real browser: the free times come one day at a time. With JavaScript, "Next day" swaps in just the
list (htmx), moves focus to the new day's heading, updates the address and the date boxes, and Back
returns to the day before; without JavaScript the same links load the whole page.

The `schedule` fixture gives the GP free times 09:00-12:00 every weekday and stops the clock on a Monday
at 07:00 (carebridge/testing/schedule.py).
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from carebridge.scheduling.models import Appointment
from carebridge.testing.browser import sign_in
from carebridge.testing.days import long_day
from carebridge.testing.schedule import schedule_day, slot_at

pytestmark = pytest.mark.browser

MONDAY, TUESDAY = schedule_day(0), schedule_day(1)


def _day_heading(page):
    return page.get_by_role("heading", level=2, name=re.compile("^Free times on"))


@pytest.mark.parametrize("width", [1280, 375])
def test_next_day_swaps_in_the_list_and_back_returns(schedule, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "alice")
    page.get_by_test_id("book-appointment").click()
    expect(_day_heading(page)).to_have_text(f"Free times on {long_day(MONDAY)}")
    expect(page.get_by_role("link", name=re.compile("^Previous day"))).to_have_count(0)
    # htmx takes over the day links as the page finishes loading; pressed before then, a link is followed
    # as an ordinary one (which works, but loads the whole page again, and is not what is tested here).
    page.wait_for_load_state("load")
    # Marks this document: still there after the swap only if the page was not loaded again.
    page.evaluate("window.sameDocument = true")

    page.get_by_role("link", name=f"Next day: {long_day(TUESDAY, year=False)}").click()

    expect(_day_heading(page)).to_have_text(f"Free times on {long_day(TUESDAY)}")
    expect(_day_heading(page)).to_be_focused()
    assert page.evaluate("window.sameDocument") is True
    expect(page).to_have_url(re.compile(rf"from_date={TUESDAY.isoformat()}"))
    expect(page.get_by_role("group", name="From").get_by_label("Day")).to_have_value(str(TUESDAY.day))
    expect(page.get_by_test_id(f"day-{MONDAY}")).to_have_count(0)

    page.go_back()

    expect(_day_heading(page)).to_have_text(f"Free times on {long_day(MONDAY)}")
    expect(page.get_by_role("link", name=f"Next day: {long_day(TUESDAY, year=False)}")).to_be_visible()
    # Back loads the whole page again (htmx keeps no copy of it), so its NHS.UK components start.
    expect(page.locator("header.nhsuk-header")).to_have_attribute("data-nhsuk-header-init", "")


def test_a_time_in_a_swapped_in_list_is_chosen_with_the_keyboard(schedule, page):
    sign_in(page, "alice")
    page.get_by_test_id("book-appointment").click()
    page.get_by_role("link", name=f"Next day: {long_day(TUESDAY, year=False)}").click()
    expect(_day_heading(page)).to_have_text(f"Free times on {long_day(TUESDAY)}")

    # A link drawn as a button is followed with the space bar too: the NHS.UK button, started on the new
    # list once htmx has settled it (the component marks itself when started).
    ten = page.get_by_test_id(f"day-{TUESDAY}").get_by_role("button", name=re.compile(r"^10:00 with"))
    expect(ten).to_have_attribute("data-nhsuk-button-init", "")
    ten.focus()
    page.keyboard.press("Space")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check and book your appointment")
    page.get_by_label("Routine Consultation").check()
    page.get_by_label("What is the appointment about?").fill("Sore knee")
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointments")
    assert Appointment.objects.get(patient=schedule.alice, slot__isnull=False).slot == slot_at(
        schedule, 1, dt.time(10, 0)
    )


def test_without_javascript_the_links_load_the_next_day(schedule, browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, "reception")
        page.goto(f"/appointments/patients/{schedule.alice.public_id}/book/")
        expect(_day_heading(page)).to_have_text(f"Free times on {long_day(MONDAY)}")

        page.get_by_role("link", name=f"Next day: {long_day(TUESDAY, year=False)}").click()

        expect(_day_heading(page)).to_have_text(f"Free times on {long_day(TUESDAY)}")
        expect(page).to_have_url(re.compile(rf"from_date={TUESDAY.isoformat()}"))
        page.get_by_role("link", name=f"Previous day: {long_day(MONDAY, year=False)}").click()
        expect(_day_heading(page)).to_have_text(f"Free times on {long_day(MONDAY)}")
    finally:
        context.close()
