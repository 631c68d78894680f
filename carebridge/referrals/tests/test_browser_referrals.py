"""In a real browser, the referral's journey: the GP refers Alice from a consultation, with an ECG
attached; the consultant at Heartlands triages it; the hospital's reception books it into his clinic and,
on the day, checks Alice in (seeing the referral's administrative facts, not its reason); the consultant
finds her arrived on My day, with the referral pack one click away. Then the key pages again on a phone.

The clock stops on the suite's base day at 07:00 (a weekday, before the clinic opens); the live server runs
in this process, so its pages see the same clock. Set CAREBRIDGE_SCREENSHOT_DIR to keep a picture of each
step.
"""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.fixtures import Settings

from carebridge.clinical.models import Consultation
from carebridge.clinical.services import allergy_record, consultation_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.referrals.models import Referral, ReferralStatus
from carebridge.scheduling import services as scheduling
from carebridge.scheduling.models import AppointmentStatus
from carebridge.testing.browser import sign_in
from carebridge.testing.days import BASE_DAY
from carebridge.testing.world import World

pytestmark = pytest.mark.browser

REASON = "Exertional chest tightness despite GTN; ?unstable angina"
SYMPTOMS = "Tight chest walking uphill for six weeks, eased by rest"
INVESTIGATIONS = ("Exercise tolerance test", "Echocardiogram")
ATTACHMENT = "ecg-trace.pdf"
WEEKDAYS_8_TO_6 = {weekday: [(dt.time(8, 0), dt.time(18, 0))] for weekday in range(5)}
PHONE = ViewportSize(width=375, height=812)


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    # Signed out before the test goes on: a page.goto() now would cancel the sign-out on its way.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Carebridge")


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("CAREBRIDGE_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"referrals-{name}.png"), full_page=True)


def _problems_on_a_phone(page: Page, name: str) -> list[str]:
    """What is wrong with the page as a phone shows it: something making it scroll sideways (a table or a
    long word wider than the screen), or template code shown as text (a comment Django did not read as one)."""
    _shot(page, f"phone-{name}")
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        problems.append(f"{name} ({page.url}) is {overflow}px wider than the screen")
    text = page.locator("body").inner_text()
    if any(code in text for code in ("{#", "#}", "{%", "{{")):
        problems.append(f"{name} ({page.url}) shows template code")
    return problems


def _small_pdf(folder: Path) -> Path:
    """A one-page PDF, whole (the attachment check reads its header and its end-of-file marker)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="12-lead ECG: sinus rhythm, ST depression V4-V6 on exertion")
    path = folder / ATTACHMENT
    path.write_bytes(bytes(pdf.output()))
    return path


def _cardiology_clinic(world: World, settings: Settings) -> None:
    """Dr Okafor's Cardiology clinic at Heartlands: weekday mornings from 09:00, in 30-minute slots."""
    assert BASE_DAY.weekday() < 5  # the clinic runs on the base day, whose 07:00 is before it opens
    settings.SLOT_HORIZON_DAYS = 13
    command = Actor.command_line()
    scheduling.opening_hours_set(actor=command, facility=world.hospital, hours=WEEKDAYS_8_TO_6)
    for weekday in range(5):
        scheduling.session_add(
            actor=command,
            clinician=world.specialist.clinician,
            weekday=weekday,
            start_time=dt.time(9, 0),
            end_time=dt.time(12, 0),
            slot_minutes=30,
            appointment_types=["Specialist Consultation"],
        )


def _alice_seen_by_the_gp(world: World) -> Consultation:
    """Alice's consultation at the surgery (angina, now on her problem list), and an allergy of hers."""
    gp = Actor.command_line(world.gp)
    allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Rash", severity="moderate")
    return consultation_record(
        actor=gp,
        patient=world.alice,
        symptoms=SYMPTOMS,
        findings="BP 142/88, heart sounds normal",
        plan="Refer to cardiology",
        condition_code="194828000",  # Angina
    )


def test_a_referral_from_consultation_to_the_consultants_clinic(
    world: World, settings: Settings, page: Page, tmp_path: Path
) -> None:
    consultation = _alice_seen_by_the_gp(world)
    _cardiology_clinic(world, settings)
    attachment = _small_pdf(tmp_path)
    page.set_viewport_size(ViewportSize(width=1280, height=900))

    # 1. The GP opens the consultation and refers Alice to Cardiology at Heartlands.
    sign_in(page, "gp")
    page.goto(f"/clinical/consultations/{consultation.public_id}/")
    page.get_by_role("link", name="Refer to a hospital service").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer to a hospital service")
    expect(page.get_by_label("Clinical summary")).to_have_value(re.compile(re.escape(SYMPTOMS)))
    page.get_by_label("Hospital service").select_option(label="Heartlands Hospital — Cardiology")
    page.get_by_label("Urgent").check()
    page.get_by_label("Reason for referral").fill(REASON)
    page.get_by_label("Investigations requested (optional)").fill("\n".join(INVESTIGATIONS))
    page.get_by_label("Attachments").set_input_files(attachment)
    _shot(page, "1-refer")
    page.get_by_role("button", name="Send referral").click()

    expect(page.get_by_role("status")).to_contain_text("Alice Archer is referred to Cardiology at Heartlands Hospital.")
    expect(page.get_by_test_id("referral-title")).to_have_text("Referral to Cardiology, Heartlands Hospital")
    expect(page.get_by_test_id("referral-status")).to_have_text("Awaiting triage")
    expect(page.get_by_test_id("priority")).to_have_text("Urgent")
    expect(page.get_by_test_id("reason")).to_have_text(REASON)
    expect(page.get_by_test_id("clinical-summary")).to_contain_text(SYMPTOMS)
    for investigation in INVESTIGATIONS:
        expect(page.get_by_test_id("referral-clinical")).to_contain_text(investigation)
    expect(page.get_by_test_id("documents")).to_contain_text(ATTACHMENT)
    ubrn_shown = page.get_by_test_id("ubrn").inner_text()
    ubrn = re.sub(r"\D", "", ubrn_shown)
    assert len(ubrn) == 12, ubrn_shown
    expect(page.get_by_role("status")).to_contain_text(ubrn_shown)
    to_the_hospital = page.get_by_test_id("delivery-email").filter(has_text=ubrn_shown)
    expect(to_the_hospital).to_contain_text("Waiting to be sent")
    referral_url = page.url
    _shot(page, "2-referral-sent")
    _sign_out(page)

    # 2. The consultant finds it on the worklist, urgent, and accepts it.
    sign_in(page, "specialist")
    page.get_by_role("link", name="Referrals").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral worklist")
    row = page.get_by_test_id("referral-row").filter(has_text=ubrn)
    expect(row).to_contain_text("ARCHER, Alice")
    expect(row.get_by_test_id("priority")).to_have_text("Urgent")
    expect(row.get_by_test_id("reason")).to_have_text(REASON)
    expect(row.get_by_test_id("status")).to_have_text("Awaiting triage")
    _shot(page, "3-worklist")
    row.get_by_test_id("open-referral").click()
    page.get_by_test_id("triage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage a referral")
    expect(page.get_by_test_id("reason")).to_have_text(REASON)
    page.get_by_label("Accept").check()
    _shot(page, "4-triage")
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_role("status")).to_contain_text(f"Referral {ubrn} triaged: accepted, to book.")
    expect(page.get_by_test_id("referral-status")).to_have_text("Accepted, to book")
    _sign_out(page)

    # 3. The hospital's reception books the first time in Dr Okafor's clinic: today, 09:00.
    sign_in(page, "hospital-reception")
    page.get_by_role("link", name="Referrals").first.click()
    page.get_by_test_id("referral-row").filter(has_text=ubrn).get_by_test_id("open-referral").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Accepted, to book")
    expect(page.locator("main")).not_to_contain_text(REASON)
    page.get_by_test_id("book").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book the referral's appointment")
    first_day = page.get_by_test_id("slot-day").first
    expect(first_day).to_contain_text(f"{BASE_DAY:%A} {BASE_DAY.day} {BASE_DAY:%B %Y}")
    page.get_by_label(re.compile(r"^09:00 with")).first.check()
    _shot(page, "5-book")
    page.get_by_role("button", name="Book the appointment").click()
    expect(page.get_by_role("status")).to_contain_text(f"Booked with {world.specialist.clinician.display_name}")
    expect(page.get_by_role("status")).to_contain_text("at 09:00. Alice Archer is sent a confirmation.")
    expect(page.get_by_test_id("referral-status")).to_have_text("Appointment booked")
    expect(page.get_by_test_id("appointment")).to_contain_text("09:00")

    _sign_out(page)

    # 4. Alice arrives at 08:50; reception, signed in again (idle sessions end after 30 minutes), checks
    # her in from the day list.
    clock.freeze(clock.london_datetime(BASE_DAY, dt.time(8, 50)))
    sign_in(page, "hospital-reception")
    page.get_by_role("link", name="Day list").first.click()
    arriving = page.get_by_role("row").filter(has_text="ARCHER, Alice").filter(has_text="09:00")
    arriving.get_by_role("button", name="Check in Alice Archer").click()
    confirmations = page.get_by_role("status")
    expect(confirmations.filter(has_text="checked in")).to_contain_text("Alice Archer is checked in for 09:00.")
    arrival = confirmations.filter(has_text="Referral")
    expect(arrival).to_contain_text(f"Referral {ubrn}: Urgent.")
    expect(arrival).to_contain_text("Waited 0 days of the 28-day target")
    expect(arrival).to_contain_text(f"The referral pack is with {world.specialist.clinician.display_name}.")
    expect(page.locator("main")).not_to_contain_text(REASON)
    expect(page.locator("main")).not_to_contain_text("chest")
    _shot(page, "6-checked-in")
    _sign_out(page)

    # 5. The consultant's My day: Alice has arrived, and the pack is one click away.
    sign_in(page, "specialist")
    page.get_by_role("link", name="My day").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My day")
    seen = page.get_by_test_id("my-day").get_by_role("row").filter(has_text="ARCHER, Alice").filter(has_text="09:00")
    expect(seen).to_contain_text("Arrived")
    expect(seen.get_by_test_id("priority")).to_have_text("Urgent")
    expect(seen.get_by_test_id("wait")).to_have_text("Waited 0 days of the 28-day target")
    _shot(page, "7-my-day")
    seen.get_by_role("link", name="Referral pack for Alice Archer").click()
    expect(page.get_by_text("Referral pack", exact=True)).to_be_visible()
    expect(page.get_by_test_id("arrival")).to_contain_text("Arrived")
    expect(page.get_by_test_id("reason")).to_have_text(REASON)
    expect(page.get_by_test_id("summary")).to_contain_text(SYMPTOMS)
    for investigation in INVESTIGATIONS:
        expect(page.get_by_test_id("investigations")).to_contain_text(investigation)
    expect(page.get_by_test_id("medicines")).to_contain_text("Simvastatin 20mg")
    expect(page.get_by_test_id("allergies")).to_contain_text("Penicillins")
    expect(page.get_by_test_id("problems")).to_contain_text("Angina")
    documents = page.get_by_test_id("documents")
    expect(documents).to_contain_text(ATTACHMENT)
    expect(documents.get_by_role("link")).to_have_count(2)  # the letter, and the ECG
    _shot(page, "8-pack")
    pack_url = page.url

    referral = Referral.objects.select_related("appointment").get(ubrn=ubrn)
    assert referral.status == ReferralStatus.IN_PROGRESS
    assert referral.appointment is not None and referral.appointment.status == AppointmentStatus.ARRIVED
    assert referral.appointment.starts_at == clock.london_datetime(BASE_DAY, dt.time(9, 0))

    # The key pages on a phone, as each person sees them: each still says what it said, and fits the screen.
    page.set_viewport_size(PHONE)
    triage_url, book_url = f"{referral_url}triage/", f"{referral_url}book/"
    wrong = []
    for name, url, says in (
        ("worklist", "/referrals/worklist/", ubrn),
        ("referral-for-the-consultant", referral_url, "Appointment booked"),
        ("triage", triage_url, "This referral has been triaged"),
        ("pack", pack_url, REASON),
        ("my-day", "/appointments/my-day/", "Referral pack"),
    ):
        page.goto(url)
        expect(page.locator("main")).to_contain_text(says)
        wrong += _problems_on_a_phone(page, name)
    _sign_out(page)
    sign_in(page, "gp")
    page.goto(f"/clinical/consultations/{consultation.public_id}/")
    page.get_by_role("link", name="Refer to a hospital service").click()
    expect(page.get_by_label("Hospital service")).to_be_visible()
    wrong += _problems_on_a_phone(page, "refer")
    page.goto(referral_url)
    expect(page.get_by_test_id("delivery-email").filter(has_text=ubrn_shown)).to_contain_text("Waiting to be sent")
    wrong += _problems_on_a_phone(page, "referral-for-the-gp")
    _sign_out(page)
    sign_in(page, "hospital-reception")
    for name, url, says in (
        ("referral-for-reception", referral_url, "administrative details"),
        ("book", book_url, "booked already"),
        ("day-list", "/appointments/day/", "ARCHER, Alice"),
    ):
        page.goto(url)
        expect(page.locator("main")).to_contain_text(says)
        wrong += _problems_on_a_phone(page, name)
    assert not wrong, wrong
