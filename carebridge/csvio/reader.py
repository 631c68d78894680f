"""Reading a CSV file the way real exports arrive, one row at a time, with the line each row starts on.

Accepted without comment: a UTF-8 byte-order mark (Excel's "CSV UTF-8"), CRLF, LF or CR line endings
in any mix, no newline after the last row, blank lines and rows of nothing but separators (spreadsheets
leave them at the end), and a tab- or semicolon-separated file (the separator is read off the header
line). What cannot be read safely is reported as an error and the row or file is not imported.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from carebridge.csvio.report import WHOLE_FILE, WHOLE_ROW, ImportReport

# Bytes that are not UTF-8 are decoded with "surrogateescape", which turns each into one lone
# surrogate character; finding one tells us exactly which value on which line is not UTF-8.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")

_NOT_UTF8_ADVICE = 'Save the file from the spreadsheet as "CSV UTF-8" and import it again.'

_SEPARATOR_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}

# Called with the header's column names (trimmed); answers (column, message) for each problem.
HeaderCheck = Callable[[list[str]], list[tuple[str, str]]]


def sniff_delimiter(header_line: str) -> str:
    """Tab, semicolon or comma: whichever the header line uses most (header names contain none)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in ("\t", ";", ",")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


class CsvRecords:
    """The data rows of one CSV file as (line number, {column: value}), read lazily.

    Problems found while reading (encoding, quotes, header, number of values) go to `report`.
    `unreadable` is set when the file could not be read to its end (a bad header, a stray quote),
    so that records in other files pointing at its rows are not reported as missing as well.
    """

    def __init__(self, path: Path, *, file: str, report: ImportReport, check_header: HeaderCheck) -> None:
        self.path = path
        self.file = file
        self.report = report
        self.check_header = check_header
        self.unreadable = False
        self.columns: list[str] = []
        self.delimiter = ","
        # The IDs (first value) of rows left out because they could not be read: rows of other files
        # that refer to them are not reported as referring to a missing record.
        self.skipped_ids: set[str] = set()

    def _fail(self, line: int, column: str, message: str) -> None:
        self.report.error(self.file, line, column, message)
        self.unreadable = True

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        with self.path.open("rb") as raw:
            start = raw.read(8192)
            if start.startswith((b"\xff\xfe", b"\xfe\xff")):
                self._fail(
                    1,
                    WHOLE_FILE,
                    'This file is saved as UTF-16 ("Unicode text"), which Carebridge '
                    "does not read. " + _NOT_UTF8_ADVICE,
                )
                return
            if b"\x00" in start:
                self._fail(
                    1,
                    WHOLE_FILE,
                    "This is not a text file (it contains binary data). Export the "
                    "data from the spreadsheet as CSV and import that file.",
                )
                return
            raw.seek(0)
            # newline="" keeps "\r\n", "\n" and "\r" for the csv module, which understands them all,
            # including a line break inside a quoted value.
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
            yield from self._records(text)

    def _records(self, text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, str]]]:
        header_line_number = 0
        header_text = ""
        while not header_text.strip():
            header_text = text.readline()
            if header_text == "":
                self._fail(1, WHOLE_FILE, "The file is empty: it needs a header line naming the columns.")
                return
            header_line_number += 1
        if _NOT_UTF8.search(header_text):
            self._fail(
                header_line_number,
                WHOLE_FILE,
                "The header line contains characters that are not UTF-8. " + _NOT_UTF8_ADVICE,
            )
            return
        self.delimiter = sniff_delimiter(header_text)
        try:
            header = next(csv.reader([header_text], delimiter=self.delimiter, strict=True))
        except csv.Error:
            self._fail(
                header_line_number, WHOLE_ROW, "The header line cannot be read: its quotation marks do not pair up."
            )
            return
        # Header names are matched ignoring case and surrounding spaces.
        self.columns = [name.strip().lower() for name in header]
        header_problems = self.check_header([name for name in self.columns if name != ""])
        for column, message in header_problems:
            self._fail(header_line_number, column, message)
        if header_problems:
            return

        width = len(self.columns)
        # Spreadsheets often add columns with no name and nothing in them at the right; those are
        # ignored, but a value under a column with no name cannot be placed and is an error.
        unnamed = [index for index, name in enumerate(self.columns) if name == ""]
        named = [(index, name) for index, name in enumerate(self.columns) if name != ""]
        reader = csv.reader(text, delimiter=self.delimiter, strict=True)
        lines_before = header_line_number
        while True:
            # A row starts on the line after the last one the previous row used (values in quotes
            # may run over several lines).
            line = lines_before + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error:
                self._fail(
                    line,
                    WHOLE_ROW,
                    "A quotation mark on this line is not closed, or text follows a closing quotation "
                    "mark. Values containing commas must be wholly in double quotes, and a quotation "
                    'mark inside a value is written twice (""). Nothing after this line was read.',
                )
                return
            lines_before = header_line_number + reader.line_num
            if not any(value.strip() for value in values):
                continue  # a blank line, or a row of nothing but separators
            if len(values) != width:
                self._wrong_width(line, values)
                self.skipped_ids.add(values[0].strip())
                continue
            if _NOT_UTF8.search("".join(values)):
                for column, value in zip(self.columns, values, strict=True):
                    if _NOT_UTF8.search(value):
                        self.report.error(
                            self.file,
                            line,
                            column,
                            "This value contains characters that are not UTF-8 (the file was "
                            "probably saved in an older Windows encoding). " + _NOT_UTF8_ADVICE,
                        )
                self.skipped_ids.add(values[0].strip())
                continue
            if unnamed:
                stray = [index for index in unnamed if values[index].strip()]
                if stray:
                    self.report.error(
                        self.file,
                        line,
                        f"(column {stray[0] + 1}, which has no name)",
                        f"This row has a value ('{values[stray[0]].strip()}') in a column that has no "
                        f"name in the header, so Carebridge cannot tell what it is.",
                    )
                    self.skipped_ids.add(values[0].strip())
                    continue
                yield line, {name: values[index] for index, name in named}
                continue
            yield line, dict(zip(self.columns, values, strict=True))

    def _wrong_width(self, line: int, values: list[str]) -> None:
        width = len(self.columns)
        if len(values) < width:
            column = self.columns[len(values)]
            message = (
                f"This row has {len(values)} values but the header has {width} columns, so "
                f"'{column}' and the columns after it are missing. Check for a missing separator."
            )
        else:
            column = self.columns[-1]
            separator = _SEPARATOR_NAMES[self.delimiter]
            message = (
                f"This row has {len(values)} values but the header has {width} columns. A value that "
                f"contains {separator} must be put in double quotes."
            )
        self.report.error(self.file, line, column, message)
