"""The seven coursework files: their columns, how each column is read, and which field it fills.

Columns are listed in the coursework's order, which is also the order an export writes them in. A
column marked `required=False` may be left out of a file; the fields it fills are then left as they
are on records that already exist (and take their defaults on new ones).
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from carebridge.core import clock
from carebridge.core.fields import EmploymentStatus
from carebridge.csvio import cells
from carebridge.csvio.cells import CellError, Parser, Warn
from carebridge.organisations.models import AccessLevel, Clinician, ClinicianTitle, Facility, FacilityType, StaffMember
from carebridge.patients.models import Gender, Patient
from carebridge.prescribing.models import Prescription, PrescriptionStatus
from carebridge.referrals.models import Referral, ReferralPriority, ReferralStatus
from carebridge.scheduling.models import Appointment, AppointmentStatus


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# The cell's column is not in the file (or the cell is empty where empty means "not recorded here"):
# the field keeps what it has, or takes its default on a new record.
NOT_GIVEN: Any = _Marker("NOT_GIVEN")
# An empty cell is an error for this column.
REQUIRED: Any = _Marker("REQUIRED")


@dataclass(frozen=True)
class Ref:
    """The column holds the ID of a record in another file."""

    file: str  # the file the record comes from, e.g. "patients.csv"
    attname: str  # the foreign key on this model, e.g. "patient_id"


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    # Model fields this column fills. One field: the parsed value; several: the parser answers a tuple.
    # None: the spec's `assemble` uses the value (or, for a reference, `ref` says where it goes).
    fields: tuple[str, ...] | None
    # What the column holds, in words for messages ("date of birth").
    label: str
    required: bool = True
    blank: Any = REQUIRED
    ref: Ref | None = None


@dataclass(frozen=True)
class FileSpec:
    name: str
    model: type[models.Model]
    noun: str  # "patient": what one row is
    columns: tuple[Column, ...]
    # Fills fields made from more than one column (an appointment's date and time make starts_at).
    assemble: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    # Values a new record gets for fields the file does not give (timestamps the coursework lacks).
    create_defaults: Callable[[], dict[str, Any]] = dict
    # Set to now whenever a record changes (a patient's updated_at, which is not in the file).
    touch_on_change: tuple[str, ...] = ()
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {column.name: column for column in self.columns})

    @property
    def id_column(self) -> Column:
        return self.columns[0]

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def refs(self) -> list[Column]:
        return [column for column in self.columns if column.ref is not None]


def canonical_column(name: str) -> str:
    """Header names are matched ignoring case and surrounding spaces ("Patient_ID " is patient_id)."""
    return name.strip().lower()


def check_header(spec: FileSpec, names: list[str]) -> list[tuple[str, str]]:
    """(column, message) for every problem with a file's header; empty when it can be read."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append((name, "This column appears twice in the header. Remove one of them."))
        elif name not in spec.by_name:
            problems.append((name, f"This is not a column of {spec.name}. Its columns are: {', '.join(spec.header)}."))
        seen.add(name)
    for column in spec.columns:
        if column.required and column.name not in seen:
            problems.append(
                (
                    column.name,
                    f"This column is missing from the header: the {column.label} must be given for every {spec.noun}.",
                )
            )
    return problems


def _london_midnight(value: str, warn: Warn) -> dt.datetime:
    """A date in a timestamp column (created_date): the start of that day in the UK."""
    return clock.london_datetime(cells.date(value, warn), dt.time(0, 0))


