"""Partial updates with their before and after, for services whose audit row must say what changed.

A service takes each field it may change as a keyword argument defaulting to `KEEP`, so that "leave it
as it is" differs from "set it to empty" (or None) and a caller passes only what a person changed.
"""

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import models


class Keep(enum.Enum):
    KEEP = "keep"


KEEP = Keep.KEEP


def audit_value(value: Any) -> Any:
    """A field's value as the audit trail keeps it: JSON, and a linked record by a name people read."""
    if isinstance(value, models.Model):
        return str(getattr(value, "source_id", None) or getattr(value, "public_id", None) or value.pk)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def apply_changes(instance: models.Model, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set on `instance` each value that is not KEEP and differs; return what changed, before and after."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in values.items():
        if value is KEEP:
            continue
        current = getattr(instance, name)
        if current == value:
            continue
        before[name] = audit_value(current)
        after[name] = audit_value(value)
        setattr(instance, name, value)
    return before, after
