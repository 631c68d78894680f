"""Small model building blocks every domain record shares."""

import uuid

from django.db import models


def new_public_id() -> uuid.UUID:
    return uuid.uuid4()


def public_id_from(value: uuid.UUID | str) -> uuid.UUID | None:
    """`value` as a public id, or None when it cannot be one: to look up, an id that is not a UUID is an
    id nothing has."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class SourceRecord(models.Model):
    """A record that may have come from the coursework data set.

    `source_id` keeps the ID it had there (P001, C001, ...) so an export reproduces it; `public_id` is
    the opaque ID used in URLs and APIs, so no URL reveals how many records there are.
    """

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    source_id = models.CharField(max_length=32, unique=True, null=True, blank=True)

    class Meta:
        abstract = True


class EmploymentStatus(models.TextChoices):
    FULL_TIME = "full_time", "Full-time"
    PART_TIME = "part_time", "Part-time"
