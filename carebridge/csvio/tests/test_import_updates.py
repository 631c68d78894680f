"""Importing again: matched on the coursework ID, only what differs is changed, nothing is duplicated;
a dry run writes nothing; rows can be handed in directly (as the demo-data generator does)."""

import datetime as dt
import shutil

import pytest

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.csvio import importer
from carebridge.csvio.services import dataset_export, dataset_import, dataset_import_rows
from carebridge.csvio.tests.conftest import DOMAIN_MODELS, FILE_NAMES, FROZEN_AT, GOOD, WARNINGS, row_counts
from carebridge.organisations.models import Facility
from carebridge.patients.models import Patient

pytestmark = pytest.mark.django_db


def _counts(report) -> dict[str, tuple[int, int, int]]:
    return {name: (c.created, c.updated, c.unchanged) for name, c in report.files.items()}


def test_import_twice_changes_nothing():
    first = dataset_import(directory=GOOD, actor=Actor.command_line())
    before = row_counts()

    second = dataset_import(directory=GOOD, actor=Actor.command_line())

    assert _counts(second) == {name: (0, 0, c.created) for name, c in first.files.items()}
    after = row_counts()
    assert after.pop("AuditEvent") == before.pop("AuditEvent") + 1  # the second import's own audit row
    assert after == before


def test_a_changed_row_is_updated_and_only_that_row(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    created = Patient.objects.get(source_id="P101").created_at
    folder = tmp_path / "changed"
    shutil.copytree(GOOD, folder)
    path = folder / "patients.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("P101,Alice,Hughes", "P101,Alice,Hughes-Smith"), encoding="utf-8"
    )
    later = FROZEN_AT + dt.timedelta(days=3)
    clock.freeze(later)

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert _counts(report)["patients.csv"] == (0, 1, 2)
    assert _counts(report)["appointments.csv"] == (0, 0, 4)
    alice = Patient.objects.get(source_id="P101")
    assert (alice.last_name, alice.created_at, alice.updated_at) == ("Hughes-Smith", created, later)
    assert Patient.objects.get(source_id="P102").updated_at == FROZEN_AT


def test_a_column_left_out_leaves_that_field_as_it_is(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    folder = tmp_path / "short"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "patient_id,first_name,last_name,date_of_birth,registration_date,gp_surgery_id\n"
        "P101,Alice,Hughes,1970-02-11,2010-06-01,S101",
        encoding="utf-8",
    )

    report = dataset_import(directory=folder, actor=Actor.command_line())

    assert _counts(report) == {"patients.csv": (0, 0, 1)}
    assert Patient.objects.get(source_id="P101").phone_number == "07700900301"


def test_records_made_in_carebridge_export_with_their_public_id_and_import_back(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())
    made_here = Patient.objects.create(
        first_name="Noor",
        last_name="Said",
        date_of_birth=dt.date(2000, 1, 1),
        nhs_number="4505577104",
        nhs_number_verified=True,
        registration_date=dt.date(2025, 1, 1),
        registered_surgery=Facility.objects.get(source_id="S102"),
        created_at=FROZEN_AT,
        updated_at=FROZEN_AT,
    )
    exported = tmp_path / "exported"
    dataset_export(directory=exported, actor=Actor.command_line())
    assert (
        (exported / "patients.csv")
        .read_text(encoding="utf-8")
        .endswith(f"\n{made_here.public_id.hex},Noor,Said,2000-01-01,4505577104,U,,,,,,,2025-01-01,S102")
    )

    report = dataset_import(directory=exported, actor=Actor.command_line())

    assert report.stored
    assert _counts(report)["patients.csv"] == (0, 0, 4)
    assert Patient.objects.filter(first_name="Noor").count() == 1
    assert Patient.objects.get(pk=made_here.pk).source_id is None


def test_copy_and_bulk_create_store_the_same_records(tmp_path, monkeypatch):
    # On PostgreSQL new rows go in with COPY; bulk_create is the other way (and SQLite's).
    monkeypatch.setattr(importer, "COPY_ON_POSTGRESQL", False)
    dataset_import(directory=WARNINGS, actor=Actor.command_line())
    with_bulk_create = tmp_path / "bulk_create"
    dataset_export(directory=with_bulk_create, actor=Actor.command_line())
    for model in reversed(DOMAIN_MODELS):
        model.objects.all().delete()
    monkeypatch.setattr(importer, "COPY_ON_POSTGRESQL", True)

    dataset_import(directory=WARNINGS, actor=Actor.command_line())

    with_copy = tmp_path / "copy"
    dataset_export(directory=with_copy, actor=Actor.command_line())
    for name in FILE_NAMES:
        assert (with_copy / name).read_bytes() == (with_bulk_create / name).read_bytes(), name


def test_export_writes_an_audit_row(tmp_path):
    dataset_import(directory=GOOD, actor=Actor.command_line())

    counts = dataset_export(directory=tmp_path / "out", actor=Actor.command_line())

    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.detail == {"files": counts}
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(FILE_NAMES)


def test_dry_run_checks_everything_and_writes_nothing():
    report = dataset_import(directory=GOOD, actor=Actor.command_line(), dry_run=True)

    assert not report.has_errors and not report.stored
    assert _counts(report)["patients.csv"] == (3, 0, 0)
    assert set(row_counts().values()) == {0}


def test_progress_is_reported_per_file():
    seen: list[tuple[str, int, bool]] = []

    dataset_import(directory=GOOD, actor=Actor.command_line(), progress=lambda *args: seen.append(args))

    assert [item for item in seen if item[2]] == [
        ("facilities.csv", 3, True),
        ("clinicians.csv", 5, True),
        ("staff.csv", 3, True),
        ("patients.csv", 3, True),
        ("appointments.csv", 4, True),
        ("prescriptions.csv", 3, True),
        ("referrals.csv", 2, True),
    ]


FACILITY = {
    "facility_id": "S9",
    "facility_name": "Demo Surgery",
    "facility_type": "GP Surgery",
    "address": "1 Demo Road, Leeds",
    "postcode": "LS1 1AA",
}


def _patient(number: int) -> dict[str, str]:
    return {
        "patient_id": f"P{number}",
        "first_name": "Demo",
        "last_name": f"Patient{number}",
        "date_of_birth": "1990-01-01",
        "registration_date": "2020-01-01",
        "gp_surgery_id": "S9",
    }


def test_rows_can_be_handed_in_directly_in_any_order():
    report = dataset_import_rows(
        rows_by_file={
            "patients.csv": ((line, _patient(line)) for line in range(2, 2002)),
            "facilities.csv": [(2, FACILITY)],
        },
        actor=Actor.command_line(),
    )

    assert report.stored
    assert _counts(report) == {"facilities.csv": (1, 0, 0), "patients.csv": (2000, 0, 0)}
    assert Patient.objects.count() == 2000


def test_rows_with_an_unknown_column_are_refused():
    report = dataset_import_rows(
        rows_by_file={"facilities.csv": [(2, FACILITY | {"colour": "blue"})]}, actor=Actor.command_line()
    )

    (problem,) = report.errors
    assert str(problem).startswith("facilities.csv:1: colour: This is not a column of facilities.csv")
    assert Facility.objects.count() == 0


def test_rows_for_a_file_that_is_not_a_coursework_file():
    with pytest.raises(ValueError, match="wards.csv"):
        dataset_import_rows(rows_by_file={"wards.csv": []}, actor=Actor.command_line())
