"""Input that cannot be imported safely: one case per rule, each reported as file:line: column: message,
and in each the database is left exactly as it was (nothing at all is written)."""

import pytest

from carebridge.core.actor import Actor
from carebridge.csvio.services import dataset_import
from carebridge.csvio.tests.conftest import BAD, GOOD, row_counts
from carebridge.patients.models import Patient

pytestmark = pytest.mark.django_db

# (fixture folder under fixtures/bad, file, line, column, words the message must contain)
CASES = [
    ("unquoted_comma", "patients.csv", 3, "gp_surgery_id", "has 15 values but the header has 14 columns"),
    ("too_few_values", "appointments.csv", 3, "last_modified", "has 12 values but the header has 13 columns"),
    ("unknown_column", "patients.csv", 1, "sex", "is not a column of patients.csv"),
    ("missing_column", "patients.csv", 1, "date_of_birth", "missing from the header"),
    ("date_day_first", "appointments.csv", 2, "appointment_date", "like 2025-09-20"),
    ("date_impossible", "patients.csv", 2, "date_of_birth", "'1970-02-30' is not a real date"),
    ("date_with_time", "prescriptions.csv", 2, "issue_date", "must be the date alone"),
    ("time_not_hhmm", "appointments.csv", 3, "appointment_time", "is not a time written as HH:MM"),
    ("nhs_scientific", "patients.csv", 2, "nhs_number", "A spreadsheet has changed this number"),
    ("nhs_nine_digits", "patients.csv", 4, "nhs_number", "has 9 digits; an NHS number has 10"),
    ("phone_scientific", "staff.csv", 3, "phone_number", "A spreadsheet has changed this number"),
    ("phone_lost_zero", "patients.csv", 3, "phone_number", "removed the leading 0"),
    ("duplicate_id", "appointments.csv", 5, "appointment_id", "The ID A103 is used again"),
    ("missing_reference", "appointments.csv", 3, "patient_id", "There is no patient P999"),
    ("unknown_status", "appointments.csv", 2, "status", "'Sheduled' is not an appointment status"),
    ("facility_type_unknown", "facilities.csv", 4, "facility_type", "'Clinic' is not a facility type"),
    ("access_level_unknown", "staff.csv", 2, "access_level", "'Admin' is not an access level"),
    ("not_utf8", "patients.csv", 3, "first_name", "not UTF-8"),
    ("utf16", "patients.csv", 1, "(whole file)", "UTF-16"),
    ("empty_file", "patients.csv", 1, "(whole file)", "The file is empty"),
    ("dose_unreadable", "prescriptions.csv", 2, "dosage", "'five mg' is not an amount followed by a unit"),
    ("quantity_no_unit", "prescriptions.csv", 3, "quantity", "'1' has no unit"),
    ("gmc_invalid", "clinicians.csv", 2, "gmc_number", "is not a GMC or nurse registration number"),
    ("patient_at_hospital", "patients.csv", 2, "gp_surgery_id", "not a GP surgery"),
    ("missing_id", "staff.csv", 3, "staff_id", "This is empty"),
    ("missing_value", "clinicians.csv", 3, "last_name", "This is empty"),
    ("duplicate_nhs", "patients.csv", 4, "nhs_number", "The patient on line 2 has the same NHS number 943 476 5919"),
    ("unclosed_quote", "referrals.csv", 2, "(whole row)", "quotation mark"),
    ("birth_in_future", "patients.csv", 2, "date_of_birth", "is in the future"),
    ("not_whole_number", "appointments.csv", 2, "duration_minutes", "'15 mins' is not a whole number"),
    ("too_long", "staff.csv", 2, "first_name", "too long: at most 100 characters"),
    (
        "value_in_unnamed_column",
        "patients.csv",
        3,
        "(column 15, which has no name)",
        "a value ('see notes') in a column that has no name",
    ),
]


def test_every_bad_fixture_has_a_case():
    assert {case[0] for case in CASES} == {folder.name for folder in BAD.iterdir()}


