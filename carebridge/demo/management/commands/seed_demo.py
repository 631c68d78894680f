"""`carebridge seed-demo [--patients N] [--seed S] [--force]`: load the demo data and its logins.

`make run` calls this on every start, so on a database that already holds data it does nothing and says
so (exit 0). With --force it is an error instead (exit 1): the demo is only ever loaded into an empty
database, never on top of data it would duplicate.

Exit status: 0 loaded, or nothing to do; 1 not loaded (--force on a database with data, or the importer
refused the generated rows, which would be a bug in the generator).
"""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from carebridge.core.actor import Actor
from carebridge.csvio.terminal import TerminalProgress, problem_lines
from carebridge.demo.generator import DEFAULT_PATIENTS, DEFAULT_SEED
from carebridge.demo.services import (
    DEMO_PASSWORD,
    DemoDatabaseNotEmpty,
    DemoImportFailed,
    DemoSeedResult,
    database_contents,
    demo_seed,
    describe_contents,
)

EMPTY_DATABASE_ADVICE = (
    "To load the demo afresh, start from an empty database: delete the SQLite file (or drop "
    "and create the PostgreSQL database), run `carebridge migrate`, then `carebridge seed-demo`."
)


def _patient_count(text: str) -> int:
    try:
        number = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= number <= 9_999_999:
        raise argparse.ArgumentTypeError("the number of patients must be between 1 and 9,999,999")
    return number


class Command(BaseCommand):
    help = (
        "Load a generated demo data set (GP surgeries and hospitals in Birmingham, Solihull and Sutton "
        "Coldfield, with their clinicians, staff, patients, appointments, prescriptions and referrals) "
        "through the CSV importer, and create a demo login for each role. Does nothing if the database "
        "already holds data."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--patients",
            type=_patient_count,
            default=DEFAULT_PATIENTS,
            metavar="N",
            help=f"how many patients to generate (default {DEFAULT_PATIENTS:,}: four surgeries of "
            f"about {DEFAULT_PATIENTS // 4:,})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            metavar="S",
            help=f"the random seed: the same seed on the same day gives the same data (default {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="insist on loading: fail (exit 1) rather than quietly do nothing when the database already holds data",
        )

    def handle(self, *args, patients: int, seed: int, force: bool, **options) -> None:
        contents = database_contents()
        if contents:
            self._already_loaded(describe_contents(contents), force)
            return

        self.stdout.write(f"Loading the demo: {patients:,} patients (seed {seed}) ...")
        progress = TerminalProgress(self.stderr) if self.stderr.isatty() else None
        started = time.perf_counter()
        try:
            result = demo_seed(actor=Actor.command_line(), patients=patients, seed=seed, progress=progress)
        except DemoDatabaseNotEmpty as exc:
            # Another seed-demo loaded it between our look and our transaction.
            self._already_loaded(str(exc).removeprefix("The database already holds ").rstrip("."), force)
            return
        except DemoImportFailed as exc:
            for line in problem_lines(exc.report):
                self.stderr.write(line)
            raise CommandError(str(exc)) from None
        self._print_result(result, time.perf_counter() - started)

    def _already_loaded(self, what: str, force: bool) -> None:
        if force:
            raise CommandError(
                f"The database already holds {what}, and the demo would duplicate or clash with "
                f"it, so nothing was loaded. {EMPTY_DATABASE_ADVICE}"
            )
        self.stdout.write(
            f"The database already holds {what}: the demo is only loaded into an empty database, so nothing was done."
        )

    def _print_result(self, result: DemoSeedResult, total_seconds: float) -> None:
        report = result.report
        if report.warning_count:
            # The generator is meant to break none of the importer's rules; say so loudly if it did.
            for line in problem_lines(report):
                self.stderr.write(line)
        width = max(len(name) for name in result.rows)
        for name, count in result.rows.items():
            self.stdout.write(f"  {name.ljust(width)}  {count:>10,}")
        seconds = result.import_seconds
        rate = result.total_rows / seconds if seconds > 0 else 0.0
        self.stdout.write(
            f"Wrote {result.total_rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s; making them took "
            f"{result.generate_seconds:.1f} s of that, the importer the rest), with "
            f"{report.warning_count:,} import warnings."
        )
        self.stdout.write(
            f"Logins and clinic schedules: {result.logins_seconds:.1f} s. Altogether, committed: {total_seconds:.1f} s."
        )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (every one has the password {DEMO_PASSWORD}):")
        header = ("Username", "Password", "Name", "Role", "Facility")
        rows = [(login.username, DEMO_PASSWORD, login.name, login.role, login.facility) for login in result.logins]
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  " + "  ".join(cells).rstrip())
