"""What real exports look like is accepted: a byte-order mark, CRLF or mixed line endings, a final newline
or none, tab- or semicolon-separated values. Each variant of the good data set imports to the very same
records, which the export shows by giving back the good files byte for byte."""

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from carebridge.core.actor import Actor
from carebridge.csvio.services import dataset_export, dataset_import
from carebridge.csvio.tests.conftest import FILE_NAMES, GOOD

pytestmark = pytest.mark.django_db


def _with_bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def _mixed_endings(data: bytes) -> bytes:
    lines = data.split(b"\n")
    endings = [b"\r\n", b"\n", b"\r"]
    return b"".join(line + endings[index % 3] for index, line in enumerate(lines[:-1])) + lines[-1]


def _final_newline(data: bytes) -> bytes:
    return data + b"\n"


def _trailing_blank_rows(data: bytes) -> bytes:
    # Spreadsheets leave empty lines and rows of nothing but separators after the data.
    return data + b"\r\n\r\n,,,,\r\n"


def _separated_by(delimiter: str) -> Callable[[bytes], bytes]:
    def convert(data: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
        return out.getvalue().encode("utf-8")

    return convert


def _header_case_and_spaces(data: bytes) -> bytes:
    header, _, rest = data.partition(b"\n")
    names = [b" " + name.upper() + b" " for name in header.split(b",")]
    return b",".join(names) + b"\n" + rest


def _empty_columns_at_the_right(data: bytes) -> bytes:
    # Spreadsheets sometimes carry empty, unnamed columns to the right of the data.
    return b"\n".join(line + b",," for line in data.split(b"\n"))


VARIANTS = {
    "byte-order mark": _with_bom,
    "CRLF": _crlf,
    "mixed line endings": _mixed_endings,
    "newline after the last row": _final_newline,
    "blank rows at the end": _trailing_blank_rows,
    "tab-separated": _separated_by("\t"),
    "semicolon-separated": _separated_by(";"),
    "header in capitals with spaces": _header_case_and_spaces,
    "empty unnamed columns at the right": _empty_columns_at_the_right,
    "BOM, CRLF and tabs together": lambda data: _with_bom(_crlf(_separated_by("\t")(data))),
}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_variant_imports_to_the_same_records(tmp_path, variant):
    folder = tmp_path / "variant"
    folder.mkdir()
    for name in FILE_NAMES:
        (folder / name).write_bytes(variant((GOOD / name).read_bytes()))

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert [str(problem) for problem in report.problems] == []
    assert report.stored
    exported = tmp_path / "exported"
    dataset_export(directory=exported, actor=Actor.command_line())
    for name in FILE_NAMES:
        assert (exported / name).read_bytes() == (GOOD / name).read_bytes(), name


def _patients_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "lines"
    folder.mkdir()
    (folder / "facilities.csv").write_bytes((GOOD / "facilities.csv").read_bytes())
    (folder / "patients.csv").write_bytes(text.encode("utf-8"))
    return folder


HEADER = "patient_id,first_name,last_name,date_of_birth,registration_date,gp_surgery_id"


def test_line_numbers_count_lines_in_the_file_not_rows(tmp_path):
    # A quoted value may hold a line break; the row after it starts two lines further down.
    text = "\r\n".join(
        [HEADER, 'P1,"Mary\r\nAnne",Smith,1980-01-01,2020-01-01,S101', "", "P2,Tom,Jones,1980-13-01,2020-01-01,S101"]
    )

    report = dataset_import(directory=_patients_with(tmp_path, text), actor=Actor.command_line())

    assert [str(p).split(": ")[0] for p in report.errors] == ["patients.csv:5"]


def test_line_numbers_with_old_mac_line_endings(tmp_path):
    text = "\r".join([HEADER, "P1,Mary,Smith,1980-01-01,2020-01-01,S101", "P2,Tom,Jones,1980-13-01,2020-01-01,S101"])

    report = dataset_import(directory=_patients_with(tmp_path, text), actor=Actor.command_line())

    assert [str(p).split(": ")[0] for p in report.errors] == ["patients.csv:3"]


def test_optional_columns_may_be_left_out(tmp_path):
    report = dataset_import(
        directory=_patients_with(tmp_path, HEADER + "\nP1,Mary,Smith,1980-01-01,2020-01-01,S101"),
        actor=Actor.command_line(),
    )

    assert report.stored
    assert [p.column for p in report.warnings] == []  # the NHS number column is absent, not empty


def test_file_names_in_any_case_and_tsv(tmp_path):
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "Facilities.CSV").write_bytes((GOOD / "facilities.csv").read_bytes())
    (folder / "patients.tsv").write_bytes(_separated_by("\t")((GOOD / "patients.csv").read_bytes()))
    (folder / "readme.csv").write_text("not a coursework file", encoding="utf-8")

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert report.stored
    assert list(report.files) == ["Facilities.CSV", "patients.tsv"]
    assert report.notes == [
        "readme.csv is not one of the files Carebridge imports (facilities.csv, clinicians.csv, "
        "staff.csv, patients.csv, appointments.csv, prescriptions.csv, referrals.csv); it was "
        "left out."
    ]
