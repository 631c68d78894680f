"""In a real browser, on a desktop and a phone: the patient asks for a copy of their record, a records clerk
produces and releases it, and the patient downloads the PDF."""

import pytest
from playwright.sync_api import ViewportSize, expect

from carebridge.subject_access.models import RequestStatus, SubjectAccessRequest, one_month_after
from carebridge.subject_access.tests.conftest import pdf_text
from carebridge.testing.browser import sign_in
from carebridge.testing.days import BASE_DAY, long_day

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_the_patient_asks_for_a_copy_and_downloads_it_once_released(world, clerk, page, width, tmp_path):
    page.set_viewport_size(ViewportSize(width=width, height=900))
    sign_in(page, "alice")
    page.get_by_test_id("request-copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a copy of your record")
    page.get_by_role("button", name="Request a copy of my record").click()
    expect(page.get_by_test_id("request-status")).to_have_text(
        f"Being prepared: due by {long_day(one_month_after(BASE_DAY))}"
    )
    expect(page.get_by_test_id("download-copy")).to_have_count(0)
    request = SubjectAccessRequest.objects.get(patient=world.alice)

    page.context.clear_cookies()
    sign_in(page, "clerk")
    page.goto("/subject-access/")
    page.get_by_test_id("sar-queue").get_by_role("link", name="Alice Archer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Subject access request {request.reference}")
    page.get_by_role("button", name="Produce the copy").click()
    expect(page.get_by_test_id("sar-status")).to_have_text("Copy produced, not yet released")
    page.get_by_role("button", name="I have read the copy: release it to the patient").click()
    expect(page.get_by_test_id("sar-status")).to_have_text("Released to the patient")

    page.context.clear_cookies()
    sign_in(page, "alice")
    page.goto("/subject-access/mine/")
    expect(page.get_by_test_id("request-status")).to_have_text(f"Ready to download since {long_day(BASE_DAY)}")
    with page.expect_download() as downloading:
        page.get_by_test_id("download-copy").click()
    download = downloading.value
    assert download.suggested_filename == f"health-record-{request.reference}.pdf"
    saved = tmp_path / "copy.pdf"
    download.save_as(saved)
    text = pdf_text(saved.read_bytes())
    assert "Your health record" in text and "Alice Archer" in text and "Simvastatin" in text
    assert SubjectAccessRequest.objects.get(pk=request.pk).status == RequestStatus.RELEASED
