"""Writing and reading the legitimate relationships between people and patients (DESIGN section 3).

Care services call `relationships_replace()` in the same transaction as the appointment or referral
they make or change, with rows they build from it; the windows below decide how long each lasts. The
importer calls it in bulk after its own inserts. Nothing else writes CareRelationship.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from carebridge.access.models import CareRelationship, RelationshipKind
from carebridge.core import clock

# Large imports replace relationships in batches: SQLite caps the parameters of one statement.
_BATCH = 2000


def appointment_relationship_ends(*, starts_at: dt.datetime, cancelled_at: dt.datetime | None) -> dt.datetime:
    """A cancelled appointment ends its relationship when it is cancelled; any other lasts a while after
    its time, for the letters, results and follow-up that come after a visit."""
    if cancelled_at is not None:
        return cancelled_at
    return starts_at + dt.timedelta(days=settings.CARE_ACCESS_DAYS_AFTER_APPOINTMENT)


def referral_relationship_ends(*, completed_at: dt.datetime | None) -> dt.datetime | None:
    """An open referral lasts while it is open; a completed one for a while after."""
    if completed_at is None:
        return None
    return completed_at + dt.timedelta(days=settings.CARE_ACCESS_DAYS_AFTER_REFERRAL)


@dataclass(frozen=True)
class RelationshipRow:
    patient_id: int
    kind: RelationshipKind
    source_id: uuid.UUID
    facility_id: int
    clinician_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    summary: str

    def values(self) -> dict[str, object]:
        """The row as CareRelationship field values (the importer writes them with COPY)."""
        return {
            "patient_id": self.patient_id,
            "kind": self.kind,
            "source_id": self.source_id,
            "facility_id": self.facility_id,
            "clinician_id": self.clinician_id,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "summary": self.summary[:200],
        }


def relationships_clear(*, source_ids: Sequence[uuid.UUID]) -> None:
    """Remove the relationships these appointments or referrals gave. In the caller's transaction."""
    for start in range(0, len(source_ids), _BATCH):
        CareRelationship.objects.filter(source_id__in=source_ids[start : start + _BATCH]).delete()


def relationships_replace(*, source_ids: Sequence[uuid.UUID], rows: Iterable[RelationshipRow]) -> None:
    """Make the relationships that `source_ids` give exactly `rows`. Runs in the caller's transaction."""
    relationships_clear(source_ids=source_ids)
    relationships_add(rows=rows)


def relationships_add(*, rows: Iterable[RelationshipRow]) -> None:
    """Write the relationships of sources that have none yet (just created). In the caller's transaction."""
    CareRelationship.objects.bulk_create([CareRelationship(**row.values()) for row in rows], batch_size=_BATCH)


def live(now: dt.datetime | None = None, prefix: str = "") -> Q:
    """Relationships in force at `now`. `prefix` reaches them through a relation ("care_relationships__")."""
    now = now or clock.now()
    return Q(**{f"{prefix}starts_at__lte": now}) & (
        Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": now})
    )