def _label_words(choices: type[models.TextChoices], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    words = {label: value for value, label in choices.choices}
    words.update({value: value for value in choices.values})
    words.update(extra or {})
    return words


def _labels(choices: type[models.TextChoices]) -> tuple[str, ...]:
    return tuple(str(label) for label in choices.labels)


_employment = cells.choice(
    "an employment status",
    _label_words(EmploymentStatus, {"FT": "full_time", "PT": "part_time"}),
    _labels(EmploymentStatus),
)
_facility_type = cells.choice(
    "a facility type", _label_words(FacilityType, {"GP": "gp_surgery"}), _labels(FacilityType)
)


def _text(name: str, label: str, field_name: str | None = None, *, parse: Parser = cells.text) -> Column:
    """A column that must be in the file and must not be empty."""
    return Column(name, parse, (field_name or name,), label)


def _optional(name: str, label: str, field_name: str | None = None, parse: Parser = cells.text) -> Column:
    """A column that may be missing from the file, or empty."""
    return Column(name, parse, (field_name or name,), label, required=False, blank="")


def _ref(name: str, label: str, file: str, attname: str, *, optional: bool = False) -> Column:
    if optional:
        return Column(name, cells.source_id, None, label, required=False, blank=None, ref=Ref(file, attname))
    return Column(name, cells.source_id, None, label, ref=Ref(file, attname))


def _id(name: str, label: str) -> Column:
    return Column(name, cells.source_id, ("source_id",), label)


FACILITIES = FileSpec(
    name="facilities.csv",
    model=Facility,
    noun="facility",
    columns=(
        _id("facility_id", "facility ID"),
        _text("facility_name", "name", "name"),
        Column("facility_type", _facility_type, ("facility_type",), "type (GP Surgery or Hospital)"),
        _text("address", "address"),
        _text("postcode", "postcode", parse=cells.postcode),
        _optional("phone_number", "phone number", parse=cells.phone),
        _optional("email", "email address", parse=cells.email),
        _optional("opening_hours", "opening hours"),
        _optional("manager_name", "manager's name"),
        Column("capacity", cells.whole_number, ("capacity",), "capacity", required=False, blank=None),
        Column(
            "specialities_offered",
            cells.pipe_list,
            ("specialities_offered",),
            "specialities offered",
            required=False,
            blank=[],
        ),
    ),
)

_clinician_title = cells.choice("a clinician title", _label_words(ClinicianTitle), _labels(ClinicianTitle))

CLINICIANS = FileSpec(
    name="clinicians.csv",
    model=Clinician,
    noun="clinician",
    columns=(
        _id("clinician_id", "clinician ID"),
        Column("first_name", cells.name_with_honorific, ("honorific", "first_name"), "first name"),
        _text("last_name", "last name"),
        Column("title", _clinician_title, ("title",), "title"),
        _text("speciality", "speciality"),
        Column("gmc_number", cells.registration_number, ("registration_number",), "GMC or NMC number"),
        _optional("phone_number", "phone number", parse=cells.phone),
        _optional("email", "email address", parse=cells.email),
        _ref("workplace_id", "workplace", "facilities.csv", "workplace_id"),
        # Not stored: an export derives it from the workplace. Compared with the workplace on import.
        Column("workplace_type", _facility_type, None, "workplace type", required=False, blank=NOT_GIVEN),
        Column("employment_status", _employment, ("employment_status",), "employment status"),
        Column("start_date", cells.date, ("start_date",), "start date"),
    ),
)

STAFF = FileSpec(
    name="staff.csv",
    model=StaffMember,
    noun="staff member",
    columns=(
        _id("staff_id", "staff ID"),
        _text("first_name", "first name"),
        _text("last_name", "last name"),
        _text("role", "role", "job_title"),
        _optional("department", "department"),
        _ref("facility_id", "facility", "facilities.csv", "facility_id"),
        _optional("phone_number", "phone number", parse=cells.phone),
        _optional("email", "email address", parse=cells.email),
        Column("employment_status", _employment, ("employment_status",), "employment status"),
        Column("start_date", cells.date, ("start_date",), "start date"),
        _optional("line_manager", "line manager"),
        Column(
            "access_level",
            cells.choice("an access level", _label_words(AccessLevel), _labels(AccessLevel)),
            ("access_level",),
            "access level",
        ),
    ),
)


def _timestamps_default() -> dict[str, Any]:
    now = clock.now()
    return {"created_at": now, "updated_at": now}


GENDER_LETTERS = {Gender.MALE: "M", Gender.FEMALE: "F", Gender.OTHER: "O", Gender.UNKNOWN: "U"}

PATIENTS = FileSpec(
    name="patients.csv",
    model=Patient,
    noun="patient",
    columns=(
        _id("patient_id", "patient ID"),
        _text("first_name", "first name"),
        _text("last_name", "last name"),
        Column("date_of_birth", cells.date, ("date_of_birth",), "date of birth"),
        # Empty: no NHS number yet (a new registration pending trace). Reported as a warning.
        Column(
            "nhs_number",
            cells.nhs_number_checked,
            ("nhs_number", "nhs_number_verified"),
            "NHS number",
            required=False,
            blank=(None, False),
        ),
        Column(
            "gender",
            cells.choice(
                "a gender",
                _label_words(
                    Gender,
                    {
                        **{letter: gender for gender, letter in GENDER_LETTERS.items()},
                        "Not specified": Gender.UNKNOWN,
                        "Indeterminate": Gender.OTHER,
                    },
                ),
                ("M", "F", "O (other)", "U (not known)"),
            ),
            ("gender",),
            "gender",
            required=False,
            blank=Gender.UNKNOWN,
        ),
        _optional("phone_number", "phone number", parse=cells.phone),
        _optional("email", "email address", parse=cells.email),
        _optional("address", "address"),
        _optional("postcode", "postcode", parse=cells.postcode),
        _optional("emergency_contact_name", "emergency contact's name"),
        _optional("emergency_contact_phone", "emergency contact's phone number", parse=cells.phone),
        Column("registration_date", cells.date, ("registration_date",), "registration date"),
        _ref("gp_surgery_id", "GP surgery", "facilities.csv", "registered_surgery_id"),
    ),
    create_defaults=_timestamps_default,
    touch_on_change=("updated_at",),
)

# The coursework has Scheduled and Cancelled. An export writes Carebridge's other states with these words,
# which an import reads back, so nothing is lost in a round trip.
APPOINTMENT_STATUS_WORDS = {
    AppointmentStatus.BOOKED: "Scheduled",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.ARRIVED: "Arrived",
    AppointmentStatus.FULFILLED: "Completed",
    AppointmentStatus.NOSHOW: "Did not attend",
}
_appointment_status = cells.choice(
    "an appointment status",
    {
        **{word: status for status, word in APPOINTMENT_STATUS_WORDS.items()},
        "Booked": AppointmentStatus.BOOKED,
        "Attended": AppointmentStatus.FULFILLED,
        "Fulfilled": AppointmentStatus.FULFILLED,
        "DNA": AppointmentStatus.NOSHOW,
        "No-show": AppointmentStatus.NOSHOW,
        "Checked in": AppointmentStatus.ARRIVED,
    },
    ("Scheduled", "Cancelled", "Arrived", "Completed", "Did not attend"),
)


def _assemble_appointment(values: dict[str, Any], fields: dict[str, Any]) -> None:
    # The coursework's date and time are the wall clock at the facility: UK time.
    fields["starts_at"] = clock.london_datetime(values["appointment_date"], values["appointment_time"])


APPOINTMENTS = FileSpec(
    name="appointments.csv",
    model=Appointment,
    noun="appointment",
    columns=(
        _id("appointment_id", "appointment ID"),
        _ref("patient_id", "patient", "patients.csv", "patient_id"),
        _ref("clinician_id", "clinician", "clinicians.csv", "clinician_id"),
        _ref("facility_id", "facility", "facilities.csv", "facility_id"),
        Column("appointment_date", cells.date, None, "date"),
        Column("appointment_time", cells.time, None, "time"),
        Column("duration_minutes", cells.positive_whole_number, ("duration_minutes",), "length in minutes"),
        _text("appointment_type", "type of appointment"),
        Column("status", _appointment_status, ("status",), "status"),
        _optional("reason_for_visit", "reason for the visit"),
        _optional("notes", "notes"),
        Column("created_date", _london_midnight, ("created_at",), "date it was made", required=False, blank=NOT_GIVEN),
        Column(
            "last_modified",
            _london_midnight,
            ("updated_at",),
            "date it was last changed",
            required=False,
            blank=NOT_GIVEN,
        ),
    ),
    assemble=_assemble_appointment,
    create_defaults=_timestamps_default,
)

PRESCRIPTION_STATUS_WORDS = {status: str(label) for status, label in PrescriptionStatus.choices}
# Cancelling needs a reason (a database rule); the coursework has no column for one.
IMPORTED_CANCELLATION_REASON = "Cancelled before import; no reason was recorded in the file."

PRESCRIPTIONS = FileSpec(
    name="prescriptions.csv",
    model=Prescription,
    noun="prescription",
    columns=(
        _id("prescription_id", "prescription ID"),
        _ref("patient_id", "patient", "patients.csv", "patient_id"),
        _ref("clinician_id", "prescriber", "clinicians.csv", "prescriber_id"),
        _ref("appointment_id", "appointment", "appointments.csv", "appointment_id", optional=True),
        Column("prescription_date", cells.date, ("prescribed_on",), "prescription date"),
        _text("medication_name", "medication"),
        Column("dosage", cells.amount_with_unit("20mg or 100units/ml"), ("dose_value", "dose_unit"), "dose"),
        _text("frequency", "frequency"),
        Column("duration_days", cells.whole_number, ("duration_days",), "duration in days"),
        Column(
            "quantity", cells.amount_with_unit("28 tablets or 1 pen"), ("quantity_value", "quantity_unit"), "quantity"
        ),
        _optional("instructions", "instructions"),
        _optional("pharmacy_name", "pharmacy"),
        Column(
            "status",
            cells.choice("a prescription status", _label_words(PrescriptionStatus), _labels(PrescriptionStatus)),
            ("status",),
            "status",
        ),
        Column("issue_date", cells.date, ("issue_date",), "issue date", required=False, blank=None),
        Column("collection_date", cells.date, ("collection_date",), "collection date", required=False, blank=None),
    ),
)

REFERRAL_PRIORITY_WORDS = {priority: str(label) for priority, label in ReferralPriority.choices}

REFERRALS = FileSpec(
    name="referrals.csv",
    model=Referral,
    noun="referral",
    columns=(
        _id("referral_id", "referral ID"),
        _ref("patient_id", "patient", "patients.csv", "patient_id"),
        _ref("referring_clinician_id", "referring clinician", "clinicians.csv", "referring_clinician_id"),
        _ref(
            "referred_to_clinician_id", "receiving clinician", "clinicians.csv", "receiving_clinician_id", optional=True
        ),
        _ref("referring_facility_id", "referring facility", "facilities.csv", "referring_facility_id"),
        _ref("referred_to_facility_id", "receiving facility", "facilities.csv", "receiving_facility_id"),
        Column("referral_date", cells.date, ("referral_date",), "referral date"),
        Column(
            "urgency_level",
            cells.choice(
                "an urgency level",
                _label_words(
                    ReferralPriority,
                    {"2WW": ReferralPriority.TWO_WEEK_WAIT, "Two week wait": ReferralPriority.TWO_WEEK_WAIT},
                ),
                ("Routine", "Urgent", "Non-urgent", "Two-week wait"),
            ),
            ("priority",),
            "urgency level",
        ),
        _text("referral_reason", "reason for referral", "reason"),
        _optional("clinical_summary", "clinical summary"),
        Column(
            "requested_investigations",
            cells.pipe_list,
            ("requested_investigations",),
            "investigations requested",
            required=False,
            blank=[],
        ),
        Column(
            "status",
            cells.choice("a referral status", _label_words(ReferralStatus), _labels(ReferralStatus)),
            ("status",),
            "status",
        ),
        _ref("appointment_id", "appointment", "appointments.csv", "appointment_id", optional=True),
        _optional("notes", "notes"),
        Column("created_date", _london_midnight, ("created_at",), "date it was made", required=False, blank=NOT_GIVEN),
        Column(
            "last_updated",
            _london_midnight,
            ("updated_at",),
            "date it was last changed",
            required=False,
            blank=NOT_GIVEN,
        ),
    ),
    create_defaults=_timestamps_default,
)

# In the order they must be imported: every file refers only to files before it.
SPECS: tuple[FileSpec, ...] = (FACILITIES, CLINICIANS, STAFF, PATIENTS, APPOINTMENTS, PRESCRIPTIONS, REFERRALS)
SPECS_BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in SPECS}


