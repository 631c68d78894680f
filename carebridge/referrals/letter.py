"""The referral letter (GP surgery to hospital service) and the clinic letter (consultant back to the GP), as
A4 PDFs drawn with fpdf2.

Both are built from plain frozen dataclasses, not models, so the services fill them from whatever they
hold (a referral made here, or one received from another system) and the drawing needs no database.

What a hospital clinician looks for first is at the top of page 1: who it is from and to, the UBRN and the
priority. Pages of a clinical letter get separated, so every page's footer names the UBRN, the patient and
their NHS number, and says "Page N of M". An empty list is printed as "None recorded" (or "None
requested"), never as "No known allergies": an empty allergy list means no one has recorded any, which is
not the same as a clinician having recorded that there are none.

The same letter gives the same bytes: the document's dates come from the letter's date, never the clock,
so a delivery that is retried sends exactly what was sent before. Text outside Latin-1 is printed as its
nearest Latin-1 letters (core/printable.py), so a name can never stop a letter from printing.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF

from carebridge.core.printable import printable


@dataclass(frozen=True)
class LetterParty:
    """A person or organisation on a letter. Empty fields are left out.

    `code` is printed as given: for a clinician, their register and number as people read it ("GMC
    number 1234567", "NMC PIN N123456"); for an organisation, its ODS code ("A81001")."""

    name: str
    role_or_speciality: str = ""
    organisation: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    code: str = ""


@dataclass(frozen=True)
class LetterPatient:
    full_name: str
    date_of_birth: dt.date
    nhs_number: str  # formatted 3-3-4, or "not known"
    gender: str = ""
    address: str = ""
    postcode: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class ReferralLetter:
    ubrn: str
    date: dt.date
    priority_words: str  # "Two-week wait", "Urgent", "Routine"
    speciality: str
    patient: LetterPatient
    referrer: LetterParty
    surgery: LetterParty
    receiving: LetterParty  # the hospital
    named_consultant: str
    reason: str
    clinical_summary: str
    investigations: Sequence[str]
    medicines: Sequence[str]  # one line each: "Amlodipine 5 mg tablets, one daily"
    allergies: Sequence[str]
    problems: Sequence[str]
    attachments: Sequence[str]  # file names


@dataclass(frozen=True)
class ClinicLetter:
    ubrn: str
    date: dt.date
    patient: LetterPatient
    consultant: LetterParty
    hospital: LetterParty
    to_gp: LetterParty
    surgery: LetterParty
    outcome: str
    letter_text: str


# A4 in millimetres, with margins a hole punch and a scanner both leave alone.
_MARGIN = 18
_FOOTER_HEIGHT = 20
_LINE = 5.2
_LABEL_WIDTH = 38
# Priorities drawn white on black, so they cannot be missed on a printed or faxed page.
_PRESSING_PRIORITIES = {"two-week wait", "urgent"}


def formatted_ubrn(ubrn: str) -> str:
    """A UBRN in groups of four, as e-RS prints it; anything else as given."""
    digits = re.sub(r"\s", "", ubrn or "")
    if len(digits) == 12 and digits.isdigit():
        return f"{digits[:4]} {digits[4:8]} {digits[8:]}"
    return ubrn or "not assigned"


def _plain(text: str) -> str:
    """Text the built-in font can draw: one kind of line break, tabs as spaces, no other control
    characters (fpdf2 would draw them as boxes or drop the rest of the line), Latin-1 letters."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(char for char in text if char == "\n" or unicodedata.category(char) not in ("Cc", "Cf"))
    return printable(text.strip())


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _joined(*parts: str) -> str:
    return ", ".join(part.strip() for part in parts if part and part.strip())


class LetterPDF(FPDF):
    """An A4 page with the identifying footer on every page: the UBRN (or, for a document that is not
    about one referral, the `reference` given, such as a subject access request's), the patient and
    their NHS number. Also drawn on by the subject access export (subject_access/pdf.py)."""

    def __init__(self, *, title: str, ubrn: str, patient: LetterPatient, date: dt.date, reference: str = ""):
        super().__init__(format="A4", unit="mm")
        self._footer_reference = _plain(reference) or f"UBRN {formatted_ubrn(ubrn)}"
        self._footer_name = _plain(patient.full_name)
        self._footer_nhs_number = _plain(patient.nhs_number) or "not known"
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_FOOTER_HEIGHT)
        self.set_title(_plain(title))
        self.set_author("Carebridge")
        self.set_lang("en-GB")
        # From the letter, not the clock: the same letter is the same bytes.
        self.set_creation_date(dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC))
        self.add_page()

    def footer(self) -> None:
        self.set_y(-_FOOTER_HEIGHT + 6)
        self.set_draw_color(0)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        self.set_font("Helvetica", size=8)
        # One line, whatever the name: a long name is cut short, never the UBRN or the NHS number.
        name, room = self._footer_name, self.epw - 30
        fixed = f"{self._footer_reference}  |    |  NHS number {self._footer_nhs_number}"
        while len(name) > 1 and self.get_string_width(fixed + name) > room:
            name = name[:-2] + "."
        self.cell(self.epw - 28, 4, f"{self._footer_reference}  |  {name}  |  NHS number {self._footer_nhs_number}")
        self.cell(28, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    @property
    def room_left(self) -> float:
        return self.h - self.b_margin - self.get_y()

    def paragraph(self, text: str, *, size: float = 10, style: str = "") -> None:
        self.set_font("Helvetica", style=style, size=size)
        self.multi_cell(0, _LINE, _plain(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        # A heading never sits alone at the foot of a page, away from what it heads.
        if self.room_left < 22:
            self.add_page()
        self.ln(4)
        self.set_font("Helvetica", style="B", size=12)
        self.cell(0, 7, _plain(text), border="B", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def section(self, heading: str, text: str, *, if_empty: str) -> None:
        self.heading(heading)
        self.paragraph(text if (text or "").strip() else if_empty)

    def items(self, heading: str, entries: Sequence[str], *, if_empty: str) -> None:
        self.heading(heading)
        entries = [entry for entry in entries if (entry or "").strip()]
        if not entries:
            self.paragraph(if_empty)
            return
        self.set_font("Helvetica", size=10)
        for entry in entries:
            self.cell(5, _LINE, "-")
            self.multi_cell(0, _LINE, _plain(entry), align="L", new_x="LMARGIN", new_y="NEXT")

    def facts(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value rows; a row with no value says so rather than vanishing."""
        for label, value in rows:
            if self.room_left < _LINE:
                self.add_page()
            self.set_font("Helvetica", style="B", size=10)
            self.cell(_LABEL_WIDTH, _LINE, _plain(label))
            self.set_font("Helvetica", size=10)
            self.multi_cell(0, _LINE, _plain(value) or "Not recorded", align="L", new_x="LMARGIN", new_y="NEXT")

    def addresses(self, left_label: str, left: Sequence[str], right_label: str, right: Sequence[str]) -> None:
        """Two blocks side by side: who the letter is from, and who it is to."""
        column = (self.epw - 8) / 2
        top = self.get_y()
        bottoms = []
        for x, label, lines in ((self.l_margin, left_label, left), (self.l_margin + column + 8, right_label, right)):
            self.set_xy(x, top)
            self.set_font("Helvetica", style="B", size=8)
            self.cell(column, 4, label.upper(), new_x="LEFT", new_y="NEXT")
            for number, line in enumerate(part for part in lines if part and part.strip()):
                self.set_font("Helvetica", style="B" if number == 0 else "", size=10)
                self.multi_cell(column, _LINE, _plain(line), align="L", new_x="LEFT", new_y="NEXT")
            bottoms.append(self.get_y())
        self.set_xy(self.l_margin, max(bottoms) + 4)

    def title_and_reference(self, title: str, ubrn: str, day: dt.date, priority: str = "") -> None:
        self.set_font("Helvetica", style="B", size=20)
        self.cell(0, 10, title, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        top = self.get_y()
        self.set_line_width(0.6)
        self.set_font("Helvetica", size=8)
        self.cell(90, 5, "UNIQUE BOOKING REFERENCE NUMBER (UBRN)", new_x="LEFT", new_y="NEXT")
        self.set_font("Helvetica", style="B", size=18)
        self.cell(90, 9, _plain(formatted_ubrn(ubrn)), align="L", new_x="LMARGIN", new_y="NEXT")
        if priority:
            pressing = priority.strip().lower() in _PRESSING_PRIORITIES
            self.set_xy(self.w - self.r_margin - 72, top)
            self.set_font("Helvetica", size=8)
            self.cell(72, 5, "PRIORITY", align="C", new_x="LEFT", new_y="NEXT")
            self.set_font("Helvetica", style="B", size=16)
            self.set_fill_color(0)
            self.set_text_color(255 if pressing else 0)
            self.cell(72, 11, _plain(priority).upper(), border=1, align="C", fill=pressing)
            self.set_text_color(0)
            self.set_xy(self.l_margin, top + 16)
        self.set_line_width(0.2)
        self.set_font("Helvetica", size=10)
        self.cell(0, _LINE, f"Date: {_long_date(day)}", align="L", new_x="LMARGIN", new_y="NEXT")

    def patient(self, patient: LetterPatient, on: dt.date) -> None:
        self.heading("Patient")
        born = f"{_long_date(patient.date_of_birth)} (age {_age(patient.date_of_birth, on)})"
        self.facts(
            (
                ("Name", patient.full_name),
                ("NHS number", patient.nhs_number or "not known"),
                ("Date of birth", born),
                ("Gender", patient.gender),
                ("Address", _joined(patient.address, patient.postcode)),
                ("Telephone", patient.phone),
                ("Email", patient.email),
            )
        )


def _organisation_lines(party: LetterParty) -> list[str]:
    return [
        party.name,
        party.address,
        f"Telephone: {party.phone}" if party.phone else "",
        f"Email: {party.email}" if party.email else "",
        f"ODS code: {party.code}" if party.code else "",
    ]


def referral_letter_pdf(letter: ReferralLetter) -> bytes:
    """The referral letter the hospital service receives, as a PDF."""
    pdf = LetterPDF(
        title=f"Referral letter, UBRN {formatted_ubrn(letter.ubrn)}",
        ubrn=letter.ubrn,
        patient=letter.patient,
        date=letter.date,
    )
    receiving = letter.receiving
    pdf.addresses(
        "From",
        _organisation_lines(letter.surgery),
        "To",
        [
            letter.speciality,
            f"For the attention of {letter.named_consultant}" if letter.named_consultant.strip() else "",
            *_organisation_lines(receiving),
        ],
    )
    pdf.title_and_reference("Referral letter", letter.ubrn, letter.date, letter.priority_words)
    if letter.speciality.strip():
        pdf.paragraph(f"Service: {letter.speciality}")
    pdf.patient(letter.patient, letter.date)
    pdf.heading("Referrer")
    pdf.facts(
        (
            ("Referred by", _joined(letter.referrer.name, letter.referrer.role_or_speciality)),
            ("Registration", letter.referrer.code),
            ("GP surgery", _joined(letter.surgery.name, letter.surgery.code and f"ODS code {letter.surgery.code}")),
            ("Telephone", letter.referrer.phone or letter.surgery.phone),
            ("Email", letter.referrer.email or letter.surgery.email),
        )
    )
    pdf.section("Reason for referral", letter.reason, if_empty="Not given")
    pdf.section("Clinical summary", letter.clinical_summary, if_empty="None given")
    pdf.items("Investigations requested", letter.investigations, if_empty="None requested")
    pdf.items("Current medication", letter.medicines, if_empty="None recorded")
    pdf.items("Allergies", letter.allergies, if_empty="None recorded")
    pdf.items("Problems", letter.problems, if_empty="None recorded")
    pdf.items("Attachments", letter.attachments, if_empty="None")
    return bytes(pdf.output())


def clinic_letter_pdf(letter: ClinicLetter) -> bytes:
    """The consultant's clinic letter back to the patient's GP, as a PDF."""
    pdf = LetterPDF(
        title=f"Clinic letter, UBRN {formatted_ubrn(letter.ubrn)}",
        ubrn=letter.ubrn,
        patient=letter.patient,
        date=letter.date,
    )
    consultant = letter.consultant
    pdf.addresses(
        "From",
        [consultant.role_or_speciality, *_organisation_lines(letter.hospital)],
        "To",
        [letter.to_gp.name, *_organisation_lines(letter.surgery)],
    )
    pdf.title_and_reference("Clinic letter", letter.ubrn, letter.date)
    pdf.patient(letter.patient, letter.date)
    pdf.section("Outcome", letter.outcome, if_empty="Not recorded")
    pdf.section("Letter", letter.letter_text, if_empty="No letter was written.")
    if pdf.room_left < 25:
        pdf.add_page()
    pdf.ln(8)
    pdf.paragraph(consultant.name, style="B")
    for line in (consultant.role_or_speciality, consultant.code, letter.hospital.name):
        if line.strip():
            pdf.paragraph(line)
    return bytes(pdf.output())
