"""`carebridge import-csv` and `carebridge export-csv`: exit codes, output, never a traceback.

The first tests call the commands in-process (call_command); the last ones run the installed
`carebridge` console script against a database of their own, as a person would.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from carebridge.csvio.terminal import TerminalProgress
from carebridge.csvio.tests.conftest import BAD, GOOD, WARNINGS, row_counts

PROBLEM_LINE = re.compile(r"^[\w.]+\.csv:\d+: [\w() ]+: \S")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(*args: str, stderr: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_succeeds_with_exit_0():
    code, out, err = _run("import_csv", str(GOOD))

    assert code == 0
    assert err == ""
    assert "patients.csv: 3 rows: 3 new, 0 changed, 0 unchanged, 0 warnings" in out
    assert out.rstrip().endswith("Imported 23 rows from 7 files, with 0 warnings.")


@pytest.mark.django_db
def test_warnings_are_printed_as_file_line_column_message_and_the_import_is_kept():
    code, out, err = _run("import_csv", str(WARNINGS))

    assert code == 0
    lines = err.splitlines()
    assert lines[0] == "Warnings (35): these rows have been kept, but please check them."
    assert all(PROBLEM_LINE.match(line) for line in lines[1:]), lines
    assert "patients.csv:5: nhs_number: NHS number 123 456 7890 fails the NHS number check" in err
    assert row_counts()["Patient"] == 7


@pytest.mark.django_db
def test_errors_exit_1_and_nothing_is_written(make_dataset):
    folder = make_dataset(BAD / "date_day_first")

    code, out, err = _run("import_csv", str(folder))

    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("Errors (1): nothing has been imported.")
    assert lines[1].startswith("appointments.csv:2: appointment_date: '6/10/2025' is not written as year-month-day")
    assert "Traceback" not in err + out
    assert "Nothing was imported: 1 errors" in out
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
def test_dry_run_exits_0_and_writes_nothing():
    code, out, _ = _run("import_csv", str(GOOD), "--dry-run")

    assert code == 0
    assert "Dry run" in out
    assert set(row_counts().values()) == {0}


@pytest.mark.django_db
def test_dry_run_with_errors_exits_1(make_dataset):
    code, _, err = _run("import_csv", str(make_dataset(BAD / "duplicate_id")), "--dry-run")

    assert code == 1
    assert "appointments.csv:5: appointment_id: The ID A103 is used again" in err


@pytest.mark.django_db
def test_missing_folder_is_a_usage_error(tmp_path):
    code, _, err = _run("import_csv", str(tmp_path / "nowhere"))

    assert code == 2
    assert err.strip() == f"{tmp_path / 'nowhere'}: there is no such folder."


@pytest.mark.django_db
def test_a_file_instead_of_a_folder_is_a_usage_error():
    code, _, err = _run("import_csv", str(GOOD / "patients.csv"))

    assert code == 2
    assert "this is a file, not a folder" in err


@pytest.mark.django_db
def test_a_folder_without_any_coursework_file_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")

    code, _, err = _run("import_csv", str(tmp_path))

    assert code == 2
    assert "none of the files Carebridge imports is there" in err


@pytest.mark.django_db
def test_two_spellings_of_one_file_is_a_usage_error(tmp_path):
    (tmp_path / "patients.csv").write_bytes((GOOD / "patients.csv").read_bytes())
    (tmp_path / "Patients.tsv").write_bytes((GOOD / "patients.csv").read_bytes())

    code, _, err = _run("import_csv", str(tmp_path))

    assert code == 2
    assert "both Patients.tsv and patients.csv are there; keep only one of them." in err


@pytest.mark.django_db
def test_printing_stops_at_200_problems_per_file_but_all_are_counted(tmp_path):
    lines = ["patient_id,first_name,last_name,date_of_birth,registration_date,gp_surgery_id"]
    lines += [f"P{n},Name,Surname,1990-01-01,2020-01-01,S999" for n in range(450)]
    (tmp_path / "patients.csv").write_text("\n".join(lines), encoding="utf-8")

    code, _, err = _run("import_csv", str(tmp_path))

    assert code == 1
    assert len([line for line in err.splitlines() if PROBLEM_LINE.match(line)]) == 200
    assert "patients.csv: ... and 250 more errors (only the first 200 are shown)." in err
    assert err.splitlines()[0].startswith("Errors (450)")


@pytest.mark.django_db
def test_progress_is_shown_on_a_terminal():
    terminal = _Terminal()

    code, _, _ = _run("import_csv", str(GOOD), stderr=terminal)

    assert code == 0
    assert "\rpatients.csv: 3 rows read - done\n" in terminal.getvalue()
    assert "rows read\n\n" not in terminal.getvalue()  # Django's own line ending is not added


def test_progress_rewrites_one_line_per_file():
    out = io.StringIO()
    progress = TerminalProgress(out, interval=0)

    progress("patients.csv", 10_000, False)
    progress("patients.csv", 20_000, False)
    progress("patients.csv", 20_500, True)
    progress("appointments.csv", 3, True)

    assert out.getvalue() == (
        "\rpatients.csv: 10,000 rows read\rpatients.csv: 20,000 rows read"
        "\rpatients.csv: 20,500 rows read - done\n\rappointments.csv: 3 rows read - done\n"
    )


@pytest.mark.django_db
def test_no_progress_when_not_on_a_terminal():
    _, _, err = _run("import_csv", str(GOOD))

    assert "rows read" not in err


@pytest.mark.django_db
def test_export_command(tmp_path):
    _run("import_csv", str(GOOD))

    code, out, _ = _run("export_csv", str(tmp_path / "out"))

    assert code == 0
    assert "patients.csv: 3 rows" in out
    assert (tmp_path / "out" / "patients.csv").read_bytes() == (GOOD / "patients.csv").read_bytes()


@pytest.mark.django_db
def test_export_to_a_file_is_a_usage_error(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("", encoding="utf-8")

    code, _, err = _run("export_csv", str(target))

    assert code == 2
    assert "this is a file, not a folder" in err


# --- the installed console script ---------------------------------------------------------------------
CAREBRIDGE = Path(sys.executable).with_name("carebridge")


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """A database of its own (the test database lives inside the test's transaction), migrated once."""
    database = tmp_path_factory.mktemp("cli") / "carebridge.sqlite3"
    env = {**os.environ, "CAREBRIDGE_DEMO": "true", "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([str(CAREBRIDGE), "migrate", "-v0"], env=env, check=True, capture_output=True, timeout=300)
    return env


def _carebridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CAREBRIDGE), *args], env=env, capture_output=True, text=True, timeout=300)