@dataclass(slots=True)
class ParsedRow:
    """One row read and checked on its own, before the records it refers to are looked up."""

    line: int
    source_id: str
    values: dict[str, Any]  # column name -> parsed value (NOT_GIVEN when the column is absent)
    fields: dict[str, Any]  # model field -> value; foreign keys are added once references resolve
    ok: bool = True  # False: the row has an error and cannot be stored
    # Column name -> what the referenced record is (filled in when references are looked up).
    refs: dict[str, Any] = field(default_factory=dict)
    # False: the row refers to a row of this import that has an error, so it cannot be stored either
    # (the import fails anyway; the row is not reported twice).
    writable: bool = True


def _max_lengths(model: type[models.Model]) -> dict[str, int]:
    return {f.attname: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}


Report = Callable[[str, str], None]  # (column, message)


class RowParser:
    """Reads the rows of one file. Built once per file: per row it only walks a prepared plan, since
    a 100,000-row import calls it 100,000 times."""

    def __init__(self, spec: FileSpec, *, error: Report, warn: Report) -> None:
        self.spec = spec
        self.error = error
        max_lengths = _max_lengths(spec.model)
        # (column name, parser, its warn function, fields, value when blank, what it is, length limits)
        self._plan = []
        for column in spec.columns:

            def column_warn(message: str, name: str = column.name) -> None:
                warn(name, message)

            fields = column.fields or ()
            limits = tuple((name, max_lengths[name]) for name in fields if name in max_lengths)
            what = "ID" if column is spec.id_column else column.label
            self._plan.append((column.name, column.parse, column_warn, column.fields, column.blank, what, limits))

    def parse(self, line: int, raw: Mapping[str, str]) -> ParsedRow:
        """Read every cell of one row. Problems go to `error` and `warn` with the column they are in."""
        values: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        ok = True
        error = self.error
        for name, parse, warn, column_fields, blank, what, limits in self._plan:
            text = raw.get(name)
            if text is None:
                values[name] = NOT_GIVEN
                continue
            # The apostrophe an export put before a formula-like value comes off after trimming, so a
            # value that starts with a tab keeps it.
            text = cells.from_spreadsheet_safe(text.strip())
            if not text:
                if blank is REQUIRED:
                    error(name, f"This is empty: the {what} must be given for every {self.spec.noun}.")
                    ok = False
                    continue
                value = blank
            else:
                try:
                    value = parse(text, warn)
                except CellError as exc:
                    error(name, str(exc))
                    ok = False
                    continue
            values[name] = value
            if column_fields is None or value is NOT_GIVEN:
                continue
            if len(column_fields) == 1:
                fields[column_fields[0]] = value
            else:
                fields.update(zip(column_fields, value, strict=True))
            for field_name, limit in limits:
                part = fields[field_name]
                if isinstance(part, str) and len(part) > limit:
                    error(name, f"This is too long: at most {limit} characters, and it has {len(part)}.")
                    ok = False
        if ok and self.spec.assemble is not None:
            self.spec.assemble(values, fields)
        source_id = values.get(self.spec.id_column.name)
        return ParsedRow(line, source_id if isinstance(source_id, str) else "", values, fields, ok)
