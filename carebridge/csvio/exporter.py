"""Writing the seven files back in the coursework's own format.

The format is the one measured on the coursework files: UTF-8 without a byte-order mark, LF line
endings, no newline after the last row, values quoted only where they must be (csv.QUOTE_MINIMAL).
Rows come out in the order the records were created, which for imported records is the order of the
file they came from. A record created in Carebridge has no coursework ID; its public ID (32 hex digits)
is written instead, and an import accepts it back (see refs.py). A value a spreadsheet would run as a
formula (starting =, +, -, @, tab or carriage return) is written with an apostrophe in front, which the
import takes off again (cells.spreadsheet_safe).
"""

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from carebridge.core import clock
from carebridge.core.fields import EmploymentStatus
from carebridge.csvio import formats
from carebridge.csvio.cells import spreadsheet_safe
from carebridge.organisations.models import AccessLevel, Clinician, ClinicianTitle, Facility, FacilityType, StaffMember
from carebridge.patients.models import Gender, Patient
from carebridge.prescribing.models import Prescription, format_quantity
from carebridge.referrals.models import COURSEWORK_STATUS, Referral, ReferralStatus
from carebridge.scheduling.models import Appointment, AppointmentStatus

CHUNK = 2000


def _id(source_id: str | None, public_id: uuid.UUID | None) -> str:
    if source_id:
        return source_id
    return public_id.hex if public_id is not None else ""


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _london_date(value: dt.datetime | None) -> str:
    return value.astimezone(clock.LONDON).date().isoformat() if value is not None else ""


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _amount(value: Decimal, unit: str, separator: str) -> str:
    return f"{format_quantity(value)}{separator}{unit}"


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label)


def _facility_rows() -> Iterator[list[str]]:
    rows = Facility.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "name",
        "facility_type",
        "address",
        "postcode",
        "phone_number",
        "email",
        "opening_hours",
        "manager_name",
        "capacity",
        "specialities_offered",
    )
    for (
        source_id,
        public_id,
        name,
        facility_type,
        address,
        postcode,
        phone,
        email,
        hours,
        manager,
        capacity,
        specialities,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            _id(source_id, public_id),
            name,
            _label(FacilityType, facility_type),
            address,
            postcode,
            phone,
            email,
            hours,
            manager,
            _number(capacity),
            "|".join(specialities or []),
        ]


def _clinician_rows() -> Iterator[list[str]]:
    rows = Clinician.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "honorific",
        "first_name",
        "last_name",
        "title",
        "speciality",
        "registration_number",
        "phone_number",
        "email",
        "workplace__source_id",
        "workplace__public_id",
        "workplace__facility_type",
        "employment_status",
        "start_date",
    )
    for (
        source_id,
        public_id,
        honorific,
        first_name,
        last_name,
        title,
        speciality,
        registration,
        phone,
        email,
        workplace_source,
        workplace_public,
        workplace_type,
        employment,
        start,
    ) in rows.iterator(chunk_size=CHUNK):
        # The coursework's first_name carries the honorific: "Dr. David".
        first = " ".join(part for part in (honorific, first_name) if part)
        yield [
            _id(source_id, public_id),
            first,
            last_name,
            _label(ClinicianTitle, title),
            speciality,
            registration,
            phone,
            email,
            _id(workplace_source, workplace_public),
            _label(FacilityType, workplace_type),
            _label(EmploymentStatus, employment),
            _date(start),
        ]


def _staff_rows() -> Iterator[list[str]]:
    rows = StaffMember.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "first_name",
        "last_name",
        "job_title",
        "department",
        "facility__source_id",
        "facility__public_id",
        "phone_number",
        "email",
        "employment_status",
        "start_date",
        "line_manager",
        "access_level",
    )
    for (
        source_id,
        public_id,
        first_name,
        last_name,
        job,
        department,
        facility_source,
        facility_public,
        phone,
        email,
        employment,
        start,
        manager,
        access,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            _id(source_id, public_id),
            first_name,
            last_name,
            job,
            department,
            _id(facility_source, facility_public),
            phone,
            email,
            _label(EmploymentStatus, employment),
            _date(start),
            manager,
            _label(AccessLevel, access),
        ]


def _patient_rows() -> Iterator[list[str]]:
    rows = Patient.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "first_name",
        "last_name",
        "date_of_birth",
        "nhs_number",
        "gender",
        "phone_number",
        "email",
        "address",
        "postcode",
        "emergency_contact_name",
        "emergency_contact_phone",
        "registration_date",
        "registered_surgery__source_id",
        "registered_surgery__public_id",
    )
    for (
        source_id,
        public_id,
        first_name,
        last_name,
        born,
        number,
        gender,
        phone,
        email,
        address,
        postcode,
        contact_name,
        contact_phone,
        registered,
        surgery_source,
        surgery_public,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            _id(source_id, public_id),
            first_name,
            last_name,
            _date(born),
            number or "",
            formats.GENDER_LETTERS[Gender(gender)],
            phone,
            email,
            address,
            postcode,
            contact_name,
            contact_phone,
            _date(registered),
            _id(surgery_source, surgery_public),
        ]


