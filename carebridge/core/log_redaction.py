"""Log records carry no patient identifiers: the filter every handler in the settings uses.

What a log line may hold is what an operator needs to see that something is wrong, never who it was
about. Paths and messages name patients by their public ID (a UUID, dashed or as 32 hex digits), NHS
number, phone number or email address; each is replaced by a placeholder. Names and free text cannot
be recognised, so code must not log them in the first place; this filter is the net under that rule.
"""

import logging
import re

_PATTERNS = (
    (re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    # NHS numbers as people write them (943 476 5919, 943-476-5919) and any run of 9 or more digits
    # (an NHS number, a phone number).
    (re.compile(r"\b\d{3}[ -]\d{3}[ -]\d{4}\b"), "<number>"),
    (re.compile(r"\d{9,}"), "<number>"),
    (re.compile(r"[^\s<>\"'@,;:/()\[\]]+@[^\s<>\"'@,;:/()\[\]]+\.[A-Za-z]{2,}"), "<email>"),
)


def redact(text: str) -> str:
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


class RedactIdentifiers(logging.Filter):
    """Rewrites each record's message (and traceback) with identifiers blanked out. Never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep its template, lose its arguments
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # The formatter uses exc_text when it is set, so the traceback is printed as redacted here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
