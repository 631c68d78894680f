"""Shared helpers for the CSV import and export tests."""

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from carebridge.audit.models import AuditEvent
from carebridge.core import clock
from carebridge.organisations.models import Clinician, Facility, StaffMember
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription
from carebridge.referrals.models import Referral
from carebridge.scheduling.models import Appointment

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
WARNINGS = FIXTURES / "warnings"
# The repository's root is three levels up from this folder; the shared data set sits beside it.
COURSEWORK = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "coursework").resolve()

DOMAIN_MODELS = (Facility, Clinician, StaffMember, Patient, Appointment, Prescription, Referral)
FILE_NAMES = (
    "facilities.csv",
    "clinicians.csv",
    "staff.csv",
    "patients.csv",
    "appointments.csv",
    "prescriptions.csv",
    "referrals.csv",
)
# A fixed moment, so timestamps set on import are predictable.
FROZEN_AT = dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.UTC)


def row_counts() -> dict[str, int]:
    """How many rows every model the import touches has (and the audit trail)."""
    counts = {model.__name__: model.objects.count() for model in DOMAIN_MODELS}
    counts["AuditEvent"] = AuditEvent.objects.count()
    return counts


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(FROZEN_AT)
    yield FROZEN_AT
    clock.freeze(None)


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """A folder holding the good fixture files, with some replaced by (or left out for) others."""

    def make(*overlays: Path, only: tuple[str, ...] | None = None, name: str = "dataset") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for source in sorted(GOOD.iterdir()):
            if only is None or source.name in only:
                shutil.copy(source, folder / source.name)
        for overlay in overlays:
            for source in sorted(overlay.iterdir()):
                shutil.copy(source, folder / source.name)
        return folder

    return make
