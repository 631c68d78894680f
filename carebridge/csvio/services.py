"""Importing and exporting the coursework data set: the functions the command line (and the demo-data
generator) call. Each is one transaction and writes its own audit row.

The import writes with bulk_create / bulk_update rather than through each app's one-record services:
a practice list of 100,000 patients must import in well under a minute, which one-record-at-a-time
writes with a full_clean() each cannot do. Every column is checked here instead (formats.py, cells.py,
rules.py), to the same limits the models set.
"""

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from django.db import connection, transaction

from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core.actor import Actor
from carebridge.csvio import exporter, formats
from carebridge.csvio.importer import FileSource, Progress, import_sources
from carebridge.csvio.reader import CsvRecords
from carebridge.csvio.report import ImportReport, Problem, Severity

__all__ = [
    "ImportReport",
    "ImportUsageError",
    "Problem",
    "Severity",
    "dataset_export",
    "dataset_import",
    "dataset_import_rows",
    "find_files",
]

# File name endings accepted for each coursework file ("patients.csv", also "Patients.CSV", "patients.tsv").
_EXTENSIONS = (".csv", ".tsv")


class ImportUsageError(ValueError):
    """The import cannot start (no such folder, no coursework file in it). Exit code 2 on the command line."""


def find_files(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """The coursework files in `directory` by spec name, and notes about other files found there."""
    if not directory.exists():
        raise ImportUsageError(f"{directory}: there is no such folder.")
    if not directory.is_dir():
        raise ImportUsageError(f"{directory}: this is a file, not a folder. Give the folder that holds the CSV files.")
    found: dict[str, Path] = {}
    notes: list[str] = []
    stems = {spec.name.removesuffix(".csv"): spec.name for spec in formats.SPECS}
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        stem, suffix = path.stem.lower(), path.suffix.lower()
        name = stems.get(stem)
        if name is not None and suffix in _EXTENSIONS:
            if name in found:
                raise ImportUsageError(
                    f"{directory}: both {found[name].name} and {path.name} are there; keep only one of them."
                )
            found[name] = path
        elif suffix in _EXTENSIONS:
            notes.append(
                f"{path.name} is not one of the files Carebridge imports "
                f"({', '.join(spec.name for spec in formats.SPECS)}); it was left out."
            )
    if not found:
        raise ImportUsageError(
            f"{directory}: none of the files Carebridge imports is there (it looks for "
            f"{', '.join(spec.name for spec in formats.SPECS)})."
        )
    return found, notes


def dataset_import(
    *, directory: Path, actor: Actor, dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Import whichever of the seven coursework files are in `directory`.

    Raises ImportUsageError when the import cannot start. Otherwise answers the report: when it has
    errors nothing was written; `report.stored` says whether the data was committed.
    """
    paths, notes = find_files(directory)
    report = ImportReport(dry_run=dry_run, notes=notes)
    sources = []
    for name, path in paths.items():
        spec = formats.SPECS_BY_NAME[name]
        rows = CsvRecords(
            path, file=path.name, report=report, check_header=functools.partial(formats.check_header, spec)
        )
        sources.append(FileSource(spec, path.name, rows))
    try:
        return import_sources(
            sources=sources, actor=actor, report=report, progress=progress, description=str(directory)
        )
    except OSError as exc:
        # The folder was readable a moment ago; a file vanishing or unreadable mid-import is a usage problem.
        raise ImportUsageError(f"{directory}: a file could not be read ({exc.strerror or exc}).") from exc


def dataset_import_rows(
    *,
    rows_by_file: Mapping[str, Iterable[tuple[int, dict[str, str]]]],
    actor: Actor,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import rows given directly: {"patients.csv": [(line, {coursework column: text}), ...], ...}.

    The same checks and the same all-or-nothing transaction as a folder import. Files are taken in
    dependency order (facilities, clinicians, staff, patients, appointments, prescriptions, referrals)
    whatever order the mapping has.
    """
    unknown = set(rows_by_file) - formats.SPECS_BY_NAME.keys()
    if unknown:
        raise ValueError(f"not coursework files: {', '.join(sorted(unknown))}")
    report = ImportReport(dry_run=dry_run)
    sources = [FileSource(formats.SPECS_BY_NAME[name], name, rows) for name, rows in rows_by_file.items()]
    return import_sources(sources=sources, actor=actor, report=report, progress=progress, description="rows")


def dataset_export(*, directory: Path, actor: Actor) -> dict[str, int]:
    """Write the seven coursework files into `directory` (created if need be); answers rows per file."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    # On PostgreSQL all seven files are read from one snapshot, so a referral written mid-export cannot
    # point at an appointment missing from appointments.csv. Only possible when this call opens the
    # transaction (it must be the transaction's first statement).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for spec in formats.SPECS:
            counts[spec.name] = exporter.write_csv(directory / spec.name, spec.header, exporter.ROWS[spec.name]())
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            object_type=AuditObject.DATASET,
            object_id=str(directory)[:64],
            detail={"files": counts},
        )
    return counts
