"""`carebridge export-csv DIR`: write the seven coursework CSV files into a folder.

Exit status: 0 written; 1 the files could not be written (the database or the folder failed);
2 DIR is a file, not a folder.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from carebridge.core.actor import Actor
from carebridge.csvio.services import dataset_export

EXIT_FAILED = 1
EXIT_USAGE = 2


class Command(BaseCommand):
    help = (
        "Export facilities, clinicians, staff, patients, appointments, prescriptions and referrals to DIR "
        "as CSV files in the coursework's format (created if need be; existing files are replaced)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR", help="the folder to write the CSV files into")

    def handle(self, *args, directory: Path, **options) -> None:
        if directory.exists() and not directory.is_dir():
            self.stderr.write(f"{directory}: this is a file, not a folder. Give a folder to write the CSV files into.")
            sys.exit(EXIT_USAGE)
        try:
            counts = dataset_export(directory=directory, actor=Actor.command_line())
        except OSError as exc:
            self.stderr.write(f"{directory}: the files could not be written ({exc.strerror or exc}).")
            sys.exit(EXIT_FAILED)
        except DatabaseError as exc:
            self.stderr.write(f"The database could not be read, so nothing was exported ({exc}).")
            sys.exit(EXIT_FAILED)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count:,} rows")
        self.stdout.write(f"Exported {sum(counts.values()):,} rows to {directory}.")
