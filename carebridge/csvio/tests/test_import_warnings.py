"""Rows that break a business rule are kept, and each is reported as a warning naming file, line and column.

fixtures/warnings/ is the good data set with rows added at the end of each file, each breaking one rule.
"""

import pytest

from carebridge.core.actor import Actor
from carebridge.csvio.report import ImportReport
from carebridge.csvio.services import dataset_import
from carebridge.csvio.tests.conftest import GOOD, WARNINGS
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription
from carebridge.referrals.models import Referral, ReferralPriority
from carebridge.scheduling.models import Appointment

pytestmark = pytest.mark.django_db

# (file, line, column, words the message must contain)
EXPECTED = [
    ("facilities.csv", 5, "email", "'not-an-email' does not look like an email address"),
    ("facilities.csv", 5, "opening_hours", "cannot tell which days are open from 'By appointment only'"),
    ("facilities.csv", 6, "postcode", "'LEEDS 1' does not look like a UK postcode"),
    ("clinicians.csv", 7, "workplace_type", "S102 (Hillside Surgery) is a GP Surgery"),
    ("clinicians.csv", 8, "title", "A GP whose workplace H101 is a hospital"),
    ("clinicians.csv", 9, "gmc_number", "a Senior Nurse is registered with the NMC"),
    ("clinicians.csv", 10, "gmc_number", "The clinician on line 2 has the same registration number 1234567"),
    ("clinicians.csv", 11, "title", "A consultant whose workplace S101 is a GP surgery"),
    ("staff.csv", 5, "phone_number", "'ext 4411' does not look like a phone number"),
    ("patients.csv", 5, "nhs_number", "NHS number 123 456 7890 fails the NHS number check"),
    ("patients.csv", 6, "nhs_number", "No NHS number"),
    ("patients.csv", 7, "registration_date", "registered (2011-01-01) before they were born (2012-05-05)"),
    ("patients.csv", 8, "date_of_birth", "1890-01-01 is more than 120 years ago"),
    ("appointments.csv", 6, "appointment_date", "S101 (Riverside Medical Practice) is closed on Sundays"),
    ("appointments.csv", 7, "appointment_time", "19:00 to 19:15 on a Tuesday is outside the opening hours"),
    ("appointments.csv", 8, "patient_id", "P102 is registered at S102, but this appointment is at another surgery"),
    ("appointments.csv", 9, "clinician_id", "C102 works at S102, not at S101"),
    ("appointments.csv", 10, "duration_minutes", "600 minutes is longer than a working day"),
    ("appointments.csv", 11, "last_modified", "earlier than the date the record was made"),
    ("appointments.csv", 13, "appointment_time", "01:30 on 2026-03-29 does not exist in UK time"),
    ("prescriptions.csv", 5, "clinician_id", "C104 is a Practice Nurse who is not recorded as a prescriber"),
    ("prescriptions.csv", 6, "appointment_id", "Appointment A101 is for patient P101, not P102"),
    ("prescriptions.csv", 7, "collection_date", "Collected but has no collection date"),
    ("prescriptions.csv", 8, "status", "Cancelled"),
    ("prescriptions.csv", 9, "collection_date", "collected (2025-09-05) before it was issued (2025-09-10)"),
    ("prescriptions.csv", 10, "prescription_date", "dated before its appointment A103"),
    ("referrals.csv", 4, "referring_clinician_id", "C104 is a Practice Nurse; referrals are made by GPs"),
    ("referrals.csv", 5, "referred_to_clinician_id", "C105 is a Staff Nurse; a referral is received by a specialist"),
    ("referrals.csv", 6, "status", "Completed, but its appointment A111 is still Scheduled"),
    ("referrals.csv", 7, "referring_facility_id", "P102 is registered at S102, but the referral comes from S101"),
    ("referrals.csv", 8, "referred_to_facility_id", "S102 is a GP Surgery; referrals go to hospitals"),
    ("referrals.csv", 9, "appointment_id", "Appointment A103 is for patient P101, not P103"),
    ("referrals.csv", 10, "referring_clinician_id", "C103 works at a hospital"),
    ("referrals.csv", 10, "referring_clinician_id", "C103 works at H101, not at the referring facility S101"),
    ("referrals.csv", 11, "last_updated", "earlier than the date the record was made"),
]


@pytest.fixture
def report() -> ImportReport:
    return dataset_import(directory=WARNINGS, actor=Actor.command_line())


def test_the_good_data_set_has_no_warnings():
    report = dataset_import(directory=GOOD, actor=Actor.command_line())

    assert report.stored
    assert [str(problem) for problem in report.problems] == []


def test_warnings_keep_every_row(report):
    assert report.stored
    assert not report.has_errors
    assert {name: counts.created for name, counts in report.files.items()} == {
        "facilities.csv": 5,
        "clinicians.csv": 10,
        "staff.csv": 4,
        "patients.csv": 7,
        "appointments.csv": 12,
        "prescriptions.csv": 9,
        "referrals.csv": 10,
    }


def test_exactly_the_expected_warnings(report):
    assert sorted((p.file, p.line, p.column) for p in report.warnings) == sorted(
        (file, line, column) for file, line, column, _ in EXPECTED
    )


@pytest.mark.parametrize(
    ("file", "line", "column", "words"), EXPECTED, ids=[f"{file}:{line}:{column}" for file, line, column, _ in EXPECTED]
)
def test_warning(report, file, line, column, words):
    messages = [p.message for p in report.warnings if (p.file, p.line, p.column) == (file, line, column)]
    assert any(words in message for message in messages), messages
    assert any(str(p).startswith(f"{file}:{line}: {column}: ") for p in report.warnings)


def test_invalid_nhs_number_is_kept_and_marked_not_verified(report):
    unverified = Patient.objects.get(source_id="P104")
    assert (unverified.nhs_number, unverified.nhs_number_verified) == ("1234567890", False)
    assert Patient.objects.get(source_id="P101").nhs_number_verified is True
    assert Patient.objects.get(source_id="P105").nhs_number is None


def test_cancelled_prescription_gets_the_reason_the_database_requires(report):
    assert Prescription.objects.get(source_id="RX107").cancellation_reason.startswith("Cancelled before import")


def test_two_week_wait_is_understood(report):
    assert Referral.objects.get(source_id="R103").priority == ReferralPriority.TWO_WEEK_WAIT


def test_appointment_times_are_uk_wall_clock(report):
    # 2025-10-12 is in British Summer Time: 10:00 in London is 09:00 UTC.
    starts = Appointment.objects.get(source_id="A105").starts_at
    assert starts.isoformat() == "2025-10-12T09:00:00+00:00"
