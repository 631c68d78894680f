"""The coursework data set itself: all 76 rows stored, the rule-breaking rows reported by row, an export
that gives the same rows and values back, and a second import that changes nothing."""

import csv
import io
from pathlib import Path

import pytest
from django.forms.models import model_to_dict

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core.actor import Actor
from carebridge.csvio.services import dataset_export, dataset_import
from carebridge.csvio.tests.conftest import COURSEWORK, DOMAIN_MODELS, FILE_NAMES, row_counts
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription
from carebridge.scheduling.models import Appointment

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not COURSEWORK.is_dir(),
        reason=f"the coursework data set is not at {COURSEWORK} (it sits beside the repository)",
    ),
]

ROWS_PER_FILE = {
    "facilities.csv": 6,
    "clinicians.csv": 12,
    "staff.csv": 16,
    "patients.csv": 10,
    "appointments.csv": 12,
    "prescriptions.csv": 10,
    "referrals.csv": 10,
}


def _warnings_at(report, file: str, column: str) -> list[int]:
    return sorted(p.line for p in report.warnings if p.file == file and p.column == column)


def _parsed(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture
def report():
    return dataset_import(directory=COURSEWORK, actor=Actor.command_line())


def test_all_76_rows_are_stored(report):
    assert report.stored and not report.has_errors
    assert {name: counts.created for name, counts in report.files.items()} == ROWS_PER_FILE
    assert sum(ROWS_PER_FILE.values()) == 76
    assert sum(row_counts()[model.__name__] for model in DOMAIN_MODELS) == 76


def test_one_audit_row_for_the_whole_import(report):
    (event,) = AuditEvent.objects.filter(action=AuditAction.IMPORT)
    assert event.channel == "cli"
    assert event.detail["files"]["patients.csv"]["created"] == 10
    assert event.detail["warnings"] == report.warning_count


def test_nine_invalid_nhs_numbers(report):
    # Only P010's 0123456789 passes the modulus-11 check; P001..P009 are on lines 2..10.
    assert _warnings_at(report, "patients.csv", "nhs_number") == list(range(2, 11))
    assert list(Patient.objects.filter(nhs_number_verified=True).values_list("source_id", flat=True)) == ["P010"]


def test_nurses_who_prescribe(report):
    # RX002 (C009, Senior Nurse) on line 3, RX006 (C010, Practice Nurse) on line 7.
    assert _warnings_at(report, "prescriptions.csv", "clinician_id") == [3, 7]


def test_nurses_who_refer_and_a_referral_to_a_nurse(report):
    # R007 (C010) on line 8, R008 (C009) on line 9; R008 goes to C011, a Staff Nurse.
    assert _warnings_at(report, "referrals.csv", "referring_clinician_id") == [8, 9]
    assert _warnings_at(report, "referrals.csv", "referred_to_clinician_id") == [9]


def test_referrals_from_a_surgery_other_than_the_patients_own(report):
    # R001 (P005 at S003, from S001), R004 (P009 at S002, from S003), R007 (P008 at S003, from S002),
    # R010 (P006 at S002, from S003).
    assert _warnings_at(report, "referrals.csv", "referring_facility_id") == [2, 5, 8, 11]


def test_completed_referral_with_a_scheduled_appointment(report):
    (warning,) = [p for p in report.warnings if p.file == "referrals.csv" and p.column == "status"]
    assert str(warning).startswith(
        "referrals.csv:2: status: The referral is Completed, but its appointment A005 is still Scheduled"
    )


def test_sunday_appointments_at_surgeries_closed_on_sundays(report):
    # A003 (2025-09-21, S002) and A010 (2025-09-28, S001); A012 is on a Sunday at a 24/7 hospital.
    assert _warnings_at(report, "appointments.csv", "appointment_date") == [4, 11]


def test_appointments_at_a_surgery_other_than_the_patients_own(report):
    # A006 (P006 of S002 at S003) and A008 (P008 of S003 at S002).
    assert _warnings_at(report, "appointments.csv", "patient_id") == [7, 9]


def test_no_other_warnings(report):
    assert report.warning_count == 9 + 2 + 3 + 4 + 1 + 2 + 2


def test_mapping_of_coursework_values(report):
    david = Clinician.objects.get(source_id="C001")
    assert (david.honorific, david.first_name, david.registration_number) == ("Dr.", "David", "7654321")
    assert Clinician.objects.get(source_id="C009").honorific == "Sister"
    assert Facility.objects.get(source_id="H001").specialities_offered == [
        "Cardiology",
        "Neurology",
        "Emergency Medicine",
        "General Surgery",
    ]
    insulin = Prescription.objects.get(source_id="RX007")
    assert (insulin.dose_value, insulin.dose_unit) == (100, "units/ml")
    assert (insulin.quantity_value, insulin.quantity_unit) == (1, "pen")
    assert Prescription.objects.get(source_id="RX008").appointment is None
    assert Appointment.objects.get(source_id="A007").status == "cancelled"


def test_export_gives_back_the_same_rows_and_values(report, tmp_path):
    counts = dataset_export(directory=tmp_path, actor=Actor.command_line())

    assert counts == ROWS_PER_FILE
    for name in FILE_NAMES:
        assert _parsed(tmp_path / name) == _parsed(COURSEWORK / name), name


def test_export_bytes(report, tmp_path):
    dataset_export(directory=tmp_path, actor=Actor.command_line())

    # Five files come back byte for byte. appointments.csv and referrals.csv differ only because the
    # coursework quotes some values that need no quotes ("Patient due for routine screening"), which an
    # export with minimal quoting does not.
    for name in ("facilities.csv", "clinicians.csv", "staff.csv", "patients.csv", "prescriptions.csv"):
        assert (tmp_path / name).read_bytes() == (COURSEWORK / name).read_bytes(), name
    for name in ("appointments.csv", "referrals.csv"):
        exported, original = (tmp_path / name).read_bytes(), (COURSEWORK / name).read_bytes()
        assert exported != original
        assert exported.replace(b'"', b"") == original.replace(b'"', b""), name
    for name in FILE_NAMES:
        data = (tmp_path / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and not data.endswith(b"\n")


def test_a_second_import_changes_nothing(report):
    snapshot = {
        model.__name__: [
            model_to_dict(obj)
            | {"pk": obj.pk, "public_id": obj.public_id, "updated_at": getattr(obj, "updated_at", None)}
            for obj in model.objects.order_by("pk")
        ]
        for model in DOMAIN_MODELS
    }

    again = dataset_import(directory=COURSEWORK, actor=Actor.command_line())

    assert again.stored
    assert {name: (c.created, c.updated, c.unchanged) for name, c in again.files.items()} == {
        name: (0, 0, rows) for name, rows in ROWS_PER_FILE.items()
    }
    assert {
        model.__name__: [
            model_to_dict(obj)
            | {"pk": obj.pk, "public_id": obj.public_id, "updated_at": getattr(obj, "updated_at", None)}
            for obj in model.objects.order_by("pk")
        ]
        for model in DOMAIN_MODELS
    } == snapshot


def test_opening_hours_text_becomes_structured_weekly_hours(report):
    from carebridge.organisations.models import Facility
    from carebridge.scheduling.models import OpeningTime

    def hours(source_id):
        return {
            (row.weekday, f"{row.opens:%H:%M}-{row.closes:%H:%M}")
            for row in OpeningTime.objects.filter(facility=Facility.objects.get(source_id=source_id))
        }

    # "Mon-Fri: 8:00-18:00, Sat: 8:00-12:00"
    assert hours("S001") == {*((day, "08:00-18:00") for day in range(5)), (5, "08:00-12:00")}
    # "24/7 Emergency, Outpatients: Mon-Fri 8:00-17:00": clinics are booked in outpatient hours.
    assert hours("H001") == {(day, "08:00-17:00") for day in range(5)}
