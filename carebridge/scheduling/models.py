import datetime as dt
from typing import Any

from django.db import models

from carebridge.core import clock
from carebridge.core.fields import SourceRecord, new_public_id
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningTime(models.Model):
    """When a facility's doors are open on one weekday. Several rows for a day with a lunch break."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="opening_times")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["facility", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(opens__lt=models.F("closes")), name="opening_time_opens_first"),
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6), name="opening_time_weekday"),
            models.UniqueConstraint(fields=["facility", "weekday", "opens"], name="opening_time_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class ClinicianSession(models.Model):
    """A weekly session a clinician works (say Mondays 09:00-12:00 in 15-minute slots)."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    clinician = models.ForeignKey(Clinician, on_delete=models.CASCADE, related_name="sessions")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="sessions")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField()
    appointment_types = models.JSONField(default=list)
    valid_from = models.DateField()
    # The last day the session runs; None while it runs on.
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["clinician", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")), name="session_starts_first"
            ),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240), name="session_slot_length"
            ),
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6), name="session_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ScheduleException(models.Model):
    """Time when slots are not offered: a clinician's leave, or (no clinician) the facility closed."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="schedule_exceptions")
    clinician = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="exception_starts_first"
            ),
        ]

    @property
    def period_words(self) -> str:
        """When, as people say it: whole days as days ("Thursday 3 December", or "Thursday 3 December
        to Friday 11 December"), not as midnight to midnight; part days with their times."""
        starts = self.starts_at.astimezone(clock.LONDON)
        ends = self.ends_at.astimezone(clock.LONDON)
        this_year = clock.today().year

        def day_words(day: dt.date) -> str:
            return f"{day:%A} {day.day} {day:%B}" + (f" {day.year}" if day.year != this_year else "")

        if starts.time() == dt.time.min and ends.time() == dt.time.min:
            last_day = ends.date() - dt.timedelta(days=1)
            if last_day == starts.date():
                return day_words(starts.date())
            return f"{day_words(starts.date())} to {day_words(last_day)}"
        if starts.date() == ends.date():
            return f"{day_words(starts.date())}, {starts:%H:%M} to {ends:%H:%M}"
        return f"{day_words(starts.date())} {starts:%H:%M} to {day_words(ends.date())} {ends:%H:%M}"


class Slot(models.Model):
    """A bookable time with one clinician. Free while no active appointment holds it.

    A clinician's slots never overlap: on PostgreSQL an exclusion constraint says so (migration 0003);
    on SQLite every write transaction holds the database's one write lock, so the check in
    `slots_regenerate` cannot race.
    """

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="slots")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="slots")
    session = models.ForeignKey(
        ClinicianSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    appointment_types = models.JSONField(default=list)
    # No longer offered (its session or a day of leave took it away) but kept while an appointment
    # still holds it, so that appointment is listed for rebooking rather than silently dropped.
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(starts_at__lt=models.F("ends_at")), name="slot_starts_first"),
            models.UniqueConstraint(fields=["clinician", "starts_at"], name="slot_unique_start_per_clinician"),
        ]
        indexes = [
            models.Index(fields=["facility", "starts_at"], name="slot_facility_start"),
            models.Index(fields=["starts_at"], name="slot_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} with {self.clinician_id}"

    @property
    def minutes(self) -> int:
        return minutes_between(self.starts_at, self.ends_at)


def minutes_between(starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    """A slot's length in whole minutes."""
    return int((ends_at - starts_at).total_seconds() // 60)


class AppointmentStatus(models.TextChoices):
    """FHIR R4 Appointment.status values Carebridge uses. The coursework's Scheduled is `booked`."""

    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    FULFILLED = "fulfilled", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "Did not attend"


# What a booked appointment whose time has passed shows until reception or the clinician records the
# outcome. FHIR and the REST API keep saying `booked`, which is still true; the pages say this.
OUTCOME_NOT_RECORDED = "Outcome not recorded"

# Statuses in which an appointment holds its slot. A cancelled one lets it go.
HOLDING_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.FULFILLED,
    AppointmentStatus.NOSHOW,
)


class Appointment(SourceRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="appointments")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    appointment_type = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    reason_for_visit = models.CharField(max_length=300, blank=True)
    # Administrative note about the booking, not a consultation note.
    notes = models.TextField(blank=True)
    # Appointments made in Carebridge hold a slot; imported ones may not.
    slot = models.ForeignKey(Slot, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    cancellation_reason = models.CharField(max_length=300, blank=True)
    # Its slot was withdrawn by a schedule change: reception must offer the patient another time.
    needs_rebooking = models.BooleanField(default=False)
    # What happened at the appointment, and when it was recorded: an outcome may be undone only on the
    # day it was recorded (scheduling.services.appointment_undo_outcome).
    arrived_at = models.DateTimeField(null=True, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    # Why an appointment the patient was never checked in for was marked done (required then), or how a
    # past appointment was closed.
    outcome_note = models.CharField(max_length=300, blank=True)
    # The version of the patient's calendar invitation (RFC 5545 SEQUENCE): up by one on every move and
    # on cancellation, so calendars replace the event instead of adding a second.
    calendar_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values), name="appointment_status_known"
            ),
            models.CheckConstraint(condition=models.Q(duration_minutes__gt=0), name="appointment_duration_positive"),
            # The rule that matters most: one slot, at most one appointment holding it, whatever the load.
            models.UniqueConstraint(
                fields=["slot"], condition=models.Q(status__in=HOLDING_STATUSES), name="appointment_one_per_slot"
            ),
        ]
        indexes = [
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["facility", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            # The day list's rebooking notice and the rebooking list read only the flagged few.
            models.Index(
                fields=["facility", "starts_at"],
                condition=models.Q(needs_rebooking=True),
                name="appointment_to_rebook",
            ),
            # "Closed today" on the list of appointments to close.
            models.Index(fields=["facility", "outcome_recorded_at"], name="appointment_outcome_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} on {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def outcome_missing(self) -> bool:
        """Its time has passed and nobody has said whether the patient came."""
        return self.status == AppointmentStatus.BOOKED and self.ends_at <= clock.now()

    @property
    def status_words(self) -> str:
        """The status as people read it: a booked appointment whose time has passed is not 'Booked'."""
        if self.outcome_missing:
            return OUTCOME_NOT_RECORDED
        return self.get_status_display()

    # Set on a copy cut for a viewer (scheduling.selectors.appointment_disclosed).
    disclosed_only = False

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A copy cut for a viewer has fields emptied: writing it back would erase what they were not shown.
        if self.disclosed_only:
            raise RuntimeError("An appointment cut for display cannot be saved; re-read it first.")
        super().save(*args, **kwargs)
