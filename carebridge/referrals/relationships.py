"""The care relationships a referral gives: the receiving clinician and facility, and the referrer and
their surgery, may see the patient while the referral is open and a while after it is completed."""

import datetime as dt
from collections.abc import Iterable

from carebridge.access.models import RelationshipKind
from carebridge.access.relationships import RelationshipRow, referral_relationship_ends, relationships_replace
from carebridge.core import clock
from carebridge.referrals.models import CLOSED_STATUSES, Referral


def _rows(referral: Referral) -> list[RelationshipRow]:
    # Closed (seen, returned or rejected): the relationship runs on a while, for the letters that follow.
    completed_at = (referral.completed_at or referral.updated_at) if referral.status in CLOSED_STATUSES else None
    ends_at = referral_relationship_ends(completed_at=completed_at)
    made = clock.london_datetime(referral.referral_date, dt.time(0, 0))
    starts_at = min(referral.created_at, made)
    summary = f"{referral.get_priority_display()} referral made on {referral.referral_date:%-d %B %Y}"
    return [
        RelationshipRow(
            patient_id=referral.patient_id,
            kind=RelationshipKind.REFERRAL_RECEIVED,
            source_id=referral.public_id,
            facility_id=referral.receiving_facility_id,
            clinician_id=referral.receiving_clinician_id,
            starts_at=starts_at,
            ends_at=ends_at,
            summary=summary,
        ),
        RelationshipRow(
            patient_id=referral.patient_id,
            kind=RelationshipKind.REFERRAL_SENT,
            source_id=referral.public_id,
            facility_id=referral.referring_facility_id,
            clinician_id=referral.referring_clinician_id,
            starts_at=starts_at,
            ends_at=ends_at,
            summary=summary,
        ),
    ]


# What _rows reads, so that a large import loads no more of each referral than that.
RELATIONSHIP_FIELDS = (
    "public_id",
    "patient_id",
    "receiving_facility_id",
    "receiving_clinician_id",
    "referring_facility_id",
    "referring_clinician_id",
    "referral_date",
    "priority",
    "status",
    "created_at",
    "updated_at",
    "completed_at",
)


def referral_relationship_rows(referrals: Iterable[Referral]) -> list[RelationshipRow]:
    return [row for referral in referrals for row in _rows(referral)]


def referral_relationships_refresh(referrals: Iterable[Referral]) -> None:
    """Bring the relationships of these referrals in step with them. In the caller's transaction."""
    referrals = list(referrals)
    relationships_replace(
        source_ids=[referral.public_id for referral in referrals], rows=referral_relationship_rows(referrals)
    )
