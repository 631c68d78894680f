"""Records staff for the records-management tests (docs/records.md), beside the shared `world`."""

import datetime as dt

import pytest

from carebridge.accounts.models import AccountKind, User
from carebridge.organisations.models import AccessLevel, Facility, StaffMember
from carebridge.testing.world import PASSWORD


def _records_staff(username: str, facility: Facility, level: AccessLevel, first: str, last: str) -> User:
    user = User.objects.create_user(
        username=username, password=PASSWORD, kind=AccountKind.STAFF, first_name=first, last_name=last
    )
    StaffMember.objects.create(
        user=user,
        source_id=f"ST-{username}",
        first_name=first,
        last_name=last,
        job_title="Medical Records Clerk",
        facility=facility,
        employment_status="full_time",
        start_date=dt.date(2019, 1, 1),
        access_level=level,
    )
    return user


@pytest.fixture
def clerk(world) -> User:
    """A records clerk at `surgery` (Standard access): finds duplicates, merges, deregisters."""
    return _records_staff("clerk", world.surgery, AccessLevel.STANDARD, "Ruth", "Mills")


@pytest.fixture
def junior_clerk(world) -> User:
    """A records clerk at `surgery` at Basic access: not enough for records management."""
    return _records_staff("junior-clerk", world.surgery, AccessLevel.BASIC, "Jo", "Kent")


@pytest.fixture
def records_manager(world) -> User:
    """Records staff at `surgery` at Manager access: may also undo a merge."""
    return _records_staff("records-manager", world.surgery, AccessLevel.MANAGER, "Martha", "Reeve")


@pytest.fixture
def other_clerk(world) -> User:
    """A records clerk at `other_surgery`."""
    return _records_staff("other-clerk", world.other_surgery, AccessLevel.STANDARD, "Omar", "Lund")
