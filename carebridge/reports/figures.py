"""The figures behind the managers' reports: counts of what the care apps hold, never a patient.

Each report is one typed function returning rows; the page's table, its chart and the CSV download
are all drawn from those same rows (carebridge/reports/tables.py and charts.py), so they cannot
disagree. What each figure means and how it is computed is written up in docs/reports.md.

Weeks run Monday to Sunday and days are London days, as the pages show them.
"""

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef

from carebridge.audit.models import AuditAction, AuditEvent, AuditObject
from carebridge.core import clock
from carebridge.core.roles import Role
from carebridge.organisations.models import Clinician, Facility
from carebridge.prescribing.models import Prescription, RepeatRequest, RepeatRequestStatus, SafetyOverride
from carebridge.prescribing.safety import WarningKind
from carebridge.referrals.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    Referral,
    ReferralPriority,
    ReferralStatus,
    target_days,
)
from carebridge.scheduling.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Slot

# Twelve weeks is the period a manager sees first: a quarter, long enough to show a trend.
DEFAULT_WEEKS = 12
# The longest period one report may cover, so a mistyped year cannot ask for centuries of counting.
LONGEST_PERIOD_DAYS = 731

# Slot types booked as a routine appointment: the GP's routine consultation and a hospital's
# outpatient (specialist) consultation. A slot that names no type takes any, routine included.
ROUTINE_TYPES = frozenset({"Routine Consultation", "Specialist Consultation"})
# Which free routine slot the access measure counts to: the third, as UK practices measure it (the
# first and second are often one-offs freed by a cancellation).
NTH_AVAILABLE = 3

# The warning kinds in the order the reports list them.
OVERRIDE_KINDS: tuple[WarningKind, ...] = tuple(WarningKind)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def london_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clock.LONDON).date()


@dataclass(frozen=True)
class Period:
    """The days a report covers, first and last included, in London."""

    first_day: dt.date
    last_day: dt.date

    @property
    def starts_at(self) -> dt.datetime:
        return clock.london_datetime(self.first_day, dt.time.min)

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment after the period (midnight at the end of its last day)."""
        return clock.london_datetime(self.last_day + dt.timedelta(days=1), dt.time.min)

    def weeks(self) -> list[dt.date]:
        """The Monday of every week the period touches, oldest first."""
        monday, last = monday_of(self.first_day), monday_of(self.last_day)
        weeks = []
        while monday <= last:
            weeks.append(monday)
            monday += dt.timedelta(days=7)
        return weeks


def default_period(today: dt.date | None = None) -> Period:
    """The last twelve weeks to today: this week and the eleven before it."""
    today = today or clock.today()
    return Period(first_day=monday_of(today) - dt.timedelta(weeks=DEFAULT_WEEKS - 1), last_day=today)


def _ratio(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage to one decimal place; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- 1. Appointments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppointmentWeek:
    """One clinician's appointments in one week at the facility."""

    clinician: str
    week: dt.date  # its Monday
    booked: int  # appointments in the week that were not cancelled, whatever their outcome
    attended: int
    did_not_attend: int
    cancelled_by_patient: int
    cancelled_by_practice: int
    # Cancelled, but who cancelled is not on record (imported appointments carry no audit row).
    cancelled_not_recorded: int
    offered_slots: int
    booked_slots: int

    @property
    def dna_rate(self) -> Decimal | None:
        """Did not attend as a percentage of the appointments whose outcome was attended or not."""
        return _ratio(self.did_not_attend, self.attended + self.did_not_attend)

    @property
    def utilisation(self) -> Decimal | None:
        """Booked slots as a percentage of offered slots."""
        return _ratio(self.booked_slots, self.offered_slots)


def _cancelled_by_patient(public_ids: list[str]) -> dict[str, bool]:
    """Who cancelled each appointment, from its cancellation's audit row: True for the patient, False
    for anyone else (reception, a clinician, a manager: the practice). Missing: not on record."""
    who: dict[str, bool] = {}
    for chunk in _chunks(public_ids):
        rows = (
            AuditEvent.objects.filter(
                object_type=AuditObject.APPOINTMENT,
                action=AuditAction.UPDATE,
                object_id__in=chunk,
                detail__status=AppointmentStatus.CANCELLED.value,
            )
            .order_by("at", "id")
            .values_list("object_id", "actor_role")
        )
        for object_id, actor_role in rows:
            who[object_id] = actor_role == Role.PATIENT.value
    return who


