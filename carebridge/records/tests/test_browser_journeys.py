"""In a real browser: reception registers and finds a patient; a patient sees their own record only."""

import pytest
from playwright.sync_api import expect

from carebridge.patients.models import Patient
from carebridge.testing.browser import sign_in

pytestmark = pytest.mark.browser


def _fill_registration(page, *, nhs_number: str, first_name: str, last_name: str) -> None:
    page.get_by_label("NHS number").fill(nhs_number)
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    # The NHS.UK date input: a group named by its legend, with a box each for the day, month and year.
    birth = page.get_by_role("group", name="Date of birth")
    birth.get_by_label("Day").fill("12")
    birth.get_by_label("Month").fill("4")
    birth.get_by_label("Year").fill("1991")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Phone number").fill("07700900321")
    page.get_by_label("Postcode").fill("B15 2TT")
    page.get_by_role("button", name="Register patient").click()


def test_reception_registers_a_patient_is_refused_a_bad_number_and_finds_the_patient(world, page):
    sign_in(page, "reception")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reception and appointments at Oak Tree Surgery")

    page.get_by_role("link", name="Register a patient").first.click()
    _fill_registration(page, nhs_number="987 654 3211", first_name="Zara", last_name="Quinn")
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("This is not a valid NHS number")
    assert not Patient.objects.filter(last_name="Quinn").exists()

    page.get_by_label("NHS number").fill("987 654 3210")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_test_id("patient-name")).to_have_text("Zara QUINN")
    expect(page.get_by_test_id("nhs-number")).to_contain_text("987 654 3210")
    assert Patient.objects.get(last_name="Quinn").registered_surgery == world.surgery

    page.get_by_role("link", name="Find a patient").first.click()
    page.get_by_label("NHS number").fill("9876543210")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("QUINN, Zara")
    expect(results).to_contain_text("987 654 3210")
    results.get_by_role("link", name="QUINN, Zara").click()
    expect(page.get_by_test_id("patient-name")).to_have_text("Zara QUINN")


def test_a_patient_sees_their_own_record_and_no_one_elses(world, page, console_errors):
    sign_in(page, "alice")
    expect(page.get_by_test_id("patient-name")).to_have_text("Alice ARCHER")
    expect(page.get_by_test_id("nhs-number")).to_contain_text("943 476 5919")
    expect(page.get_by_test_id("prescriptions")).to_contain_text("Simvastatin")
    expect(page.get_by_test_id("access-log")).to_be_visible()

    response = page.goto(f"/patients/{world.bob.public_id}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text("Baker")
    # The browser reports the 404 itself as a console error; that one was the point of the test.
    assert console_errors and all("404" in error for error in console_errors)
    console_errors.clear()
