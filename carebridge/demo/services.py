"""Loading the demo: generated rows through the CSV importer, then one login per role.

The demo does not write patient data itself. It hands its rows to the importer
(`csvio.services.dataset_import_rows`), so the demo data passes exactly the checks anyone's data passes,
and creates the logins with `accounts.services.user_create`. Everything happens in one transaction: a
failure part-way leaves the database as it was, so the next `make run` simply tries again.
"""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

from carebridge.accounts.models import AccountKind, User
from carebridge.accounts.services import user_create
from carebridge.clinical.models import AllergySeverity
from carebridge.clinical.services import allergy_record, consultation_record
from carebridge.core.actor import Actor
from carebridge.core.roles import ROLE_LABELS, role_of
from carebridge.csvio.report import ImportReport
from carebridge.csvio.services import dataset_import_rows
from carebridge.demo.generator import DEFAULT_PATIENTS, DEFAULT_SEED, DemoCast, DemoDataset
from carebridge.organisations.models import Clinician, Facility, StaffMember
from carebridge.patients.models import Patient
from carebridge.scheduling.services import WeeklySession, sessions_set

# One password for every demo login, printed by `seed-demo`. Demo databases hold no real patients.
DEMO_PASSWORD = "carebridge-demo-2026"

# Any number will do, as long as nothing else takes this PostgreSQL advisory lock.
_SEED_LOCK = 0x0CA4EB1D


@dataclass(frozen=True)
class _LoginPlan:
    username: str
    kind: AccountKind
    linked: str  # which DemoCast member the login stands for; "" for logins linked to nobody
    first_name: str = ""
    last_name: str = ""
    email: str = ""


# In the order the table is printed. The administrator and privacy officer are people of the trust
# running Carebridge, not of any one facility, so they are linked to no record.
LOGIN_PLANS: tuple[_LoginPlan, ...] = (
    _LoginPlan("patient", AccountKind.PATIENT, "patient"),
    _LoginPlan("gp", AccountKind.CLINICIAN, "gp"),
    _LoginPlan("nurse", AccountKind.CLINICIAN, "nurse"),
    _LoginPlan("specialist", AccountKind.CLINICIAN, "specialist"),
    _LoginPlan("reception", AccountKind.STAFF, "reception"),
    _LoginPlan("hospital-reception", AccountKind.STAFF, "hospital_reception"),
    _LoginPlan("manager", AccountKind.STAFF, "manager"),
    _LoginPlan("admin", AccountKind.SYSTEM_ADMIN, "", "Chris", "Walker", "c.walker@carebridge.example"),
    _LoginPlan("privacy", AccountKind.PRIVACY_OFFICER, "", "Nadia", "Okafor", "n.okafor@carebridge.example"),
)
DEMO_USERNAMES: tuple[str, ...] = tuple(plan.username for plan in LOGIN_PLANS)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    facility: str


@dataclass
class DemoSeedResult:
    report: ImportReport
    logins: list[DemoLogin] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    import_seconds: float = 0.0
    # Of import_seconds, the time spent making the rows (the rest is the importer's).
    generate_seconds: float = 0.0
    logins_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class DemoNotLoaded(Exception):
    """The demo was not loaded; the message says why, in words for whoever ran the command."""


class DemoDatabaseNotEmpty(DemoNotLoaded):
    """The database already holds records the demo would clash with (or duplicate)."""


class DemoImportFailed(DemoNotLoaded):
    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def database_contents() -> dict[str, int]:
    """What is already in the database that the demo would clash with, by kind (kinds with none left out)."""
    counts = {
        "patients": Patient.objects.count(),
        "facilities": Facility.objects.count(),
        "clinicians": Clinician.objects.count(),
        "staff members": StaffMember.objects.count(),
        "demo logins": User.objects.filter(username__in=DEMO_USERNAMES).count(),
    }
    return {kind: count for kind, count in counts.items() if count}


