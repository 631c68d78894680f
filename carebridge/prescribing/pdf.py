"""The printable prescription: one A4 page, laid out from LAYOUT below, drawn with fpdf2.

The layout is data, like a template: each section is a heading and its lines, and each line is a label
and a function that reads its value from the prescription. Changing what is printed means changing
LAYOUT, not the drawing code.

fpdf2's built-in Helvetica covers Latin-1 only (no font file to ship or find on the machine), so a letter
outside it is printed as its nearest Latin-1 letter ("Łukasz Nowak" prints as "Lukasz Nowak", "Zoë"
stays "Zoë"), never refused: a prescription must always print (core/printable.py).
"""

from collections.abc import Callable
from dataclasses import dataclass

from fpdf import FPDF

from carebridge.core import clock
from carebridge.core.printable import printable
from carebridge.organisations.models import Clinician
from carebridge.prescribing.models import Course, Prescription


@dataclass(frozen=True)
class Line:
    label: str
    value: Callable[[Prescription], str]


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[Line, ...]


def _nhs_number(prescription: Prescription) -> str:
    return prescription.patient.nhs_number_display or "Not known"


def _address(prescription: Prescription) -> str:
    patient = prescription.patient
    return ", ".join(part for part in (patient.address, patient.postcode) if part) or "Not recorded"


def registration(clinician: Clinician) -> str:
    """A doctor's GMC number or a nurse's NMC PIN, named as each register names it."""
    register = "NMC PIN" if clinician.is_nurse else "GMC number"
    return f"{register} {clinician.registration_number}"


def _surgery(prescription: Prescription) -> str:
    workplace = prescription.prescriber.workplace
    return ", ".join(part for part in (workplace.name, workplace.address, workplace.postcode) if part)


def _course(prescription: Prescription) -> str:
    if prescription.course == Course.ACUTE:
        return "Acute (one issue)"
    review = f"; review by {prescription.review_date:%-d %B %Y}" if prescription.review_date else ""
    return f"Repeat: issue {prescription.issue_number} of {prescription.issues_allowed}{review}"


def reference(prescription: Prescription) -> str:
    """The coursework ID of an imported prescription, else the public ID every channel knows it by."""
    return prescription.source_id or str(prescription.public_id)


LAYOUT: tuple[Section, ...] = (
    Section(
        "Patient",
        (
            Line("Name", lambda p: p.patient.full_name),
            Line("NHS number", _nhs_number),
            Line("Date of birth", lambda p: f"{p.patient.date_of_birth:%-d %B %Y}"),
            Line("Address", _address),
        ),
    ),
    Section(
        "Medicine",
        (
            Line("Medicine", lambda p: p.medication_name),
            Line("Dose", lambda p: p.dose_display),
            Line("How often", lambda p: p.frequency),
            Line("For", lambda p: f"{p.duration_days} days"),
            Line("Quantity", lambda p: p.quantity_display),
            Line("Instructions", lambda p: p.instructions or "None"),
            Line("Course", _course),
            Line("Pharmacy", lambda p: p.pharmacy_name or "Any pharmacy the patient chooses"),
        ),
    ),
    Section(
        "Prescriber",
        (
            Line("Prescriber", lambda p: f"{p.prescriber.display_name}, {registration(p.prescriber)}"),
            Line("Surgery", _surgery),
            Line("Date", lambda p: f"{p.prescribed_on:%-d %B %Y}"),
            Line("Reference", reference),
        ),
    ),
)


def prescription_pdf(prescription: Prescription) -> bytes:
    """The prescription as a PDF document, for printing and signing."""
    pdf = FPDF(format="A4")
    pdf.set_title(printable(f"Prescription {reference(prescription)}"))
    pdf.set_author("Carebridge")
    pdf.set_creation_date(clock.now())
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 10, "Prescription", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(
        0,
        5,
        printable(f"NHS prescription printed by Carebridge on {clock.today():%-d %B %Y}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for section in LAYOUT:
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.cell(0, 8, section.heading, border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for line in section.lines:
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.cell(40, 6, line.label)
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 6, printable(line.value(prescription)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(100, 6, "Signature of prescriber: ______________________________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
