"""The `carebridge` command in a checkout where `make run` has run, and where nothing is configured.

These run the installed console script as a person would, with an environment that holds nothing but
PATH and the var folder (CAREBRIDGE_VAR_DIR), so nothing the test run itself set (pytest's own
variables let the settings use the built-in key) can help.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import carebridge
from carebridge.manage import run_env_defaults

CAREBRIDGE = Path(sys.executable).with_name("carebridge")
# The importer's own small valid data set: 23 rows in 7 files, 3 of them patients.
GOOD_CSV = Path(carebridge.__file__).resolve().parent / "csvio" / "tests" / "fixtures" / "good"


def _carebridge(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CAREBRIDGE_VAR_DIR": str(var_dir)}
    return subprocess.run([str(CAREBRIDGE), *args], env=env, capture_output=True, text=True)


def test_commands_use_the_database_and_demo_settings_make_run_wrote(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    database = tmp_path / "elsewhere" / "demo.sqlite3"
    database.parent.mkdir()
    (var_dir / "run.env").write_text(
        f"# as bin/run writes it\nCAREBRIDGE_DEMO=true\nDATABASE_URL=sqlite:///{database}\n"
    )

    migrated = _carebridge(var_dir, "migrate", "--verbosity", "0")
    imported = _carebridge(var_dir, "import-csv", str(GOOD_CSV))

    assert migrated.returncode == 0, migrated.stderr
    assert imported.returncode == 0, imported.stderr
    assert "Imported 23 rows from 7 files" in imported.stdout
    # The rows are in the database run.env names, not in the default one under the var folder.
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM patients_patient").fetchone() == (3,)
    assert not (var_dir / "carebridge.sqlite3").exists()


def test_without_settings_the_command_says_what_is_missing_in_one_line_and_exits_2(tmp_path):
    result = _carebridge(tmp_path, "import-csv", str(GOOD_CSV))

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY must be set" in lines[0]
    assert str(tmp_path / "run.env") in lines[0]
    assert "docs/configuration.md" in lines[0]


def test_the_environment_wins_over_run_env(tmp_path):
    (tmp_path / "run.env").write_text("CAREBRIDGE_DEMO=true\nDATABASE_URL=sqlite:////from/run.env\n")

    defaults = run_env_defaults({"CAREBRIDGE_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://db/mine"})

    assert defaults == {"CAREBRIDGE_DEMO": "true"}


def test_run_env_is_ignored_where_a_secret_key_is_set(tmp_path):
    # A deployment with its own key must not quietly pick up the demo's database.
    (tmp_path / "run.env").write_text("CAREBRIDGE_DEMO=true\nDATABASE_URL=sqlite:////from/run.env\n")

    assert run_env_defaults({"CAREBRIDGE_VAR_DIR": str(tmp_path), "SECRET_KEY": "s3cret"}) == {}