def appointments_by_week(
    *, facility: Facility, period: Period, clinician_id: int | None = None
) -> list[AppointmentWeek]:
    """Per clinician and week: appointments booked, attended, not attended and cancelled (by whom), and
    the week's session utilisation (slots held by an appointment over slots offered)."""
    appointments = Appointment.objects.filter(
        facility=facility, starts_at__gte=period.starts_at, starts_at__lt=period.ends_at
    )
    slots = Slot.objects.filter(
        facility=facility, starts_at__gte=period.starts_at, starts_at__lt=period.ends_at, withdrawn=False
    )
    if clinician_id is not None:
        appointments = appointments.filter(clinician_id=clinician_id)
        slots = slots.filter(clinician_id=clinician_id)

    counts: dict[tuple[int, dt.date], Counter[str]] = defaultdict(Counter)
    cancelled: list[tuple[int, dt.date, str]] = []
    for clinician, starts_at, status, public_id in appointments.values_list(
        "clinician_id", "starts_at", "status", "public_id"
    ):
        key = (clinician, monday_of(london_day(starts_at)))
        if status == AppointmentStatus.CANCELLED:
            cancelled.append((*key, str(public_id)))
            continue
        counts[key]["booked"] += 1
        if status == AppointmentStatus.FULFILLED:
            counts[key]["attended"] += 1
        elif status == AppointmentStatus.NOSHOW:
            counts[key]["did_not_attend"] += 1
    by_patient = _cancelled_by_patient([public_id for _, _, public_id in cancelled])
    for clinician, week, public_id in cancelled:
        if public_id not in by_patient:
            counts[(clinician, week)]["cancelled_not_recorded"] += 1
        elif by_patient[public_id]:
            counts[(clinician, week)]["cancelled_by_patient"] += 1
        else:
            counts[(clinician, week)]["cancelled_by_practice"] += 1

    held = Exists(Appointment.objects.filter(slot=OuterRef("pk"), status__in=HOLDING_STATUSES))
    for clinician, starts_at, is_held in slots.annotate(held=held).values_list("clinician_id", "starts_at", "held"):
        key = (clinician, monday_of(london_day(starts_at)))
        counts[key]["offered_slots"] += 1
        if is_held:
            counts[key]["booked_slots"] += 1

    names = _clinician_names(clinician for clinician, _ in counts)
    rows = [
        AppointmentWeek(
            clinician=names[clinician],
            week=week,
            booked=tally["booked"],
            attended=tally["attended"],
            did_not_attend=tally["did_not_attend"],
            cancelled_by_patient=tally["cancelled_by_patient"],
            cancelled_by_practice=tally["cancelled_by_practice"],
            cancelled_not_recorded=tally["cancelled_not_recorded"],
            offered_slots=tally["offered_slots"],
            booked_slots=tally["booked_slots"],
        )
        for (clinician, week), tally in counts.items()
    ]
    return sorted(rows, key=lambda row: (row.week, row.clinician))


def _clinician_names(ids: Iterable[int]) -> dict[int, str]:
    return {clinician.pk: clinician.display_name for clinician in Clinician.objects.filter(pk__in=set(ids))}


# --- 2. Access: the third next available routine appointment ---------------------------------------------


@dataclass(frozen=True)
class AccessFigure:
    """How long a patient asking at `as_of` would wait for a routine appointment with the clinician."""

    clinician: str
    as_of: dt.datetime
    # The day of the third routine slot free at `as_of`; None if fewer than three were bookable then.
    third_available: dt.date | None

    @property
    def days(self) -> int | None:
        """Days from the day asked to the day of the third free routine slot (0: later the same day)."""
        if self.third_available is None:
            return None
        return (self.third_available - london_day(self.as_of)).days


def is_routine(appointment_types: list[str]) -> bool:
    return not appointment_types or bool(ROUTINE_TYPES.intersection(appointment_types))


def access_moments(period: Period, now: dt.datetime | None = None) -> list[dt.datetime]:
    """When the access measure is taken: now, and the same time on each earlier week back to the start of
    the period, oldest first. A period that ends before today starts from the last such time in it."""
    now = now or clock.now()
    moments = []
    moment = now
    while london_day(moment) >= period.first_day:
        if london_day(moment) <= period.last_day:
            moments.append(moment)
        moment -= dt.timedelta(weeks=1)
    return sorted(moments)


def _free_at(moment: dt.datetime, holders: list[tuple[dt.datetime, str, dt.datetime]]) -> bool:
    """Whether a slot was free at `moment`, given the (created, status, last changed) of every appointment
    that holds or held it: an appointment held it from when it was made until it was cancelled (its last
    change, for a cancelled one: a cancelled appointment changes no more)."""
    for created_at, status, updated_at in holders:
        if created_at > moment:
            continue
        if status != AppointmentStatus.CANCELLED or updated_at > moment:
            return False
    return True