@pytest.mark.parametrize(("case", "file", "line", "column", "words"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_reported_and_nothing_is_written(make_dataset, case, file, line, column, words):
    folder = make_dataset(BAD / case)
    before = row_counts()

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert report.has_errors
    assert not report.stored
    matching = [
        problem for problem in report.errors if (problem.file, problem.line, problem.column) == (file, line, column)
    ]
    assert matching, f"no error at {file}:{line}: {column}; got {[str(p) for p in report.errors]}"
    assert words in matching[0].message
    assert str(matching[0]).startswith(f"{file}:{line}: {column}: ")
    # One mistake is reported once: other rows pointing at the broken row are not reported as well.
    assert report.error_count == 1, [str(p) for p in report.errors]
    assert row_counts() == before


def test_the_date_message_says_how_to_write_it_and_never_guesses(make_dataset):
    report = dataset_import(directory=make_dataset(BAD / "date_day_first"), actor=Actor.command_line())

    (problem,) = report.errors
    assert "'6/10/2025'" in problem.message
    assert "2025-09-20" in problem.message
    assert "never guesses" in problem.message


def test_nhs_number_already_held_by_another_patient(make_dataset, tmp_path):
    dataset_import(directory=make_dataset(only=("facilities.csv", "patients.csv")), actor=Actor.command_line())
    # A new patient file gives P101's NHS number to a new patient P201.
    folder = tmp_path / "second"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "patient_id,first_name,last_name,date_of_birth,nhs_number,gender,registration_date,gp_surgery_id\n"
        "P201,Nina,Holt,1990-01-01,943 476 5919,F,2020-01-01,S101",
        encoding="utf-8",
    )
    before = row_counts()

    report = dataset_import(directory=folder, actor=Actor.command_line())

    (problem,) = report.errors
    assert str(problem).startswith(
        "patients.csv:2: nhs_number: NHS number 943 476 5919 already belongs to patient P101"
    )
    assert row_counts() == before


def test_reference_to_a_file_not_in_the_import_and_not_in_the_database(make_dataset):
    folder = make_dataset(only=("appointments.csv",))

    report = dataset_import(directory=folder, actor=Actor.command_line())

    first = report.errors[0]
    assert str(first).startswith(
        "appointments.csv:2: patient_id: There is no patient P101 in Carebridge, and "
        "patients.csv is not part of this import"
    )
    assert row_counts()["Appointment"] == 0


def test_a_failed_import_does_not_apply_its_valid_changes_either(make_dataset, tmp_path):
    dataset_import(directory=make_dataset(), actor=Actor.command_line())
    before = row_counts()
    folder = tmp_path / "changed"
    folder.mkdir()
    patients = (GOOD / "patients.csv").read_text(encoding="utf-8")
    # Line 2 is changed correctly (a new surname), line 4 has an impossible date.
    patients = patients.replace("P101,Alice,Hughes", "P101,Alice,Hughes-Smith")
    patients = patients.replace("P103,Sam,Rivers,2001-07-04", "P103,Sam,Rivers,2001-13-04")
    (folder / "patients.csv").write_text(patients, encoding="utf-8")

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert [str(p).split(": ")[0] for p in report.errors] == ["patients.csv:4"]
    assert Patient.objects.get(source_id="P101").last_name == "Hughes"
    assert row_counts() == before


def test_errors_are_all_counted_even_when_only_some_are_kept(make_dataset, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    lines = ["patient_id,first_name,last_name,date_of_birth,registration_date,gp_surgery_id"]
    lines += [f"P{n},Name,Surname,01/02/1990,2020-01-01,S101" for n in range(1500)]
    (folder / "patients.csv").write_text("\n".join(lines), encoding="utf-8")
    (folder / "facilities.csv").write_bytes((GOOD / "facilities.csv").read_bytes())

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert report.error_count == 1500
    assert len(report.errors) == report.keep_per_file
    assert row_counts()["Patient"] == 0
