"""In a real browser, on a wide screen and a phone: the practice manager opens the reports from the home
page, narrows them to one clinician, and downloads the appointments table as CSV."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from carebridge.reports.tests.worlds import build_appointments_world
from carebridge.testing.browser import sign_in

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    folder = os.environ.get("CAREBRIDGE_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"reports-{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_manager_filters_the_reports_and_downloads_a_csv(world, settings, page, width):
    filled = build_appointments_world(world, settings)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "manager")

    page.get_by_role("link", name="Reports: appointments, access, prescribing and referrals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    expect(page.get_by_role("img", name="Appointments per week")).to_be_visible()
    appointments = page.get_by_test_id("table-appointments")
    expect(appointments).to_contain_text("Dr. Grace Patel")
    expect(appointments).to_contain_text("Nurse Nia Jones")
    # Charts and tables fit the screen: nothing wider than the phone, not even a table to scroll.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _shot(page, f"all-{width}")

    page.get_by_test_id("filter-reports").get_by_label("Clinician").select_option(label="Nurse Nia Jones")
    page.get_by_role("button", name="Show reports").click()
    expect(page.get_by_test_id("period-shown")).to_contain_text("for Nurse Nia Jones")
    expect(appointments).to_contain_text("Nurse Nia Jones")
    expect(appointments).not_to_contain_text("Dr. Grace Patel")
    _shot(page, f"nurse-{width}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download appointments as CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("S1-appointments-")
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0].startswith("Week beginning,Clinician,Booked,Attended,Did not attend,DNA rate")
    nurse_rows = [line for line in lines[1:] if ",Nurse Nia Jones," in line]
    assert nurse_rows and len(nurse_rows) == len(lines) - 1
    assert f"{filled.first_monday},Nurse Nia Jones,1,1,0,0.0,0,0,0,4,1,25.0" in nurse_rows