def third_next_available(
    *, facility: Facility, moments: list[dt.datetime], clinician_id: int | None = None
) -> list[AccessFigure]:
    """Per clinician with slots at the facility and each moment: the day of the third routine slot that was
    free and bookable at that moment (after it, within the booking horizon of that day, not withdrawn)."""
    if not moments:
        return []
    horizon = dt.timedelta(days=settings.SLOT_HORIZON_DAYS + 1)
    earliest, latest = min(moments), max(moments)
    slots = Slot.objects.filter(
        facility=facility,
        withdrawn=False,
        starts_at__gt=earliest,
        starts_at__lt=clock.london_datetime(london_day(latest), dt.time.min) + horizon,
    ).order_by("starts_at")
    if clinician_id is not None:
        slots = slots.filter(clinician_id=clinician_id)
    routine = [
        (slot_id, clinician, starts_at)
        for slot_id, clinician, starts_at, types in slots.values_list(
            "pk", "clinician_id", "starts_at", "appointment_types"
        )
        if is_routine(types)
    ]
    holders: dict[int, list[tuple[dt.datetime, str, dt.datetime]]] = defaultdict(list)
    slot_ids = [slot_id for slot_id, _, _ in routine]
    for start in range(0, len(slot_ids), 500):
        for slot_id, created_at, status, updated_at in Appointment.objects.filter(
            slot_id__in=slot_ids[start : start + 500]
        ).values_list("slot_id", "created_at", "status", "updated_at"):
            holders[slot_id].append((created_at, status, updated_at))

    by_clinician: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
    for slot_id, clinician, starts_at in routine:
        by_clinician[clinician].append((slot_id, starts_at))
    names = _clinician_names(by_clinician)
    figures = []
    for clinician, clinician_slots in by_clinician.items():
        for moment in moments:
            last_bookable = clock.london_datetime(london_day(moment), dt.time.min) + horizon
            found = 0
            third = None
            for slot_id, starts_at in clinician_slots:
                if starts_at <= moment or starts_at >= last_bookable:
                    continue
                if _free_at(moment, holders[slot_id]):
                    found += 1
                    if found == NTH_AVAILABLE:
                        third = london_day(starts_at)
                        break
            figures.append(AccessFigure(clinician=names[clinician], as_of=moment, third_available=third))
    return sorted(figures, key=lambda figure: (figure.clinician, figure.as_of))


# --- 3. Prescribing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrescribingWeek:
    week: dt.date
    items_issued: int  # prescriptions written that week, first issues and repeats alike
    repeats_approved: int  # patients' repeat requests approved that week
    repeats_refused: int
    overrides: tuple[int, ...]  # safety warnings overridden that week, one count per OVERRIDE_KINDS

    @property
    def overrides_total(self) -> int:
        return sum(self.overrides)


def prescribing_by_week(
    *, facility: Facility, period: Period, clinician_id: int | None = None
) -> list[PrescribingWeek]:
    """Per week: items prescribed by the facility's clinicians, repeat requests decided at the facility,
    and the safety warnings its prescribers overrode, by kind."""
    prescriptions = Prescription.objects.filter(
        prescriber__workplace=facility, prescribed_on__gte=period.first_day, prescribed_on__lte=period.last_day
    )
    requests = RepeatRequest.objects.filter(
        surgery=facility,
        status__in=(RepeatRequestStatus.APPROVED, RepeatRequestStatus.REFUSED),
        decided_at__gte=period.starts_at,
        decided_at__lt=period.ends_at,
    )
    overrides = SafetyOverride.objects.filter(
        prescription__prescriber__workplace=facility,
        overridden_at__gte=period.starts_at,
        overridden_at__lt=period.ends_at,
    )
    if clinician_id is not None:
        prescriptions = prescriptions.filter(prescriber_id=clinician_id)
        requests = requests.filter(decided_by_id=clinician_id)
        overrides = overrides.filter(overridden_by_id=clinician_id)

    items: Counter[dt.date] = Counter(monday_of(day) for day in prescriptions.values_list("prescribed_on", flat=True))
    decided: Counter[tuple[dt.date, str]] = Counter(
        (monday_of(london_day(at)), status) for at, status in requests.values_list("decided_at", "status")
    )
    kinds: Counter[tuple[dt.date, str]] = Counter(
        (monday_of(london_day(at)), kind) for at, kind in overrides.values_list("overridden_at", "kind")
    )
    return [
        PrescribingWeek(
            week=week,
            items_issued=items[week],
            repeats_approved=decided[(week, RepeatRequestStatus.APPROVED)],
            repeats_refused=decided[(week, RepeatRequestStatus.REFUSED)],
            overrides=tuple(kinds[(week, kind.value)] for kind in OVERRIDE_KINDS),
        )
        for week in period.weeks()
    ]


