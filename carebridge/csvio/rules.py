"""Business rules checked on import, once a row's references are known.

Real records break rules that new work in Carebridge is held to (DESIGN section 4): nurses who refer
or prescribe, referrals from a surgery other than the patient's own, appointments on a day the surgery
is closed. Those rows are kept and each is reported as a warning, so someone can look at it. Only what
cannot be stored truthfully is an error (a patient registered at a hospital, a birth in the future).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carebridge.core import clock
from carebridge.core import nhs_number as nhs
from carebridge.csvio import opening_hours
from carebridge.csvio.formats import APPOINTMENT_STATUS_WORDS, NOT_GIVEN, ParsedRow
from carebridge.csvio.refs import AppointmentInfo, ClinicianInfo, FacilityInfo, PatientInfo
from carebridge.csvio.report import ImportReport
from carebridge.organisations.models import NURSE_TITLES, ClinicianTitle, FacilityType
from carebridge.prescribing.models import PrescriptionStatus
from carebridge.referrals.models import ReferralStatus
from carebridge.scheduling.models import AppointmentStatus

# Longer than a working day is almost certainly a typing mistake (minutes written as hours x 100...).
LONGEST_APPOINTMENT_MINUTES = 8 * 60
OLDEST_PATIENT_YEARS = 120


@dataclass
class RuleContext:
    """Where the rules report to: the row being checked is at `line` of `file`."""

    report: ImportReport
    file: str
    today: dt.date
    line: int = 0
    # Values that must not repeat within a file, with the line each was first seen on. Kept small
    # (a number and a line number per row), since a practice list has 100,000 rows.
    seen: dict[str, dict[object, int]] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.report.error(self.file, self.line, column, message)

    def warn(self, column: str, message: str) -> None:
        self.report.warning(self.file, self.line, column, message)

    def first_seen(self, kind: str, value: object) -> int | None:
        """The line `value` was seen on before in this file; None (and remembered) when it was not."""
        table = self.seen.setdefault(kind, {})
        earlier = table.get(value)
        if earlier is None:
            table[value] = self.line
        return earlier


def new_context(report: ImportReport, file: str) -> RuleContext:
    return RuleContext(report=report, file=file, today=clock.today())


def _day_name(day: dt.date) -> str:
    return opening_hours.DAY_NAMES[day.weekday()]


def _given(value: Any) -> bool:
    return value is not NOT_GIVEN and value is not None


def check_facility(row: ParsedRow, ctx: RuleContext) -> None:
    hours = row.values.get("opening_hours")
    if isinstance(hours, str) and hours and opening_hours.parse(hours) is None:
        ctx.warn(
            "opening_hours",
            f"Carebridge cannot tell which days are open from '{hours}' (write it like "
            f"'Mon-Fri: 8:00-18:00, Sat: 8:00-12:00', or '24/7'). Kept as written; "
            f"appointments here are not checked against opening hours.",
        )


def check_clinician(row: ParsedRow, ctx: RuleContext) -> None:
    workplace: FacilityInfo | None = row.refs.get("workplace_id")
    title = row.fields.get("title")
    said_type = row.values.get("workplace_type")
    if workplace is not None and _given(said_type) and said_type != workplace.facility_type:
        ctx.warn(
            "workplace_type",
            f"This says the workplace is a {FacilityType(said_type).label}, but "
            f"{workplace.key} ({workplace.name}) is a {workplace.type_label}. Carebridge "
            f"goes by the facility; the clinician is kept.",
        )
    if workplace is not None and title == ClinicianTitle.GP and workplace.is_hospital:
        ctx.warn(
            "title",
            f"A GP whose workplace {workplace.key} is a hospital. The clinician is kept; check the "
            f"title or the workplace.",
        )
    if workplace is not None and title == ClinicianTitle.CONSULTANT and workplace.is_gp_surgery:
        ctx.warn(
            "title",
            f"A consultant whose workplace {workplace.key} is a GP surgery. The clinician is kept; "
            f"check the title or the workplace.",
        )
    number = row.fields.get("registration_number")
    if isinstance(number, str) and title is not None:
        if title in NURSE_TITLES and not number.startswith("N"):
            ctx.warn(
                "gmc_number",
                f"{number} is a GMC number (7 digits), but a {ClinicianTitle(title).label} is "
                f"registered with the NMC (N followed by 6 digits). Kept as written.",
            )
        elif title not in NURSE_TITLES and number.startswith("N"):
            ctx.warn(
                "gmc_number",
                f"{number} is a nurse's registration, but a {ClinicianTitle(title).label} has a "
                f"7-digit GMC number. Kept as written.",
            )
        earlier = ctx.first_seen("registration_number", number)
        if earlier is not None:
            ctx.warn(
                "gmc_number",
                f"The clinician on line {earlier} has the same registration number {number}. "
                f"Both are kept; check which is right.",
            )


def check_staff(row: ParsedRow, ctx: RuleContext) -> None:
    """Nothing beyond the columns themselves: the line manager is free text in the coursework."""


def check_patient(row: ParsedRow, ctx: RuleContext) -> None:
    surgery: FacilityInfo | None = row.refs.get("gp_surgery_id")
    if surgery is not None and not surgery.is_gp_surgery:
        ctx.error(
            "gp_surgery_id",
            f"{surgery.key} ({surgery.name}) is a {surgery.type_label.lower()}, not a GP "
            f"surgery. A patient is registered with a GP surgery.",
        )
        row.ok = False
    born = row.fields.get("date_of_birth")
    if born is not None:
        if born > ctx.today:
            ctx.error("date_of_birth", f"The date of birth {born.isoformat()} is in the future.")
            row.ok = False
        elif born.year < ctx.today.year - OLDEST_PATIENT_YEARS:
            ctx.warn(
                "date_of_birth",
                f"The date of birth {born.isoformat()} is more than {OLDEST_PATIENT_YEARS} "
                f"years ago. Kept as written; check it.",
            )
    registered = row.fields.get("registration_date")
    if registered is not None:
        if born is not None and registered < born <= ctx.today:
            ctx.warn(
                "registration_date",
                f"The patient was registered ({registered.isoformat()}) before they "
                f"were born ({born.isoformat()}). Kept as written; check both dates.",
            )
        if registered > ctx.today:
            ctx.warn(
                "registration_date",
                f"The registration date {registered.isoformat()} is in the future. Kept as written.",
            )
    # (number or None, verified) when the cell was read; absent when it could not be (already reported),
    # NOT_GIVEN when the file has no NHS number column.
    given = row.values.get("nhs_number", NOT_GIVEN)
    number = given[0] if isinstance(given, tuple) else None
    if isinstance(given, tuple) and number is None:
        ctx.warn("nhs_number", "No NHS number. The patient is imported without one; trace their NHS number.")
    elif number is not None:
        earlier = ctx.first_seen("nhs_number", int(number))  # an int takes half the memory of the text
        if earlier is not None:
            ctx.error(
                "nhs_number",
                f"The patient on line {earlier} has the same NHS number "
                f"{nhs.formatted(number)}. Each patient has their own NHS number.",
            )
            row.ok = False


def _check_opening_hours(facility: FacilityInfo, starts: dt.datetime, minutes: int, ctx: RuleContext) -> None:
    hours = opening_hours.parse(facility.opening_hours) if facility.opening_hours else None
    if hours is None:
        return
    day = starts.date()
    if not hours.is_open_on(day.weekday()):
        ctx.warn(
            "appointment_date",
            f"{facility.key} ({facility.name}) is closed on {_day_name(day)}s (its "
            f"opening hours are '{facility.opening_hours}'). The appointment is kept.",
        )
        return
    start = starts.time()
    end_moment = starts + dt.timedelta(minutes=minutes)
    end = end_moment.time() if end_moment.date() == day else dt.time(23, 59)
    if hours.covers(day.weekday(), start, end) is False:
        ctx.warn(
            "appointment_time",
            f"{start:%H:%M} to {end:%H:%M} on a {_day_name(day)} is outside the opening "
            f"hours of {facility.key} ('{facility.opening_hours}'). The appointment is kept.",
        )


def check_appointment(row: ParsedRow, ctx: RuleContext) -> None:
    patient: PatientInfo | None = row.refs.get("patient_id")
    clinician: ClinicianInfo | None = row.refs.get("clinician_id")
    facility: FacilityInfo | None = row.refs.get("facility_id")
    if clinician is not None and facility is not None and clinician.workplace_pk != facility.pk:
        ctx.warn(
            "clinician_id",
            f"{clinician.key} works at {clinician.workplace_key}, not at {facility.key} where "
            f"this appointment is. The appointment is kept.",
        )
    if patient is not None and facility is not None and facility.is_gp_surgery and patient.surgery_pk != facility.pk:
        ctx.warn(
            "patient_id",
            f"{patient.key} is registered at {patient.surgery_key}, but this appointment is at "
            f"another surgery, {facility.key}. Patients book at their own surgery. The "
            f"appointment is kept.",
        )
    starts = row.fields.get("starts_at")
    minutes = row.fields.get("duration_minutes")
    if starts is not None and starts.astimezone(dt.UTC).astimezone(clock.LONDON).time() != starts.time():
        ctx.warn(
            "appointment_time",
            f"{starts:%H:%M} on {starts:%Y-%m-%d} does not exist in UK time (the clocks go "
            f"forward that night); it is kept as "
            f"{starts.astimezone(dt.UTC).astimezone(clock.LONDON):%H:%M}.",
        )
    if facility is not None and starts is not None and minutes is not None:
        _check_opening_hours(facility, starts, minutes, ctx)
    if minutes is not None and minutes > LONGEST_APPOINTMENT_MINUTES:
        ctx.warn(
            "duration_minutes",
            f"An appointment of {minutes} minutes is longer than a working day. Kept as written; check it.",
        )
    _check_timestamps(row, ctx, "last_modified")


def _check_timestamps(row: ParsedRow, ctx: RuleContext, updated_column: str) -> None:
    created, updated = row.fields.get("created_at"), row.fields.get("updated_at")
    if created is not None and updated is not None and updated < created:
        ctx.warn(
            updated_column,
            f"This is earlier than the date the record was made ({created.date().isoformat()}). Kept as written.",
        )


def check_prescription(row: ParsedRow, ctx: RuleContext) -> None:
    patient: PatientInfo | None = row.refs.get("patient_id")
    prescriber: ClinicianInfo | None = row.refs.get("clinician_id")
    appointment: AppointmentInfo | None = row.refs.get("appointment_id")
    if prescriber is not None and prescriber.is_nurse and not prescriber.is_prescriber:
        ctx.warn(
            "clinician_id",
            f"{prescriber.key} is a {prescriber.title_label} who is not recorded as a "
            f"prescriber; only doctors and nurse prescribers prescribe. The prescription is "
            f"kept. If {prescriber.key} is a nurse prescriber, record that in Carebridge.",
        )
    if appointment is not None:
        if patient is not None and appointment.patient_pk != patient.pk:
            ctx.warn(
                "appointment_id",
                f"Appointment {appointment.key} is for patient {appointment.patient_key}, "
                f"not {patient.key}. The prescription is kept.",
            )
        if prescriber is not None and appointment.clinician_pk != prescriber.pk:
            ctx.warn(
                "appointment_id",
                f"Appointment {appointment.key} is with another clinician, not "
                f"{prescriber.key} who prescribed. The prescription is kept.",
            )
        prescribed = row.fields.get("prescribed_on")
        seen_on = appointment.starts_at.astimezone(clock.LONDON).date()
        if prescribed is not None and prescribed < seen_on:
            ctx.warn(
                "prescription_date",
                f"The prescription ({prescribed.isoformat()}) is dated before its "
                f"appointment {appointment.key} ({seen_on.isoformat()}). Kept as written.",
            )
    status = row.fields.get("status")
    issued, collected = row.fields.get("issue_date"), row.fields.get("collection_date")
    prescribed = row.fields.get("prescribed_on")
    if status == PrescriptionStatus.COLLECTED and row.values.get("collection_date") is None:
        ctx.warn("collection_date", "The prescription is Collected but has no collection date. Kept as written.")
    if status == PrescriptionStatus.ISSUED and collected is not None:
        ctx.warn("status", "The prescription has a collection date but its status is still Issued. Kept as written.")
    if status == PrescriptionStatus.CANCELLED:
        ctx.warn(
            "status",
            "The prescription is Cancelled, and the file has no column for the reason. It is "
            "kept with the reason 'no reason was recorded'.",
        )
    if issued is not None and prescribed is not None and issued < prescribed:
        ctx.warn(
            "issue_date",
            f"The prescription was issued ({issued.isoformat()}) before it was written "
            f"({prescribed.isoformat()}). Kept as written.",
        )
    if collected is not None and issued is not None and collected < issued:
        ctx.warn(
            "collection_date",
            f"The prescription was collected ({collected.isoformat()}) before it was "
            f"issued ({issued.isoformat()}). Kept as written.",
        )


def check_referral(row: ParsedRow, ctx: RuleContext) -> None:
    patient: PatientInfo | None = row.refs.get("patient_id")
    referrer: ClinicianInfo | None = row.refs.get("referring_clinician_id")
    receiver: ClinicianInfo | None = row.refs.get("referred_to_clinician_id")
    from_facility: FacilityInfo | None = row.refs.get("referring_facility_id")
    to_facility: FacilityInfo | None = row.refs.get("referred_to_facility_id")
    appointment: AppointmentInfo | None = row.refs.get("appointment_id")
    if referrer is not None:
        if referrer.is_nurse:
            ctx.warn(
                "referring_clinician_id",
                f"{referrer.key} is a {referrer.title_label}; referrals are made by GPs. The referral is kept.",
            )
        elif referrer.workplace_type != FacilityType.GP_SURGERY:
            ctx.warn(
                "referring_clinician_id",
                f"{referrer.key} works at a hospital; referrals are made by "
                f"clinicians at GP surgeries. The referral is kept.",
            )
        if from_facility is not None and referrer.workplace_pk != from_facility.pk:
            ctx.warn(
                "referring_clinician_id",
                f"{referrer.key} works at {referrer.workplace_key}, not at the "
                f"referring facility {from_facility.key}. The referral is kept.",
            )
    if receiver is not None:
        if receiver.is_nurse:
            ctx.warn(
                "referred_to_clinician_id",
                f"{receiver.key} is a {receiver.title_label}; a referral is "
                f"received by a specialist or a hospital service. The referral "
                f"is kept.",
            )
        if to_facility is not None and receiver.workplace_pk != to_facility.pk:
            ctx.warn(
                "referred_to_clinician_id",
                f"{receiver.key} works at {receiver.workplace_key}, not at the "
                f"receiving facility {to_facility.key}. The referral is kept.",
            )
    if from_facility is not None and not from_facility.is_gp_surgery:
        ctx.warn(
            "referring_facility_id",
            f"{from_facility.key} is a {from_facility.type_label.lower()}; referrals "
            f"come from GP surgeries. The referral is kept.",
        )
    if to_facility is not None and not to_facility.is_hospital:
        ctx.warn(
            "referred_to_facility_id",
            f"{to_facility.key} is a {to_facility.type_label}; referrals go to hospitals. The referral is kept.",
        )
    if patient is not None and from_facility is not None and patient.surgery_pk != from_facility.pk:
        ctx.warn(
            "referring_facility_id",
            f"{patient.key} is registered at {patient.surgery_key}, but the referral "
            f"comes from {from_facility.key}. The referral is kept.",
        )
    if appointment is not None:
        if patient is not None and appointment.patient_pk != patient.pk:
            ctx.warn(
                "appointment_id",
                f"Appointment {appointment.key} is for patient {appointment.patient_key}, "
                f"not {patient.key}. The referral is kept.",
            )
        if to_facility is not None and appointment.facility_pk != to_facility.pk:
            ctx.warn(
                "appointment_id",
                f"Appointment {appointment.key} is at {appointment.facility_key}, not at "
                f"the receiving facility {to_facility.key}. The referral is kept.",
            )
        if row.fields.get("status") == ReferralStatus.COMPLETED and appointment.status == AppointmentStatus.BOOKED:
            ctx.warn(
                "status",
                f"The referral is Completed, but its appointment {appointment.key} is still "
                f"{APPOINTMENT_STATUS_WORDS[AppointmentStatus.BOOKED]}. The referral is kept; "
                f"update the appointment.",
            )
    _check_timestamps(row, ctx, "last_updated")


CHECKS: dict[str, Callable[[ParsedRow, RuleContext], None]] = {
    "facilities.csv": check_facility,
    "clinicians.csv": check_clinician,
    "staff.csv": check_staff,
    "patients.csv": check_patient,
    "appointments.csv": check_appointment,
    "prescriptions.csv": check_prescription,
    "referrals.csv": check_referral,
}
