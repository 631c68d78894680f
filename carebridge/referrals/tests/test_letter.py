"""The referral and clinic letters: real PDFs, read back as text, carrying everything a clinician needs."""

import dataclasses
import datetime as dt
import io

from pypdf import PdfReader

from carebridge.core import clock
from carebridge.referrals.letter import (
    ClinicLetter,
    LetterParty,
    LetterPatient,
    ReferralLetter,
    clinic_letter_pdf,
    formatted_ubrn,
    referral_letter_pdf,
)

PATIENT = LetterPatient(
    full_name="Alice Archer",
    date_of_birth=dt.date(1980, 5, 17),
    nhs_number="943 476 5919",
    gender="Female",
    address="12 Elm Road, Leeds",
    postcode="LS1 4AB",
    phone="07700 900123",
    email="alice@example.org",
)
SURGERY = LetterParty(
    name="Oak Tree Surgery",
    address="1 Oak Tree Surgery Road, Leeds LS2 9JT",
    phone="0113 496 0000",
    email="oaktree.referrals@example.nhs.uk",
    code="B86001",
)
HOSPITAL = LetterParty(
    name="St Luke's Hospital",
    address="Beckett Street, Leeds LS9 7TF",
    phone="0113 243 3144",
    email="cardiology.referrals@example.nhs.uk",
    code="RR813",
)
REFERRER = LetterParty(
    name="Dr Grace Patel",
    role_or_speciality="General practitioner",
    organisation="Oak Tree Surgery",
    code="GMC number 1234567",
)
LETTER = ReferralLetter(
    ubrn="123456789012",
    date=dt.date(2026, 11, 30),
    priority_words="Two-week wait",
    speciality="Cardiology",
    patient=PATIENT,
    referrer=REFERRER,
    surgery=SURGERY,
    receiving=HOSPITAL,
    named_consultant="Dr Amir Khan",
    reason="Suspected stable angina: please assess for coronary artery disease.",
    clinical_summary="Two months of chest tightness on exertion, relieved by rest within five minutes.",
    investigations=["Exercise ECG", "CT coronary angiogram"],
    medicines=["Amlodipine 5 mg tablets, one daily", "Atorvastatin 20 mg tablets, one at night"],
    allergies=["Penicillin: rash"],
    problems=["Hypertension", "Type 2 diabetes mellitus"],
    attachments=["ecg.pdf", "bloods.png"],
)
CLINIC_LETTER = ClinicLetter(
    ubrn="123456789012",
    date=dt.date(2027, 1, 11),
    patient=PATIENT,
    consultant=LetterParty(
        name="Dr Amir Khan", role_or_speciality="Consultant cardiologist", code="GMC number 7654321"
    ),
    hospital=HOSPITAL,
    to_gp=LetterParty(name="Dr Grace Patel"),
    surgery=SURGERY,
    outcome="Stable angina confirmed. Discharged to GP care with the plan below.",
    letter_text="Dear Dr Patel,\n\nI saw Mrs Archer in clinic today.\nPlease start bisoprolol 2.5 mg daily.",
)


def _pages(document: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(document)).pages]


def _text(document: bytes) -> str:
    return "\n".join(_pages(document))


def test_the_referral_letter_carries_every_section():
    document = referral_letter_pdf(LETTER)
    assert document.startswith(b"%PDF-")
    text = _text(document)
    for expected in (
        "Referral letter",
        "1234 5678 9012",  # the UBRN, in e-RS's groups of four
        "TWO-WEEK WAIT",
        "30 November 2026",
        # patient
        "Alice Archer",
        "943 476 5919",
        "17 May 1980 (age 46)",
        "12 Elm Road, Leeds, LS1 4AB",
        "07700 900123",
        # referrer and surgery
        "Dr Grace Patel, General practitioner",
        "GMC number 1234567",
        "Oak Tree Surgery",
        "ODS code B86001",
        # the hospital service
        "Cardiology",
        "For the attention of Dr Amir Khan",
        "St Luke's Hospital",
        # sections
        "Reason for referral",
        "Suspected stable angina: please assess for coronary artery disease.",
        "Clinical summary",
        "Two months of chest tightness on exertion",
        "Investigations requested",
        "Exercise ECG",
        "CT coronary angiogram",
        "Current medication",
        "Amlodipine 5 mg tablets, one daily",
        "Atorvastatin 20 mg tablets, one at night",
        "Allergies",
        "Penicillin: rash",
        "Problems",
        "Hypertension",
        "Type 2 diabetes mellitus",
        "Attachments",
        "ecg.pdf",
        "bloods.png",
    ):
        assert expected in text, expected
    pages = _pages(document)
    assert pages[-1].endswith(f"Page {len(pages)} of {len(pages)}")


