"""A whole record for Alice (and a little of Bob's, which must never appear in hers), and the records staff
who handle subject access requests."""

import datetime as dt
import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from carebridge.accounts.models import User
from carebridge.clinical import services as clinical
from carebridge.core.actor import Actor
from carebridge.core.roles import AccountKind
from carebridge.organisations.models import AccessLevel, StaffMember
from carebridge.prescribing import services as prescribing
from carebridge.prescribing.models import Course, Prescription
from carebridge.referrals import services as referrals
from carebridge.testing.world import PASSWORD


def staff_user(username: str, job: str, facility, level: AccessLevel) -> User:
    user = User(username=username, kind=AccountKind.STAFF, first_name="Rob", last_name=username.title())
    user.set_password(PASSWORD)
    user.save()
    StaffMember.objects.create(
        user=user,
        source_id=f"ST-{username}",
        first_name="Rob",
        last_name=username.title(),
        job_title=job,
        facility=facility,
        employment_status="full_time",
        start_date=dt.date(2019, 1, 1),
        access_level=level,
    )
    return user


@pytest.fixture
def clerk(world) -> User:
    """A medical records clerk at Alice's surgery, Standard access: handles its subject access requests."""
    return staff_user("clerk", "Medical Records Clerk", world.surgery, AccessLevel.STANDARD)


@pytest.fixture
def basic_clerk(world) -> User:
    return staff_user("basic-clerk", "Medical Records Clerk", world.surgery, AccessLevel.BASIC)


@pytest.fixture
def other_clerk(world) -> User:
    """Records staff at Bob's surgery: Alice is nothing to them."""
    return staff_user("other-clerk", "Medical Records Clerk", world.other_surgery, AccessLevel.STANDARD)


def small_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="ECG: sinus rhythm")
    return bytes(pdf.output())


def pdf_text(content: bytes) -> str:
    return " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.fixture
def full_record(world):
    """Alice has been seen, has a problem, an allergy, a repeat she asked for, and a second referral with
    its letter and an attachment. Bob has a consultation, an allergy and a problem of his own."""
    gp = Actor.command_line(world.gp)
    consultation = clinical.consultation_record(
        actor=gp,
        patient=world.alice,
        symptoms="Palpitations for three weeks",
        findings="Irregular pulse",
        assessment="Possible atrial fibrillation",
        plan="Refer to dermatology for the mole too",
        condition_text="Palpitations",
    )
    clinical.allergy_record(actor=gp, patient=world.alice, substance="penicillins", reaction="Rash", severity="severe")
    Prescription.objects.filter(pk=world.alice_prescription.pk).update(course=Course.REPEAT, issues_allowed=3)
    prescribing.repeat_request_create(
        actor=Actor.command_line(world.alice_user), prescription=world.alice_prescription, note="Running low"
    )
    referrals.referral_make(
        actor=gp,
        patient=world.alice,
        receiving_facility=world.hospital,
        speciality="Dermatology",
        priority="routine",
        reason="Changing mole on the back",
        attachments=[referrals.Upload(filename="mole-photo.pdf", content=small_pdf())],
        consultation=consultation,
    )
    other_gp = Actor.command_line(world.other_gp)
    clinical.consultation_record(
        actor=other_gp, patient=world.bob, symptoms="Bob's secret cough", condition_text="Bob's bronchitis"
    )
    clinical.allergy_record(actor=other_gp, patient=world.bob, text="Bob's latex allergy", reaction="Hives")
    return consultation
