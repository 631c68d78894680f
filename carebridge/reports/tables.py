"""Each report's figures as a table (the page's accessible source of truth and the CSV's content) and a
bar chart, both built from the one list of rows carebridge/reports/figures.py returns."""

import csv
import datetime as dt
import enum
import io
from dataclasses import dataclass, field
from decimal import Decimal

from carebridge.core import clock
from carebridge.organisations.models import Facility
from carebridge.reports import figures
from carebridge.reports.charts import BarChart, Series, bar_chart

Value = str | int | Decimal | dt.date | None


class ReportKind(enum.StrEnum):
    APPOINTMENTS = "appointments"
    ACCESS = "access"
    PRESCRIBING = "prescribing"
    REFERRALS_SENT = "referrals-sent"
    REFERRALS_RECEIVED = "referrals-received"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    ReportKind.APPOINTMENTS: "Appointments",
    ReportKind.ACCESS: "Access: third next available routine appointment",
    ReportKind.PRESCRIBING: "Prescribing",
    ReportKind.REFERRALS_SENT: "Referrals sent",
    ReportKind.REFERRALS_RECEIVED: "Referrals received",
}


def kinds_for(facility: Facility) -> tuple[ReportKind, ...]:
    """The reports a facility has: a surgery prescribes and refers; a hospital receives referrals."""
    if facility.is_hospital:
        return (ReportKind.APPOINTMENTS, ReportKind.ACCESS, ReportKind.REFERRALS_RECEIVED)
    return (ReportKind.APPOINTMENTS, ReportKind.ACCESS, ReportKind.PRESCRIBING, ReportKind.REFERRALS_SENT)


class Kind(enum.Enum):
    TEXT = "text"
    COUNT = "count"
    PERCENT = "percent"
    DATE = "date"
    NUMBER = "number"  # a count of days or a median: right-aligned like counts


@dataclass(frozen=True)
class Column:
    heading: str
    kind: Kind = Kind.COUNT
    # What the page says where there is no value; the CSV leaves the cell empty.
    none_words: str = "–"

    @property
    def numeric(self) -> bool:
        return self.kind in (Kind.COUNT, Kind.PERCENT, Kind.NUMBER)

    def shown(self, value: Value) -> str:
        if value is None:
            return self.none_words
        if self.kind == Kind.DATE and isinstance(value, dt.date):
            return f"{value:%A} {value.day} {value:%B %Y}"
        if self.kind == Kind.PERCENT:
            return f"{value}%"
        return str(value)

    def written(self, value: Value) -> str:
        """As the CSV carries it: ISO dates, bare numbers, empty for no value."""
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    # Rows' first cells are headers for their row (a clinician, a week, a service).
    empty_words: str = "Nothing to count in this period."

    def shown_rows(self) -> list[list[tuple[str, str, bool]]]:
        """Each cell as the page shows it: its column's heading (which leads it on a phone), its text, and
        whether it is numeric (right-aligned on a wide screen)."""
        return [
            [
                (column.heading, column.shown(value), column.numeric)
                for column, value in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column.heading for column in self.columns])
        for row in self.rows:
            writer.writerow([column.written(value) for column, value in zip(self.columns, row, strict=True)])
        return out.getvalue()


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    about: str  # one sentence: what it counts
    table: Table  # what the CSV carries
    chart: BarChart
    # What the page shows beside the chart, when it is not the CSV's table as it stands (access: today's
    # figures and the trend, from the same rows as the CSV's long list).
    page_tables: tuple[Table, ...] = field(default=())

    @property
    def title(self) -> str:
        return self.kind.title

    @property
    def tables(self) -> tuple[Table, ...]:
        return self.page_tables or (self.table,)