def describe_contents(contents: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {kind}" for kind, count in contents.items())


def demo_seed(
    *,
    actor: Actor,
    patients: int = DEFAULT_PATIENTS,
    seed: int = DEFAULT_SEED,
    password: str = DEMO_PASSWORD,
    progress: Callable[[str, int, bool], None] | None = None,
) -> DemoSeedResult:
    """Load the demo data set and its logins into an empty database, all or nothing.

    Raises DemoDatabaseNotEmpty when there is anything the demo would duplicate or clash with, and
    DemoImportFailed (nothing written) when the importer finds an error in the generated rows.
    """
    dataset = DemoDataset(patients=patients, seed=seed)
    try:
        with transaction.atomic():
            # Two `make run`s starting at once must not both load: the second waits here, then finds
            # the first one's data. (SQLite takes its write lock when the transaction starts, which
            # does the same there.)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEED_LOCK])
            contents = database_contents()
            if contents:
                raise DemoDatabaseNotEmpty(f"The database already holds {describe_contents(contents)}.")

            started = time.perf_counter()
            report = dataset_import_rows(rows_by_file=dataset.rows_by_file(), actor=actor, progress=progress)
            imported = time.perf_counter()
            if report.has_errors or not report.stored:
                raise DemoImportFailed(
                    f"The importer refused the generated demo data ({report.error_count:,} errors); nothing was "
                    f"written.",
                    report,
                )
            logins = _create_logins(actor=actor, cast=dataset.cast, password=password)
            _set_weekly_schedules(actor=actor, dataset=dataset)
            _record_demo_clinical_history(cast=dataset.cast)
            finished = time.perf_counter()
    finally:
        dataset.close()
    return DemoSeedResult(
        report=report,
        logins=logins,
        rows={name: counts.created for name, counts in report.files.items()},
        import_seconds=imported - started,
        generate_seconds=dataset.generate_seconds,
        logins_seconds=finished - imported,
    )


def _create_logins(*, actor: Actor, cast: DemoCast, password: str) -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    for plan in LOGIN_PLANS:
        record = _linked_record(plan, cast)
        if record is None:
            first, last, email, facility = plan.first_name, plan.last_name, plan.email, "All facilities"
        elif isinstance(record, Patient):
            first, last, email, facility = (
                record.first_name,
                record.last_name,
                record.email,
                record.registered_surgery.name,
            )
        elif isinstance(record, Clinician):
            first, last, email, facility = record.first_name, record.last_name, record.email, record.workplace.name
        else:
            first, last, email, facility = record.first_name, record.last_name, record.email, record.facility.name
        user = user_create(
            actor=actor,
            username=plan.username,
            kind=plan.kind,
            password=password,
            first_name=first,
            last_name=last,
            email=email,
            linked_record=record,
        )
        logins.append(
            DemoLogin(
                username=plan.username,
                name=_name(record, first, last),
                role=_job(record) or ROLE_LABELS[role_of(user)],
                facility=facility,
            )
        )
    return logins


HYPERTENSION = "59621000"  # SNOMED CT: essential hypertension


def _record_demo_clinical_history(*, cast: DemoCast) -> None:
    """The coursework has no clinical history beyond prescriptions; give the demo patient some, recorded
    by the demo GP through the same services a GP uses, so the record, the allergy warning and the
    problem list have something to show: a penicillin allergy and long-standing high blood pressure."""
    gp = Actor.command_line(Clinician.objects.get(source_id=cast.gp).user)
    patient = Patient.objects.get(source_id=cast.patient)
    allergy_record(
        actor=gp,
        patient=patient,
        substance="penicillins",
        reaction="Widespread itchy rash",
        severity=AllergySeverity.MODERATE,
    )
    consultation_record(
        actor=gp,
        patient=patient,
        symptoms="Headaches in the mornings; home readings high.",
        findings="BP 162/98 seated, repeated 158/96.",
        assessment="Stage 2 hypertension.",
        plan="Lifestyle advice; blood tests; review in four weeks.",
        condition_code=HYPERTENSION,
    )


# What each kind of clinician's sessions offer, in the coursework's appointment types.
_APPOINTMENT_TYPES = {
    "GP": ("Routine Consultation", "Follow-up", "Urgent Consultation"),
    "Practice Nurse": ("Vaccination", "Health Check", "Follow-up"),
    "Consultant": ("Specialist Consultation", "Follow-up"),
}


def _set_weekly_schedules(*, actor: Actor, dataset: DemoDataset) -> None:
    """Give every demo clinician who sees booked patients the weekly sessions the generator booked them
    into, so the demo offers free slots from today to the rolling horizon (scheduling services)."""
    clinicians = {clinician.source_id: clinician for clinician in Clinician.objects.select_related("workplace")}
    for generated in dataset.clinicians:
        types = _APPOINTMENT_TYPES.get(generated.title)
        if types is None or not generated.sessions:
            continue  # ward nurses work shifts, not booked clinics
        weekly = [
            WeeklySession(
                weekday=day,
                start_time=_time(start),
                end_time=_time(end),
                slot_minutes=generated.slot_minutes,
                appointment_types=types,
            )
            for day in sorted(generated.workdays)
            for start, end in generated.sessions
        ]
        sessions_set(actor=actor, clinician=clinicians[generated.source_id], sessions=weekly)


def _time(minutes_after_midnight: int) -> dt.time:
    return dt.time(minutes_after_midnight // 60, minutes_after_midnight % 60)


def _name(record: Patient | Clinician | StaffMember | None, first: str, last: str) -> str:
    return record.display_name if isinstance(record, Clinician) else f"{first} {last}"


def _job(record: Patient | Clinician | StaffMember | None) -> str:
    """What the person does, in their own workplace's words ("Practice Nurse", "Consultant, Cardiology")."""
    if isinstance(record, Clinician):
        label = record.get_title_display()
        return f"{label}, {record.speciality}" if record.title == "consultant" else label
    if isinstance(record, StaffMember):
        return record.job_title
    return ""


def _linked_record(plan: _LoginPlan, cast: DemoCast) -> Patient | Clinician | StaffMember | None:
    if not plan.linked:
        return None
    source_id = getattr(cast, plan.linked)
    if plan.kind == AccountKind.PATIENT:
        return Patient.objects.select_related("registered_surgery").get(source_id=source_id)
    if plan.kind == AccountKind.CLINICIAN:
        return Clinician.objects.select_related("workplace").get(source_id=source_id)
    return StaffMember.objects.select_related("facility").get(source_id=source_id)
