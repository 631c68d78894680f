"""Looking up the records a row refers to (P001, C001, S001...), a batch of rows at a time.

A reference resolves against the database: by the time a file is read, every earlier file of the same
import has been written (inside the import's one transaction), and records imported before are there
too. Only what the checks need is fetched, and only for the IDs in the batch, so memory stays small
however many patients there are. Facilities and clinicians (a few thousand at most) are remembered.

Records created in Carebridge have no coursework ID; an export writes their public ID (32 hex digits)
instead, and that is accepted here too, so an exported file imports back onto the same records.
"""

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models

from carebridge.organisations.models import NURSE_TITLES, Clinician, ClinicianTitle, Facility, FacilityType
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment

_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FacilityInfo:
    pk: int
    key: str
    name: str
    facility_type: str
    opening_hours: str

    @property
    def type_label(self) -> str:
        return str(FacilityType(self.facility_type).label)

    @property
    def is_gp_surgery(self) -> bool:
        return self.facility_type == FacilityType.GP_SURGERY

    @property
    def is_hospital(self) -> bool:
        return self.facility_type == FacilityType.HOSPITAL


@dataclass(frozen=True, slots=True)
class ClinicianInfo:
    pk: int
    key: str
    title: str
    is_prescriber: bool
    workplace_pk: int
    workplace_key: str
    workplace_type: str

    @property
    def title_label(self) -> str:
        return str(ClinicianTitle(self.title).label)

    @property
    def is_nurse(self) -> bool:
        return self.title in NURSE_TITLES


@dataclass(frozen=True, slots=True)
class PatientInfo:
    pk: int
    key: str
    surgery_pk: int
    surgery_key: str


@dataclass(frozen=True, slots=True)
class AppointmentInfo:
    pk: int
    key: str
    patient_pk: int
    patient_key: str
    clinician_pk: int
    facility_pk: int
    facility_key: str
    status: str
    starts_at: dt.datetime


def _key(source_id: str | None, public_id: uuid.UUID | None) -> str:
    # A related record that has no coursework ID is named by its public ID, as in an export.
    if source_id:
        return source_id
    return public_id.hex if public_id is not None else ""


def _facility(row: dict[str, Any]) -> FacilityInfo:
    return FacilityInfo(
        row["pk"], _key(row["source_id"], row["public_id"]), row["name"], row["facility_type"], row["opening_hours"]
    )


def _clinician(row: dict[str, Any]) -> ClinicianInfo:
    return ClinicianInfo(
        row["pk"],
        _key(row["source_id"], row["public_id"]),
        row["title"],
        row["is_prescriber"],
        row["workplace_id"],
        _key(row["workplace__source_id"], row["workplace__public_id"]),
        row["workplace__facility_type"],
    )


def _patient(row: dict[str, Any]) -> PatientInfo:
    return PatientInfo(
        row["pk"],
        _key(row["source_id"], row["public_id"]),
        row["registered_surgery_id"],
        _key(row["registered_surgery__source_id"], row["registered_surgery__public_id"]),
    )


def _appointment(row: dict[str, Any]) -> AppointmentInfo:
    return AppointmentInfo(
        row["pk"],
        _key(row["source_id"], row["public_id"]),
        row["patient_id"],
        _key(row["patient__source_id"], row["patient__public_id"]),
        row["clinician_id"],
        row["facility_id"],
        _key(row["facility__source_id"], row["facility__public_id"]),
        row["status"],
        row["starts_at"],
    )


@dataclass(frozen=True)
class _Lookup:
    model: type[models.Model]
    columns: tuple[str, ...]
    build: Any
    remember: bool  # small tables are kept in memory for the whole import


_LOOKUPS: dict[str, _Lookup] = {
    "facilities.csv": _Lookup(Facility, ("name", "facility_type", "opening_hours"), _facility, True),
    "clinicians.csv": _Lookup(
        Clinician,
        (
            "title",
            "is_prescriber",
            "workplace_id",
            "workplace__source_id",
            "workplace__public_id",
            "workplace__facility_type",
        ),
        _clinician,
        True,
    ),
    "patients.csv": _Lookup(
        Patient,
        ("registered_surgery_id", "registered_surgery__source_id", "registered_surgery__public_id"),
        _patient,
        False,
    ),
    "appointments.csv": _Lookup(
        Appointment,
        (
            "patient_id",
            "patient__source_id",
            "patient__public_id",
            "clinician_id",
            "facility_id",
            "facility__source_id",
            "facility__public_id",
            "status",
            "starts_at",
        ),
        _appointment,
        False,
    ),
}

Info = FacilityInfo | ClinicianInfo | PatientInfo | AppointmentInfo


# IDs looked up per query. PostgreSQL answers a few hundred from the index; with a thousand its planner
# may prefer reading the whole table, which is ten times slower on a 100,000-patient practice.
LOOKUP_CHUNK = 250


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _attnames(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def find_existing(model: type[models.Model], keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The records with these CSV IDs (coursework ID, else public ID): their values by field, by ID."""
    keys = set(keys)
    columns = _attnames(model)
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunked(sorted(keys), LOOKUP_CHUNK):
        for values in model.objects.filter(source_id__in=chunk).order_by().values(*columns):
            found[values["source_id"]] = values
    public = [uuid.UUID(key) for key in keys - found.keys() if _PUBLIC_ID.fullmatch(key)]
    for chunk in chunked(public, LOOKUP_CHUNK):
        for values in model.objects.filter(public_id__in=chunk, source_id__isnull=True).order_by().values(*columns):
            found[values["public_id"].hex] = values
    return found


class Resolver:
    """Finds referenced records by their CSV ID."""

    def __init__(self) -> None:
        self._remembered: dict[str, dict[str, Info]] = {}

    def forget(self, file: str) -> None:
        """Called once a file has been written: what was remembered of its records may be stale."""
        self._remembered.pop(file, None)

    def lookup(self, file: str, keys: set[str]) -> dict[str, Info]:
        lookup = _LOOKUPS[file]
        memory = self._remembered.setdefault(file, {}) if lookup.remember else {}
        missing = keys - memory.keys()
        if missing:
            memory.update(self._query(lookup, missing))
        return {key: memory[key] for key in keys if key in memory}

    @staticmethod
    def _query(lookup: _Lookup, keys: set[str]) -> dict[str, Info]:
        columns = ("pk", "source_id", "public_id", *lookup.columns)
        found: dict[str, Info] = {}
        for chunk in chunked(sorted(keys), LOOKUP_CHUNK):
            for row in lookup.model.objects.filter(source_id__in=chunk).order_by().values(*columns):
                info = lookup.build(row)
                found[info.key] = info
        public = [uuid.UUID(key) for key in keys - found.keys() if _PUBLIC_ID.fullmatch(key)]
        for chunk in chunked(public, LOOKUP_CHUNK):
            for row in (
                lookup.model.objects.filter(public_id__in=chunk, source_id__isnull=True).order_by().values(*columns)
            ):
                info = lookup.build(row)
                found[info.key] = info
        return found
