"""`carebridge import-csv DIR [--dry-run]`: import the coursework CSV files found in a folder.

Exit status: 0 imported (warnings, if any, printed); 1 nothing imported because of errors (each printed
as file:line: column: what is wrong); 2 the import could not start (no such folder, no known file).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from carebridge.core.actor import Actor
from carebridge.csvio.services import ImportUsageError, dataset_import
from carebridge.csvio.terminal import TerminalProgress, problem_lines, summary_lines

EXIT_ERRORS = 1
EXIT_USAGE = 2


class Command(BaseCommand):
    help = (
        "Import the coursework CSV files (facilities, clinicians, staff, patients, appointments, "
        "prescriptions, referrals) found in DIR. Nothing is written if any row has an error."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR", help="the folder that holds the CSV files")
        parser.add_argument("--dry-run", action="store_true", help="check everything and report, but write nothing")

    def handle(self, *args, directory: Path, dry_run: bool, **options) -> None:
        # Progress is for a person watching; a log file or a pipe gets only the report.
        progress = TerminalProgress(self.stderr) if self.stderr.isatty() else None
        try:
            report = dataset_import(directory=directory, actor=Actor.command_line(), dry_run=dry_run, progress=progress)
        except ImportUsageError as exc:
            self.stderr.write(str(exc))
            sys.exit(EXIT_USAGE)
        except DatabaseError as exc:
            self.stderr.write(
                f"The database could not be used, so nothing was imported ({exc}). If this is a new "
                f"installation, run `carebridge migrate` first."
            )
            sys.exit(EXIT_ERRORS)
        except KeyboardInterrupt:
            # The transaction was rolled back on the way out: say so rather than show a traceback.
            self.stderr.write("\nStopped before the end: nothing was imported.")
            sys.exit(EXIT_ERRORS)
        for line in problem_lines(report):
            self.stderr.write(line)
        for line in summary_lines(report):
            self.stdout.write(line)
        if report.has_errors:
            sys.exit(EXIT_ERRORS)
