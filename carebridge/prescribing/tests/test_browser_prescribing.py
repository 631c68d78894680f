"""In a real browser: the GP sees Alice from My day, records the consultation and prescribes amoxicillin
though she is allergic to penicillin (stopped, then overridden with a reason), and prints it; Alice sees
it and asks for a repeat; the GP approves the repeat; reception, opening the same record, sees none of it.

The `schedule` fixture stops the clock on a Monday at 07:00; the live server runs in this process, so
its pages see the same clock. Set CAREBRIDGE_SCREENSHOT_DIR to keep a picture of each step.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from carebridge.clinical.models import Consultation
from carebridge.clinical.services import allergy_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.prescribing.models import Prescription, RepeatRequest, RepeatRequestStatus
from carebridge.scheduling import services as scheduling
from carebridge.testing.browser import sign_in
from carebridge.testing.schedule import schedule_day, slot_at

pytestmark = pytest.mark.browser

ALLERGY_REASON = "Rash in childhood was viral; tolerated amoxicillin in 2019"


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    # Signed out before the test goes on: a page.goto() now would cancel the sign-out on its way.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Carebridge")


def _shot(page, name: str) -> None:
    folder = os.environ.get("CAREBRIDGE_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"prescribing-{name}.png"), full_page=True)


def _sent_back_with_422(console_errors) -> None:
    """A form sent back answers 422, which the browser reports as a console error: that one is expected."""
    assert len(console_errors) == 1 and "status of 422" in console_errors[0], console_errors
    console_errors.clear()


def test_consultation_prescription_repeat_and_what_reception_sees(schedule, page, console_errors):
    alice = schedule.alice
    allergy_record(
        actor=Actor.command_line(schedule.gp),
        patient=alice,
        substance="penicillins",
        reaction="Rash",
        severity="moderate",
    )
    appointment = scheduling.appointment_book(
        actor=Actor.command_line(schedule.reception),
        patient=alice,
        slot=slot_at(schedule, 0, dt.time(9, 0)),
        appointment_type="Routine Consultation",
        reason="Sore throat",
    )
    clock.freeze(appointment.starts_at + dt.timedelta(minutes=5))

    # The GP opens today's appointment from My day and records the consultation.
    sign_in(page, "gp")
    page.get_by_role("link", name="My day").first.click()
    row = page.get_by_test_id(f"row-{appointment.public_id}")
    row.get_by_role("link", name="Record consultation for Alice Archer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a consultation")
    expect(page.get_by_test_id("allergies")).to_contain_text("Penicillins")
    expect(page.get_by_test_id("consultation-appointment")).to_contain_text("Sore throat")
    page.get_by_label("What the patient describes").fill("Sore throat for four days, painful to swallow")
    page.get_by_label("Examination findings").fill("Temperature 38.4; pus on both tonsils; tender neck glands")
    page.get_by_label("Condition", exact=True).select_option(label="Acute tonsillitis")
    page.get_by_label("Plan").fill("Antibiotics; return if worse")
    _shot(page, "1-consultation")
    page.get_by_role("button", name="Save consultation").click()
    expect(page.get_by_role("status")).to_contain_text("The consultation with Alice Archer is recorded.")
    expect(page.get_by_test_id("symptoms")).to_contain_text("painful to swallow")
    expect(page.get_by_test_id("condition")).to_contain_text("Acute tonsillitis")
    consultation = Consultation.objects.get(patient=alice)
    assert consultation.appointment == appointment and consultation.condition.code == "17741008"

    # She prescribes amoxicillin as a repeat; the penicillin allergy stops it.
    page.get_by_test_id("prescribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prescribe")
    expect(page.get_by_test_id("allergies")).to_contain_text("Penicillins")
    expect(page.get_by_label("Condition treated")).to_have_value(str(consultation.condition.public_id))
    page.get_by_label("Medicine", exact=True).fill("amoxicillin")
    page.get_by_label("Dose", exact=True).fill("500")
    page.get_by_label("Unit", exact=True).fill("mg")
    page.get_by_label("How often").select_option("Three times daily")
    page.get_by_label("For how many days").fill("7")
    page.get_by_label("Repeat", exact=True).check()
    page.get_by_label("Number of issues").fill("3")
    review = schedule_day(0) + dt.timedelta(days=90)
    page.get_by_label("Day", exact=True).fill(str(review.day))
    page.get_by_label("Month", exact=True).fill(str(review.month))
    page.get_by_label("Year", exact=True).fill(str(review.year))
    page.get_by_role("button", name="Issue prescription").click()
    warnings = page.get_by_test_id("safety-warnings")
    expect(warnings).to_contain_text(
        "The patient is allergic to Penicillins (reaction: Rash): Amoxicillin is one of the penicillins."
    )
    _sent_back_with_422(console_errors)
    assert not Prescription.objects.filter(medicine_key="amoxicillin").exists()
    _shot(page, "2-stopped-by-the-allergy")

    # She overrides it with her reason, and issues it.
    page.get_by_label("Reason to go ahead anyway").fill(ALLERGY_REASON)
    page.get_by_role("button", name="Issue prescription").click()
    expect(page.get_by_role("status")).to_contain_text("Amoxicillin 500mg is prescribed for Alice Archer.")
    expect(page.get_by_test_id("prescription-title")).to_have_text("Amoxicillin 500mg")
    expect(page.get_by_test_id("overrides")).to_contain_text(ALLERGY_REASON)
    expect(page.get_by_test_id("course")).to_contain_text("issue 1 of 3")
    prescription = Prescription.objects.get(medicine_key="amoxicillin")
    assert prescription.quantity_value == 21 and prescription.review_date == review
    assert prescription.overrides.get().reason == ALLERGY_REASON
    _shot(page, "3-prescription")

    # And prints it.
    pdf = page.request.get(page.get_by_test_id("print").get_attribute("href"))
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    _sign_out(page)

    # Alice sees it and asks for a repeat.
    sign_in(page, "alice")
    page.get_by_test_id("your-medicines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your medicines")
    card = page.get_by_test_id(f"medicine-{prescription.public_id}")
    expect(card).to_contain_text("Amoxicillin 500mg")
    expect(card.get_by_test_id("medicine-status")).to_contain_text("Ready for your pharmacy")
    card.locator("summary").click()
    card.get_by_label("Anything the surgery should know? (optional)").fill("Still sore at night")
    _shot(page, "4-patient-medicines")
    card.get_by_role("button", name="Request a repeat of Amoxicillin").click()
    expect(page.get_by_role("status")).to_contain_text("You have asked for a repeat of Amoxicillin.")
    expect(page.get_by_test_id("repeat-requests")).to_contain_text("Waiting for the surgery")
    request = RepeatRequest.objects.get(prescription=prescription)
    assert request.status == RepeatRequestStatus.PENDING and request.note == "Still sore at night"
    _sign_out(page)

    # The GP approves it from the queue: the allergy is checked again, and she gives her reason again.
    sign_in(page, "gp")
    page.get_by_role("link", name="Repeat requests").first.click()
    queued = page.get_by_test_id(f"request-{request.public_id}")
    expect(queued).to_contain_text("Still sore at night")
    expect(queued.get_by_test_id("allergies")).to_contain_text("Penicillins")
    queued.get_by_role("button", name="Approve Alice Archer's repeat").click()
    expect(page.get_by_test_id(f"request-{request.public_id}").get_by_test_id("safety-warnings")).to_contain_text(
        "Amoxicillin is one of the penicillins"
    )
    _sent_back_with_422(console_errors)
    page.get_by_test_id(f"request-{request.public_id}").get_by_label("Reason to go ahead anyway").fill(ALLERGY_REASON)
    _shot(page, "5-queue-warning")
    page.get_by_role("button", name="Approve Alice Archer's repeat").click()
    expect(page.get_by_role("status")).to_contain_text("Alice Archer's repeat of Amoxicillin is issued (issue 2 of 3).")
    expect(page.get_by_test_id("no-requests")).to_be_visible()
    request.refresh_from_db()
    assert request.status == RepeatRequestStatus.APPROVED and request.issued.issue_number == 2
    _sign_out(page)

    # Reception opens the same record: her details and appointments, nothing clinical.
    sign_in(page, "reception")
    page.goto(f"/patients/{alice.public_id}/")
    expect(page.get_by_test_id("patient-name")).to_have_text("Alice ARCHER")
    expect(page.get_by_test_id("appointments")).to_contain_text("Sore throat")  # the reason, at her own surgery
    main = page.locator("main")
    for clinical in (
        "painful to swallow",
        "Acute tonsillitis",
        "Amoxicillin",
        "Penicillins",
        ALLERGY_REASON,
        "Simvastatin",
    ):
        expect(main).not_to_contain_text(clinical)
    for section in ("allergies", "consultations", "active-problems", "current-medicines", "prescriptions"):
        expect(page.get_by_test_id(section)).to_have_count(0)
    _shot(page, "6-reception-record")
    assert page.request.get(f"/prescribing/{prescription.public_id}/").status == 404
    assert page.request.get(f"/clinical/consultations/{consultation.public_id}/").status == 404