def test_empty_lists_say_none_recorded_never_no_known_allergies():
    letter = dataclasses.replace(LETTER, investigations=[], medicines=[], allergies=[], problems=[], attachments=[])
    text = _text(referral_letter_pdf(letter))
    assert "Allergies\nNone recorded" in text
    assert "Current medication\nNone recorded" in text
    assert "Problems\nNone recorded" in text
    assert "Investigations requested\nNone requested" in text
    assert "No known allergies" not in text


def test_a_routine_referral_says_routine():
    assert "ROUTINE" in _text(referral_letter_pdf(dataclasses.replace(LETTER, priority_words="Routine")))


def test_a_long_summary_flows_onto_further_pages_each_with_the_identifiers():
    summary = "\n".join(
        f"Line {number} of the history: symptoms, findings and treatment tried." for number in range(1, 71)
    )
    pages = _pages(referral_letter_pdf(dataclasses.replace(LETTER, clinical_summary=summary)))
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page
        assert "UBRN 1234 5678 9012" in page and "NHS number 943 476 5919" in page
    text = "\n".join(pages)
    assert all(f"Line {number} of the history" in text for number in range(1, 71))
    assert "Type 2 diabetes mellitus" in pages[-1]  # what follows the summary is not lost either


def test_a_long_paragraph_and_an_unbroken_word_wrap():
    word = "https://example.org/results/" + "a" * 300
    text = _text(referral_letter_pdf(dataclasses.replace(LETTER, clinical_summary=f"See {word} " * 40)))
    assert "Page 1 of" in text and "Type 2 diabetes mellitus" in text


def test_letters_outside_latin_1_do_not_stop_the_letter():
    patient = dataclasses.replace(PATIENT, full_name="Zoë Ó'Brien-Łukasz " + "Nowak-" * 30 + "Smith")
    letter = dataclasses.replace(
        LETTER, patient=patient, clinical_summary="Says “it’s worse at night” — 患者 🙂.\tTabbed\x07 text."
    )
    pages = _pages(referral_letter_pdf(letter))
    assert "Zoë Ó'Brien-Lukasz" in pages[0]
    assert 'Says "it\'s worse at night" - ?? ?.' in pages[0]
    # The footer stays on one line however long the name: the NHS number is never the part cut off.
    assert "NHS number 943 476 5919 Page 1 of" in pages[0].replace("\n", " ")
    assert "Zoë Ó'Brien-Łukasz" not in _text(clinic_letter_pdf(dataclasses.replace(CLINIC_LETTER, patient=patient)))


def test_the_same_letter_gives_the_same_bytes_whatever_the_clock_says():
    first = referral_letter_pdf(LETTER)
    clock.freeze(clock.now() + dt.timedelta(days=3, hours=5))
    assert referral_letter_pdf(LETTER) == first
    assert clinic_letter_pdf(CLINIC_LETTER) == clinic_letter_pdf(CLINIC_LETTER)
    # ...and a different letter does not.
    assert referral_letter_pdf(dataclasses.replace(LETTER, date=dt.date(2026, 12, 1))) != first


def test_the_clinic_letter_carries_the_outcome_and_the_letter_back_to_the_gp():
    text = _text(clinic_letter_pdf(CLINIC_LETTER))
    for expected in (
        "Clinic letter",
        "1234 5678 9012",
        "11 January 2027",
        "Alice Archer",
        "943 476 5919",
        "Consultant cardiologist",
        "St Luke's Hospital",
        "Dr Grace Patel",
        "Oak Tree Surgery",
        "Stable angina confirmed. Discharged to GP care with the plan below.",
        "I saw Mrs Archer in clinic today.",
        "Please start bisoprolol 2.5 mg daily.",
        "Dr Amir Khan",
        "GMC number 7654321",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_a_ubrn_is_grouped_in_fours_and_a_missing_one_says_so():
    assert formatted_ubrn("123456789012") == "1234 5678 9012"
    assert formatted_ubrn("") == "not assigned"
    assert "UBRN not assigned" in _text(referral_letter_pdf(dataclasses.replace(LETTER, ubrn="")))