# --- 4. Referrals -----------------------------------------------------------------------------------------

# The states in the order a referral passes through them, as the reports' columns.
REFERRAL_STATES: tuple[ReferralStatus, ...] = (
    ReferralStatus.NEW,
    ReferralStatus.INFO_REQUESTED,
    ReferralStatus.PENDING,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.COMPLETED,
    ReferralStatus.RETURNED,
    ReferralStatus.REJECTED,
)
NO_SPECIALITY = "Not stated"


@dataclass(frozen=True)
class ReferralsSent:
    """A surgery's referrals of one speciality and priority made in the period, and where they are now."""

    speciality: str
    priority: str  # its label: "Two-week wait"
    sent: int
    by_state: tuple[int, ...]  # one count per REFERRAL_STATES


def referrals_sent(*, facility: Facility, period: Period, clinician_id: int | None = None) -> list[ReferralsSent]:
    referrals = Referral.objects.filter(
        referring_facility=facility, referral_date__gte=period.first_day, referral_date__lte=period.last_day
    )
    if clinician_id is not None:
        referrals = referrals.filter(referring_clinician_id=clinician_id)
    tally: Counter[tuple[str, str, str]] = Counter(
        (speciality or NO_SPECIALITY, priority, status)
        for speciality, priority, status in referrals.values_list("speciality", "priority", "status")
    )
    groups = sorted(
        {(speciality, priority) for speciality, priority, _ in tally},
        key=lambda group: (group[0], PRIORITY_RANK[ReferralPriority(group[1])]),
    )
    rows = []
    for speciality, priority in groups:
        states = tuple(tally[(speciality, priority, state.value)] for state in REFERRAL_STATES)
        rows.append(
            ReferralsSent(
                speciality=speciality, priority=ReferralPriority(priority).label, sent=sum(states), by_state=states
            )
        )
    return rows


@dataclass(frozen=True)
class ReferralsReceived:
    """A hospital service's referrals: received in the period, and those waiting now against target."""

    service: str
    received: int  # referral date in the period
    triaged: int  # of those received, how many have been triaged
    median_days_to_triage: Decimal | None  # from the referral's date to its triage, in days
    waiting: int  # open now, whenever received
    within_target: int  # open now and waiting no longer than its priority's target
    breaches: int  # open now and waiting longer than its target


def referrals_received(
    *, facility: Facility, period: Period, clinician_id: int | None = None
) -> list[ReferralsReceived]:
    base = Referral.objects.filter(receiving_facility=facility)
    if clinician_id is not None:
        base = base.filter(receiving_clinician_id=clinician_id)
    received: Counter[str] = Counter()
    triage_days: dict[str, list[int]] = defaultdict(list)
    for speciality, referral_date, triaged_at in base.filter(
        referral_date__gte=period.first_day, referral_date__lte=period.last_day
    ).values_list("speciality", "referral_date", "triaged_at"):
        service = speciality or NO_SPECIALITY
        received[service] += 1
        if triaged_at is not None:
            triage_days[service].append(max((london_day(triaged_at) - referral_date).days, 0))
    today = clock.today()
    waiting: Counter[str] = Counter()
    breaches: Counter[str] = Counter()
    for speciality, referral_date, priority in base.filter(status__in=OPEN_STATUSES).values_list(
        "speciality", "referral_date", "priority"
    ):
        service = speciality or NO_SPECIALITY
        waiting[service] += 1
        if (today - referral_date).days > target_days(priority):
            breaches[service] += 1
    rows = []
    for service in sorted(set(received) | set(waiting)):
        days = triage_days[service]
        median = (
            Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if days else None
        )
        rows.append(
            ReferralsReceived(
                service=service,
                received=received[service],
                triaged=len(days),
                median_days_to_triage=median,
                waiting=waiting[service],
                within_target=waiting[service] - breaches[service],
                breaches=breaches[service],
            )
        )
    return rows


def facility_clinicians(facility: Facility) -> list[Clinician]:
    """The clinicians a report may be narrowed to: those working at the facility."""
    return list(Clinician.objects.filter(workplace=facility).order_by("last_name", "first_name"))
