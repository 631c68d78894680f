"""What an import found: the problems (each pinned to file, line and column) and the counts per file."""

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    # An error stops the whole import (nothing is written); a warning is reported and the row is kept.
    ERROR = "error"
    WARNING = "warning"


# Column name used when a problem is about a whole row or the whole file rather than one value.
WHOLE_ROW = "(whole row)"
WHOLE_FILE = "(whole file)"


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: str
    message: str
    severity: Severity

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(slots=True)
class FileCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    warnings: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "warnings": self.warnings,
        }


# A broken 100,000-row file could hold 100,000 problems. Every one is counted, but only the first
# few of each kind per file are kept, so the report (and the terminal) stays a readable size.
KEEP_PER_FILE = 1000


@dataclass
class ImportReport:
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, FileCounts] = field(default_factory=dict)
    # Things worth saying that are not about a row (a file in the folder that was not imported...).
    notes: list[str] = field(default_factory=list)
    # True once the data has been written and committed (never for a dry run or a failed import).
    stored: bool = False
    keep_per_file: int = KEEP_PER_FILE

    def counts(self, file: str) -> FileCounts:
        counts = self.files.get(file)
        if counts is None:
            counts = self.files[file] = FileCounts()
        return counts

    def add(self, problem: Problem) -> None:
        counts = self.counts(problem.file)
        if problem.is_error:
            counts.errors += 1
            kept = counts.errors
        else:
            counts.warnings += 1
            kept = counts.warnings
        if kept <= self.keep_per_file:
            self.problems.append(problem)

    def error(self, file: str, line: int, column: str, message: str) -> None:
        self.add(Problem(file, line, column, message, Severity.ERROR))

    def warning(self, file: str, line: int, column: str, message: str) -> None:
        self.add(Problem(file, line, column, message, Severity.WARNING))

    @property
    def error_count(self) -> int:
        return sum(counts.errors for counts in self.files.values())

    @property
    def warning_count(self) -> int:
        return sum(counts.warnings for counts in self.files.values())

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if not problem.is_error]

    def as_detail(self) -> dict[str, object]:
        """The counts as kept in the audit trail: no patient data, only numbers."""
        return {
            "dry_run": self.dry_run,
            "files": {name: counts.as_dict() for name, counts in self.files.items()},
            "errors": self.error_count,
            "warnings": self.warning_count,
        }