def _short_day(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _long_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


# --- 1. Appointments -------------------------------------------------------------------------------------

_APPOINTMENT_COLUMNS = (
    Column("Week beginning", Kind.DATE),
    Column("Clinician", Kind.TEXT),
    Column("Booked"),
    Column("Attended"),
    Column("Did not attend"),
    Column("DNA rate", Kind.PERCENT),
    Column("Cancelled by patient"),
    Column("Cancelled by practice"),
    Column("Cancelled, by whom not recorded"),
    Column("Slots offered"),
    Column("Slots booked"),
    Column("Utilisation", Kind.PERCENT),
)


def _appointments(rows: list[figures.AppointmentWeek], period: figures.Period) -> Report:
    table = Table(
        caption="Appointments per clinician per week",
        columns=_APPOINTMENT_COLUMNS,
        rows=tuple(
            (
                row.week,
                row.clinician,
                row.booked,
                row.attended,
                row.did_not_attend,
                row.dna_rate,
                row.cancelled_by_patient,
                row.cancelled_by_practice,
                row.cancelled_not_recorded,
                row.offered_slots,
                row.booked_slots,
                row.utilisation,
            )
            for row in rows
        ),
    )
    weeks = period.weeks()

    def per_week(attribute: str) -> tuple[int, ...]:
        return tuple(sum(getattr(row, attribute) for row in rows if row.week == week) for week in weeks)

    cancelled = tuple(
        sum(
            row.cancelled_by_patient + row.cancelled_by_practice + row.cancelled_not_recorded
            for row in rows
            if row.week == week
        )
        for week in weeks
    )
    chart = bar_chart(
        title="Appointments per week",
        x_label="Week beginning",
        y_label="Appointments",
        categories=[_short_day(week) for week in weeks],
        category_words=[f"week beginning {_long_day(week)}" for week in weeks],
        series=[
            Series("Attended", per_week("attended")),
            Series("Did not attend", per_week("did_not_attend")),
            Series("Cancelled", cancelled),
        ],
    )
    return Report(
        kind=ReportKind.APPOINTMENTS,
        about=(
            "Appointments each week by clinician: booked (not cancelled), attended, did not attend, cancelled "
            "by the patient or by the practice, and session utilisation (slots booked over slots offered)."
        ),
        table=table,
        chart=chart,
    )


# --- 2. Access -------------------------------------------------------------------------------------------


def _access(rows: list[figures.AccessFigure]) -> Report:
    days_column = Column("Days to third next available", Kind.NUMBER, none_words="Fewer than 3 free")
    table = Table(
        caption="Days to the third next available routine appointment, as of each week",
        columns=(
            Column("Clinician", Kind.TEXT),
            Column("As of", Kind.DATE),
            Column("Third next available", Kind.DATE, none_words="Fewer than 3 free"),
            days_column,
        ),
        rows=tuple((row.clinician, figures.london_day(row.as_of), row.third_available, row.days) for row in rows),
        empty_words="No routine slots are offered in this period.",
    )
    moments = sorted({row.as_of for row in rows})
    latest = moments[-1] if moments else None
    latest_rows = [row for row in rows if row.as_of == latest]
    clinicians = sorted({row.clinician for row in rows})
    as_of_words = _long_day(figures.london_day(latest)) if latest else ""
    today_table = Table(
        caption=f"As of {as_of_words}" if latest else "Today",
        columns=(
            Column("Clinician", Kind.TEXT),
            Column("Third next available", Kind.DATE, none_words="Fewer than 3 free"),
            days_column,
        ),
        rows=tuple((row.clinician, row.third_available, row.days) for row in latest_rows),
        empty_words=table.empty_words,
    )
    by_key = {(row.clinician, row.as_of): row.days for row in rows}
    trend_table = Table(
        caption="Trend: days to the third next available, as of each week",
        columns=(
            Column("Clinician", Kind.TEXT),
            *(Column(_short_day(figures.london_day(moment)), Kind.NUMBER) for moment in moments),
        ),
        rows=tuple((clinician, *(by_key.get((clinician, moment)) for moment in moments)) for clinician in clinicians),
        empty_words=table.empty_words,
    )
    chart = bar_chart(
        title=f"Days to the third next available routine appointment, as of {as_of_words}",
        x_label="Clinician",
        y_label="Days",
        categories=[row.clinician for row in latest_rows],
        category_words=[row.clinician for row in latest_rows],
        series=[Series("Days", tuple(row.days for row in latest_rows), none_words="fewer than 3 free")],
    )
    return Report(
        kind=ReportKind.ACCESS,
        about=(
            "How many days a patient asking now would wait for the third free routine appointment with each "
            "clinician, and the same measure as it stood at this time on each earlier week."
        ),
        table=table,
        chart=chart,
        page_tables=(today_table, trend_table),
    )


# --- 3. Prescribing --------------------------------------------------------------------------------------

_KIND_WORDS = {
    "allergy": "allergy",
    "duplicate-therapy": "duplicate therapy",
    "interaction": "interaction",
    "dose": "dose",
    "quantity": "quantity",
    "unchecked": "not in formulary (unchecked)",
}


def _prescribing(rows: list[figures.PrescribingWeek]) -> Report:
    kind_columns = tuple(
        Column(f"Overrides: {_KIND_WORDS.get(kind.value, kind.value)}") for kind in figures.OVERRIDE_KINDS
    )
    table = Table(
        caption="Prescribing per week",
        columns=(
            Column("Week beginning", Kind.DATE),
            Column("Items issued"),
            Column("Repeats approved"),
            Column("Repeats refused"),
            *kind_columns,
            Column("Overrides in all"),
        ),
        rows=tuple(
            (row.week, row.items_issued, row.repeats_approved, row.repeats_refused, *row.overrides, row.overrides_total)
            for row in rows
        ),
    )
    chart = bar_chart(
        title="Prescribing per week",
        x_label="Week beginning",
        y_label="Count",
        categories=[_short_day(row.week) for row in rows],
        category_words=[f"week beginning {_long_day(row.week)}" for row in rows],
        series=[
            Series("Items issued", tuple(row.items_issued for row in rows)),
            Series("Repeats approved", tuple(row.repeats_approved for row in rows)),
            Series("Repeats refused", tuple(row.repeats_refused for row in rows)),
            Series("Safety warnings overridden", tuple(row.overrides_total for row in rows)),
        ],
    )
    return Report(
        kind=ReportKind.PRESCRIBING,
        about=(
            "Items prescribed each week, patients' repeat requests approved and refused, and safety warnings "
            "prescribers went ahead despite, by kind of warning."
        ),
        table=table,
        chart=chart,
    )


# --- 4. Referrals ----------------------------------------------------------------------------------------


def _state_words(state: str) -> str:
    return {
        "new": "Awaiting triage",
        "info_requested": "More information requested",
        "pending": "Accepted, to book",
        "in_progress": "Appointment booked",
        "completed": "Seen",
        "returned": "Returned with advice",
        "rejected": "Rejected",
    }[state]


def _referrals_sent(rows: list[figures.ReferralsSent]) -> Report:
    table = Table(
        caption="Referrals sent, by speciality and priority, and their state now",
        columns=(
            Column("Speciality", Kind.TEXT),
            Column("Priority", Kind.TEXT),
            Column("Sent"),
            *(Column(_state_words(state.value)) for state in figures.REFERRAL_STATES),
        ),
        rows=tuple((row.speciality, row.priority, row.sent, *row.by_state) for row in rows),
    )
    specialities = sorted({row.speciality for row in rows})
    priorities = [
        label
        for label in ("Two-week wait", "Urgent", "Routine", "Non-urgent")
        if any(r.priority == label for r in rows)
    ]
    chart = bar_chart(
        title="Referrals sent by speciality and priority",
        x_label="Speciality",
        y_label="Referrals",
        categories=specialities,
        category_words=specialities,
        series=[
            Series(
                priority,
                tuple(
                    sum(row.sent for row in rows if row.speciality == name and row.priority == priority)
                    for name in specialities
                ),
            )
            for priority in priorities
        ],
    )
    return Report(
        kind=ReportKind.REFERRALS_SENT,
        about="Referrals made in the period, by speciality and priority, and the state each is in now.",
        table=table,
        chart=chart,
    )


def _referrals_received(rows: list[figures.ReferralsReceived]) -> Report:
    table = Table(
        caption="Referrals received, by service",
        columns=(
            Column("Service", Kind.TEXT),
            Column("Received"),
            Column("Triaged"),
            Column("Median days to triage", Kind.NUMBER),
            Column("Waiting now"),
            Column("Within target"),
            Column("Breaches"),
        ),
        rows=tuple(
            (
                row.service,
                row.received,
                row.triaged,
                row.median_days_to_triage,
                row.waiting,
                row.within_target,
                row.breaches,
            )
            for row in rows
        ),
    )
    services = [row.service for row in rows]
    chart = bar_chart(
        title="Referrals waiting now, within target and breaching it",
        x_label="Service",
        y_label="Referrals waiting",
        categories=services,
        category_words=services,
        series=[
            Series("Within target", tuple(row.within_target for row in rows)),
            Series("Breaches", tuple(row.breaches for row in rows)),
        ],
    )
    return Report(
        kind=ReportKind.REFERRALS_RECEIVED,
        about=(
            "Referrals received in the period by service, how many have been triaged and how soon; and every "
            "referral still waiting now, against the target for its priority."
        ),
        table=table,
        chart=chart,
    )


def build_report(
    kind: ReportKind, *, facility: Facility, period: figures.Period, clinician_id: int | None = None
) -> Report:
    """One report's figures, table and chart for the facility, period and (optionally) clinician."""
    if kind == ReportKind.APPOINTMENTS:
        return _appointments(
            figures.appointments_by_week(facility=facility, period=period, clinician_id=clinician_id), period
        )
    if kind == ReportKind.ACCESS:
        moments = figures.access_moments(period, clock.now())
        return _access(figures.third_next_available(facility=facility, moments=moments, clinician_id=clinician_id))
    if kind == ReportKind.PRESCRIBING:
        return _prescribing(figures.prescribing_by_week(facility=facility, period=period, clinician_id=clinician_id))
    if kind == ReportKind.REFERRALS_SENT:
        return _referrals_sent(figures.referrals_sent(facility=facility, period=period, clinician_id=clinician_id))
    return _referrals_received(figures.referrals_received(facility=facility, period=period, clinician_id=clinician_id))


def csv_filename(facility: Facility, kind: ReportKind, period: figures.Period) -> str:
    code = "".join(ch for ch in (facility.source_id or "facility") if ch.isalnum() or ch in "-_") or "facility"
    return f"{code}-{kind.value}-{period.first_day.isoformat()}-to-{period.last_day.isoformat()}.csv"