def _appointment_rows() -> Iterator[list[str]]:
    rows = Appointment.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "patient__source_id",
        "patient__public_id",
        "clinician__source_id",
        "clinician__public_id",
        "facility__source_id",
        "facility__public_id",
        "starts_at",
        "duration_minutes",
        "appointment_type",
        "status",
        "reason_for_visit",
        "notes",
        "created_at",
        "updated_at",
    )
    for (
        source_id,
        public_id,
        patient_source,
        patient_public,
        clinician_source,
        clinician_public,
        facility_source,
        facility_public,
        starts_at,
        minutes,
        kind,
        status,
        reason,
        notes,
        created,
        updated,
    ) in rows.iterator(chunk_size=CHUNK):
        # The date and time are written as the wall clock at the facility, in the UK.
        local = starts_at.astimezone(clock.LONDON)
        yield [
            _id(source_id, public_id),
            _id(patient_source, patient_public),
            _id(clinician_source, clinician_public),
            _id(facility_source, facility_public),
            local.date().isoformat(),
            f"{local:%H:%M}",
            str(minutes),
            kind,
            formats.APPOINTMENT_STATUS_WORDS[AppointmentStatus(status)],
            reason,
            notes,
            _london_date(created),
            _london_date(updated),
        ]


def _prescription_rows() -> Iterator[list[str]]:
    rows = Prescription.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "patient__source_id",
        "patient__public_id",
        "prescriber__source_id",
        "prescriber__public_id",
        "appointment__source_id",
        "appointment__public_id",
        "prescribed_on",
        "medication_name",
        "dose_value",
        "dose_unit",
        "frequency",
        "duration_days",
        "quantity_value",
        "quantity_unit",
        "instructions",
        "pharmacy_name",
        "status",
        "issue_date",
        "collection_date",
    )
    for (
        source_id,
        public_id,
        patient_source,
        patient_public,
        prescriber_source,
        prescriber_public,
        appointment_source,
        appointment_public,
        prescribed,
        medication,
        dose,
        dose_unit,
        frequency,
        days,
        quantity,
        quantity_unit,
        instructions,
        pharmacy,
        status,
        issued,
        collected,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            _id(source_id, public_id),
            _id(patient_source, patient_public),
            _id(prescriber_source, prescriber_public),
            _id(appointment_source, appointment_public),
            _date(prescribed),
            medication,
            # Dose without a space ("20mg"), quantity with one ("28 tablets"), as the coursework writes them.
            _amount(dose, dose_unit, ""),
            frequency,
            str(days),
            _amount(quantity, quantity_unit, " "),
            instructions,
            pharmacy,
            formats.PRESCRIPTION_STATUS_WORDS[status],
            _date(issued),
            _date(collected),
        ]


def _referral_rows() -> Iterator[list[str]]:
    rows = Referral.objects.order_by("pk").values_list(
        "source_id",
        "public_id",
        "patient__source_id",
        "patient__public_id",
        "referring_clinician__source_id",
        "referring_clinician__public_id",
        "receiving_clinician__source_id",
        "receiving_clinician__public_id",
        "referring_facility__source_id",
        "referring_facility__public_id",
        "receiving_facility__source_id",
        "receiving_facility__public_id",
        "referral_date",
        "priority",
        "reason",
        "clinical_summary",
        "requested_investigations",
        "status",
        "appointment__source_id",
        "appointment__public_id",
        "notes",
        "created_at",
        "updated_at",
    )
    for (
        source_id,
        public_id,
        patient_source,
        patient_public,
        referrer_source,
        referrer_public,
        receiver_source,
        receiver_public,
        from_source,
        from_public,
        to_source,
        to_public,
        referred,
        priority,
        reason,
        summary,
        investigations,
        status,
        appointment_source,
        appointment_public,
        notes,
        created,
        updated,
    ) in rows.iterator(chunk_size=CHUNK):
        yield [
            _id(source_id, public_id),
            _id(patient_source, patient_public),
            _id(referrer_source, referrer_public),
            _id(receiver_source, receiver_public),
            _id(from_source, from_public),
            _id(to_source, to_public),
            _date(referred),
            formats.REFERRAL_PRIORITY_WORDS[priority],
            reason,
            summary,
            "|".join(investigations or []),
            COURSEWORK_STATUS[ReferralStatus(status)],
            _id(appointment_source, appointment_public),
            notes,
            _london_date(created),
            _london_date(updated),
        ]


ROWS = {
    formats.FACILITIES.name: _facility_rows,
    formats.CLINICIANS.name: _clinician_rows,
    formats.STAFF.name: _staff_rows,
    formats.PATIENTS.name: _patient_rows,
    formats.APPOINTMENTS.name: _appointment_rows,
    formats.PRESCRIPTIONS.name: _prescription_rows,
    formats.REFERRALS.name: _referral_rows,
}


# csv.writer's minimal quoting leaves a lone carriage return unquoted when the line ending is LF, and
# every reader then splits the row there; these are the characters that need the quotes.
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _csv_line(values: list[str]) -> str:
    """One row in the coursework's quoting (csv.QUOTE_MINIMAL), ending LF."""
    return (
        ",".join('"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value for value in values)
        + "\n"
    )


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> int:
    """Write one file in the coursework's format; answers the number of rows. Written beside the
    target and renamed into place, so a file that is there is always complete."""
    partial = path.with_name(path.name + ".partial")
    count = 0
    done = False
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            out.write(_csv_line(header))
            for row in rows:
                # Every cell, not only the free-text ones: a phone number "+44 ..." opens as a formula too.
                out.write(_csv_line([spreadsheet_safe(value) for value in row]))
                count += 1
        # The coursework has no newline after the last row: take off the one the writer added.
        with partial.open("r+b") as out:
            out.seek(-1, os.SEEK_END)
            if out.read(1) == b"\n":
                out.seek(-1, os.SEEK_END)
                out.truncate()
        os.replace(partial, path)
        done = True
    finally:
        if not done:
            partial.unlink(missing_ok=True)
    return count
