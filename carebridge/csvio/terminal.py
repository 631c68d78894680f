"""How an import shows itself on the command line: progress while it runs, then the report."""

import time
from collections.abc import Iterator
from typing import TextIO

from django.core.management.base import OutputWrapper

from carebridge.csvio.report import ImportReport, Severity

# However many problems a file has, this many of each kind are printed; the rest are counted.
PRINT_PER_FILE = 200


class TerminalProgress:
    """Rows read so far in each file, rewritten in place on one line (only used on a terminal).

    `stream` is a text stream or a management command's self.stderr.
    """

    def __init__(self, stream: TextIO | OutputWrapper, interval: float = 0.1) -> None:
        self.stream = stream
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")  # it would otherwise end every update with a new line
        else:
            self.stream.write(text)
        self.stream.flush()

    def __call__(self, file: str, rows: int, finished: bool) -> None:
        now = time.monotonic()
        if not finished and now - self._last < self.interval:
            return
        self._last = now
        text = f"{file}: {rows:,} rows read" + (" - done" if finished else "")
        # Padded to the previous text's width so a shorter line wipes out the longer one under it.
        self._write("\r" + text.ljust(self._width) + ("\n" if finished else ""))
        self._width = 0 if finished else len(text)


def _problems(report: ImportReport, severity: Severity) -> Iterator[str]:
    # Files in the order they were imported (the report lists them so), rows in line order.
    order = {file: index for index, file in enumerate(report.files)}
    chosen = sorted(
        (problem for problem in report.problems if problem.severity is severity),
        key=lambda problem: (order.get(problem.file, len(order)), problem.line),
    )
    printed: dict[str, int] = {}
    for problem in chosen:
        printed[problem.file] = printed.get(problem.file, 0) + 1
        if printed[problem.file] <= PRINT_PER_FILE:
            yield str(problem)
    for file, counts in report.files.items():
        total = counts.errors if severity is Severity.ERROR else counts.warnings
        shown = min(printed.get(file, 0), PRINT_PER_FILE)
        if total > shown:
            kind = "errors" if severity is Severity.ERROR else "warnings"
            yield f"{file}: ... and {total - shown:,} more {kind} (only the first {shown:,} are shown)."


def problem_lines(report: ImportReport) -> list[str]:
    """Errors, then warnings, each under a heading that says what they mean."""
    lines: list[str] = []
    if report.has_errors:
        lines.append(f"Errors ({report.error_count:,}): nothing has been imported. Correct these and import again.")
        lines.extend(_problems(report, Severity.ERROR))
    if report.warning_count:
        kept = "would be kept" if report.dry_run or report.has_errors else "have been kept"
        lines.append(f"Warnings ({report.warning_count:,}): these rows {kept}, but please check them.")
        lines.extend(_problems(report, Severity.WARNING))
    return lines


def summary_lines(report: ImportReport) -> list[str]:
    lines = list(report.notes)
    for file, counts in report.files.items():
        if report.has_errors:
            lines.append(f"{file}: {counts.rows:,} rows, {counts.errors:,} errors, {counts.warnings:,} warnings")
        else:
            lines.append(
                f"{file}: {counts.rows:,} rows: {counts.created:,} new, {counts.updated:,} changed, "
                f"{counts.unchanged:,} unchanged, {counts.warnings:,} warnings"
            )
    rows = sum(counts.rows for counts in report.files.values())
    if report.has_errors:
        lines.append(f"Nothing was imported: {report.error_count:,} errors in {rows:,} rows.")
    elif report.dry_run:
        lines.append(
            f"Dry run: {rows:,} rows checked, no errors, {report.warning_count:,} warnings. Nothing was "
            f"written; the counts above are what an import would do."
        )
    else:
        lines.append(f"Imported {rows:,} rows from {len(report.files)} files, with {report.warning_count:,} warnings.")
    return lines
