"""In a real browser, on a desktop and a phone: a records clerk finds two records of one person and
merges them, through the confirmation page."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from carebridge.core import clock
from carebridge.patients.models import Gender, Patient, PatientMerge
from carebridge.testing.browser import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_a_records_clerk_finds_two_duplicates_and_merges_them(world, clerk, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    now = clock.now()
    second = Patient.objects.create(
        source_id="P-alice-2",
        first_name="Alice",
        last_name="Archer",
        date_of_birth=dt.date(1980, 5, 17),
        gender=Gender.FEMALE,
        registration_date=dt.date(2024, 3, 1),
        registered_surgery=world.surgery,
        created_at=now,
        updated_at=now,
    )
    sign_in(page, "clerk")

    page.get_by_role("link", name="Possible duplicate records").click()
    pairs = page.get_by_test_id("duplicate-pairs")
    expect(pairs).to_contain_text("Same name and date of birth")
    pairs.get_by_role("link", name="Compare and merge").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Merge two records")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Choose the record to keep")

    page.get_by_label("Alice Archer, born Saturday 17 May 1980, NHS number 943 476 5919").check()
    page.get_by_label("Why are these the same person?").fill("Registered twice, once without an NHS number")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check before merging")
    expect(page.get_by_test_id("merge-summary")).to_contain_text("is kept, with its details as they are")
    assert not PatientMerge.objects.exists()
    page.get_by_role("button", name="Merge records").click()

    expect(page.get_by_text("Records merged.")).to_be_visible()
    expect(page.get_by_test_id("patient-name")).to_have_text("Alice ARCHER")
    second.refresh_from_db()
    assert second.merged_into == world.alice
