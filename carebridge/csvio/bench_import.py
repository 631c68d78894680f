"""How fast does `carebridge import-csv` import a practice list? Run by hand, not by the test suite.

    .venv/bin/python -m carebridge.csvio.bench_import --rows 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cb_bench .venv/bin/python -m carebridge.csvio.bench_import

Writes N synthetic patients (and the surgeries they are registered at) into a temporary folder, runs
`carebridge import-csv` on it as a separate process (end to end: start-up, reading, checking, writing,
commit) and prints rows per second and the importer's peak memory. Then imports the same files again
(every row unchanged), which is the other half of the story. Without DATABASE_URL a new SQLite database
is made in the temporary folder; with it, that database is migrated and used. IDs and NHS numbers are
drawn afresh each run so repeated runs against one database do not collide.
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from carebridge.core.nhs_number import check_digit

SURGERIES = 20
FIRST_NAMES = (
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Priya",
    "Aisha",
    "Wei",
    "Kofi",
    "Siobhan",
    "Dylan",
    "Freya",
    "Zara",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Khan",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "O'Brien",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Murphy",
)
STREETS = ("High Street", "Station Road", "Church Lane", "Park Avenue", "Mill Lane", "Victoria Road")


def _nhs_numbers(start: int):
    """Valid NHS numbers counting up from a nine-digit start (some nine-digit stems have no check digit)."""
    stem = start
    while True:
        digits = f"{stem:09d}"
        check = check_digit(digits)
        if check is not None:
            yield digits + str(check)
        stem += 1


def write_dataset(folder: Path, rows: int, prefix: str, seed: int) -> None:
    chooser = random.Random(seed)
    with (folder / "facilities.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "facility_id",
                "facility_name",
                "facility_type",
                "address",
                "postcode",
                "phone_number",
                "email",
                "opening_hours",
                "manager_name",
                "capacity",
                "specialities_offered",
            ]
        )
        for number in range(SURGERIES):
            writer.writerow(
                [
                    f"{prefix}S{number}",
                    f"Bench Surgery {number}",
                    "GP Surgery",
                    f"{number} {chooser.choice(STREETS)}, Leeds",
                    "LS1 4AB",
                    "0113-200-1000",
                    "bench@example.nhs.uk",
                    "Mon-Fri: 8:00-18:30",
                    "Dr. Bench",
                    20000,
                    "General Practice",
                ]
            )
    numbers = _nhs_numbers(chooser.randrange(100_000_000, 800_000_000))
    with (folder / "patients.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "patient_id",
                "first_name",
                "last_name",
                "date_of_birth",
                "nhs_number",
                "gender",
                "phone_number",
                "email",
                "address",
                "postcode",
                "emergency_contact_name",
                "emergency_contact_phone",
                "registration_date",
                "gp_surgery_id",
            ]
        )
        for number in range(rows):
            first, last = chooser.choice(FIRST_NAMES), chooser.choice(LAST_NAMES)
            born = chooser.randrange(1930, 2024)
            writer.writerow(
                [
                    f"{prefix}P{number}",
                    first,
                    last,
                    f"{born}-{chooser.randrange(1, 13):02d}-{chooser.randrange(1, 29):02d}",
                    next(numbers),
                    chooser.choice("MFMFMFOU"),
                    f"07700{chooser.randrange(900000, 999999)}",
                    f"{first.lower()}.{last.lower().replace(chr(39), '')}{number}@example.com",
                    f"{chooser.randrange(1, 300)} {chooser.choice(STREETS)}, Leeds",
                    "LS6 2QR",
                    f"{chooser.choice(FIRST_NAMES)} {last}",
                    f"07700{chooser.randrange(900000, 999999)}",
                    # Registered after birth (and not in the future), so the data raise no warnings.
                    f"{chooser.randrange(max(born, 1990) + 1, 2026)}-{chooser.randrange(1, 13):02d}-"
                    f"{chooser.randrange(1, 29):02d}",
                    f"{prefix}S{chooser.randrange(SURGERIES)}",
                ]
            )


def timed_import(command: Path, folder: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run([str(command), "import-csv", str(folder)], env=env, capture_output=True, text=True)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="patients to generate (default 100,000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one each run)")
    arguments = parser.parse_args()

    command = Path(sys.executable).with_name("carebridge")
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    with tempfile.TemporaryDirectory(prefix="carebridge-bench-") as temporary:
        folder = Path(temporary) / "data"
        folder.mkdir()
        env = {**os.environ, "CAREBRIDGE_DEMO": os.environ.get("CAREBRIDGE_DEMO", "true")}
        env.setdefault("DATABASE_URL", f"sqlite:///{Path(temporary) / 'bench.sqlite3'}")
        print(f"database: {env['DATABASE_URL'].split('@')[-1]}")
        subprocess.run([str(command), "migrate", "-v0"], env=env, check=True)

        write_dataset(folder, arguments.rows, prefix=f"B{seed % 100000:05d}", seed=seed)
        total = arguments.rows + SURGERIES
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"generated {arguments.rows:,} patients and {SURGERIES} surgeries ({size / 1e6:.1f} MB)")

        for label in ("first import (all new)", "second import (all unchanged)"):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed, result = timed_import(command, folder, env)
            if result.returncode != 0:
                print(result.stdout, result.stderr, sep="\n")
                raise SystemExit(f"import failed with exit code {result.returncode}")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU time of the import process itself: unlike the wall clock, it hardly changes when other
            # work shares the machine (a database server's own time is not in it).
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            # On Linux ru_maxrss is in KiB: the largest of the child processes so far.
            peak = after.ru_maxrss / 1024
            print(
                f"{label}: {total:,} rows in {elapsed:.1f} s = {total / elapsed:,.0f} rows/s; importer CPU "
                f"{cpu:.1f} s; peak memory of any child so far {peak:.0f} MiB"
            )


if __name__ == "__main__":
    main()