def test_cli_import_then_export_with_hyphenated_names(cli_env, tmp_path):
    imported = _carebridge(cli_env, "import-csv", str(GOOD))
    exported = _carebridge(cli_env, "export-csv", str(tmp_path))

    assert (imported.returncode, exported.returncode) == (0, 0), imported.stderr + exported.stderr
    assert "Imported 23 rows" in imported.stdout
    assert (tmp_path / "referrals.csv").read_bytes() == (GOOD / "referrals.csv").read_bytes()


def test_cli_errors_exit_1_without_a_traceback(cli_env, make_dataset):
    result = _carebridge(cli_env, "import-csv", str(make_dataset(BAD / "nhs_scientific")))

    assert result.returncode == 1
    assert "patients.csv:2: nhs_number: '9.43477E+09' is not an NHS number." in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args",
    [("import-csv", "/no/such/folder"), ("import-csv",), ("import_csv", "--bogus", ".")],
    ids=["missing folder", "no folder given", "unknown option"],
)
def test_cli_usage_errors_exit_2(cli_env, args):
    result = _carebridge(cli_env, *args)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_database_not_ready_exits_1_without_a_traceback(tmp_path):
    env = {**os.environ, "CAREBRIDGE_DEMO": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}

    result = _carebridge(env, "import-csv", str(GOOD))

    assert result.returncode == 1
    assert "run `carebridge migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_help_for_the_hyphenated_name(cli_env):
    result = _carebridge(cli_env, "help", "import-csv")

    assert result.returncode == 0
    assert "--dry-run" in result.stdout
