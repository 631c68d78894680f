"""Referrals from GP surgeries to hospital services, their documents and their history.

A referral's `status` is its working state (the coursework's New, Pending, In Progress and Completed,
with the states triage adds). FHIR's ServiceRequest.status and the Task that tracks the hospital's work
are derived from it (`fhir_status`, `task_status`), so there is one truth and no second field to keep
in step.
"""

import datetime as dt

from django.conf import settings
from django.db import models

from carebridge.core import clock
from carebridge.core.fields import SourceRecord
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment, AppointmentStatus


class ReferralPriority(models.TextChoices):
    """e-RS priorities, plus the coursework's 'Non-urgent', which e-RS treats as routine."""

    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    TWO_WEEK_WAIT = "two_week_wait", "Two-week wait"
    NON_URGENT = "non_urgent", "Non-urgent"


ERS_PRIORITY = {
    ReferralPriority.ROUTINE: "ROUTINE",
    ReferralPriority.NON_URGENT: "ROUTINE",
    ReferralPriority.URGENT: "URGENT",
    ReferralPriority.TWO_WEEK_WAIT: "TWO_WEEK_WAIT",
}
# The order a worklist takes: the most urgent first.
PRIORITY_RANK = {
    ReferralPriority.TWO_WEEK_WAIT: 0,
    ReferralPriority.URGENT: 1,
    ReferralPriority.ROUTINE: 2,
    ReferralPriority.NON_URGENT: 3,
}


class ReferralStatus(models.TextChoices):
    # The coursework's four keep their values and labels (import and export use the labels).
    NEW = "new", "New"
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In Progress"
    COMPLETED = "completed", "Completed"
    # Added by triage.
    INFO_REQUESTED = "info_requested", "More information requested"
    RETURNED = "returned", "Returned with advice"
    REJECTED = "rejected", "Rejected"


# Open: the hospital still has work to do on it (the worklist shows these).
OPEN_STATUSES = frozenset(
    {ReferralStatus.NEW, ReferralStatus.INFO_REQUESTED, ReferralStatus.PENDING, ReferralStatus.IN_PROGRESS}
)
CLOSED_STATUSES = frozenset({ReferralStatus.COMPLETED, ReferralStatus.RETURNED, ReferralStatus.REJECTED})

# What staff read, what the patient reads (plain English, nothing clinical), and FHIR underneath.
_STAFF_WORDS = {
    ReferralStatus.NEW: "Awaiting triage",
    ReferralStatus.INFO_REQUESTED: "More information requested",
    ReferralStatus.PENDING: "Accepted, to book",
    ReferralStatus.IN_PROGRESS: "Appointment booked",
    ReferralStatus.COMPLETED: "Seen, outcome sent",
    ReferralStatus.RETURNED: "Returned to GP with advice",
    ReferralStatus.REJECTED: "Rejected",
}
_PATIENT_WORDS = {
    ReferralStatus.NEW: "Sent to the hospital",
    ReferralStatus.INFO_REQUESTED: "Sent to the hospital",
    ReferralStatus.PENDING: "Accepted by the hospital: they will offer you an appointment",
    ReferralStatus.IN_PROGRESS: "Appointment booked",
    ReferralStatus.COMPLETED: "Seen at the hospital",
    ReferralStatus.RETURNED: "Returned to your GP with advice: your GP will contact you",
    ReferralStatus.REJECTED: "Not accepted by the hospital: your GP will explain why",
}
_FHIR_STATUS = {
    ReferralStatus.NEW: "active",
    ReferralStatus.INFO_REQUESTED: "on-hold",
    ReferralStatus.PENDING: "active",
    ReferralStatus.IN_PROGRESS: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.RETURNED: "completed",
    ReferralStatus.REJECTED: "revoked",
}
_TASK_STATUS = {
    ReferralStatus.NEW: ("received", "awaiting triage"),
    ReferralStatus.INFO_REQUESTED: ("on-hold", "more information requested"),
    ReferralStatus.PENDING: ("accepted", "accepted, awaiting booking"),
    ReferralStatus.IN_PROGRESS: ("in-progress", "appointment booked"),
    ReferralStatus.COMPLETED: ("completed", "seen, outcome letter sent"),
    ReferralStatus.RETURNED: ("completed", "returned to referrer with advice"),
    ReferralStatus.REJECTED: ("rejected", "rejected"),
}
# The coursework's statuses, for export: the states it has no word for go to the nearest.
COURSEWORK_STATUS = {
    ReferralStatus.NEW: "New",
    ReferralStatus.INFO_REQUESTED: "New",
    ReferralStatus.PENDING: "Pending",
    ReferralStatus.IN_PROGRESS: "In Progress",
    ReferralStatus.COMPLETED: "Completed",
    ReferralStatus.RETURNED: "Completed",
    ReferralStatus.REJECTED: "Completed",
}
TASK_STATUSES = frozenset(status for status, _words in _TASK_STATUS.values())


def status_for_task(task_status: str, business_status: str = "") -> ReferralStatus | None:
    """The referral state a Task's status (and business status) stands for; None if it names none."""
    matches = [status for status, (task, _words) in _TASK_STATUS.items() if task == task_status]
    if len(matches) > 1:
        # "completed" is seen or returned: the business status tells them apart.
        worded = [status for status in matches if _TASK_STATUS[status][1] == business_status.strip().lower()]
        return worded[0] if worded else matches[0]
    return matches[0] if matches else None


def target_days(priority: str) -> int:
    """Days within which a referral of this priority should be seen (settings.REFERRAL_TARGET_DAYS)."""
    targets = settings.REFERRAL_TARGET_DAYS
    return int(targets.get(priority, targets[ReferralPriority.ROUTINE]))


class Referral(SourceRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    # None only on a referral received from another Carebridge whose referrer is not in this one's
    # directory: `referrer_name` and `referrer_code` then say who it was.
    referring_clinician = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referrer_name = models.CharField(max_length=200, blank=True)
    referrer_code = models.CharField(max_length=30, blank=True)  # professional registration (GMC, NMC)
    receiving_clinician = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_received"
    )
    referring_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="referrals_sent")
    receiving_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="referrals_received")
    # The hospital service referred to (a speciality the receiving facility offers).
    speciality = models.CharField(max_length=100, blank=True)
    # The e-Referral Service's Unique Booking Reference Number: 12 digits. Imported rows have none.
    ubrn = models.CharField("UBRN", max_length=12, unique=True, null=True, blank=True)  # noqa: DJ001
    referral_date = models.DateField()
    priority = models.CharField(max_length=20, choices=ReferralPriority.choices)
    # Clinical content: never shown to non-clinical staff (referrals.selectors.referral_disclosed).
    reason = models.CharField(max_length=300)
    clinical_summary = models.TextField(blank=True)
    requested_investigations = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    # Triage: the advice, the reason for rejecting, or the information asked for (clinical).
    status_reason = models.TextField(blank=True)
    triage_comment = models.TextField(blank=True)  # why the priority changed at triage (clinical)
    triaged_by = models.ForeignKey(Clinician, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    triaged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)  # the consultant's outcome (clinical)
    completed_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    notes = models.TextField(blank=True)
    # Came in from another Carebridge (a connected system): its changes travel back to the sender.
    received_from_system = models.BooleanField(default=False)
    # Each side's changes travel with a version the other side compares, so a message that arrives twice
    # (or late, after a newer one) changes nothing. `version`: the request, changed by the referrer (made,
    # more information given). `task_version`: the hospital's work on it (triage, booking, outcome).
    version = models.PositiveIntegerField(default=1)
    task_version = models.PositiveIntegerField(default=0)
    # When the hospital appointment is, as the hospital reported it (on the referrer's side the
    # appointment itself lives in the hospital's system); on the hospital's side, the booking's start.
    appointment_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-referral_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__in=ReferralPriority.values), name="referral_priority_known"
            ),
            models.CheckConstraint(condition=models.Q(status__in=ReferralStatus.values), name="referral_status_known"),
            models.CheckConstraint(
                condition=models.Q(referring_clinician__isnull=False) | ~models.Q(referrer_name=""),
                name="referral_referrer_named",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "referral_date"]),
            # The hospital's worklist: open referrals to a facility.
            models.Index(fields=["receiving_facility", "status"], name="referral_worklist"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.ubrn or self.source_id or self.public_id}"

    @property
    def ers_priority(self) -> str:
        return ERS_PRIORITY[ReferralPriority(self.priority)]

    @property
    def fhir_status(self) -> str:
        return _FHIR_STATUS[ReferralStatus(self.status)]

    @property
    def task_status(self) -> str:
        return _TASK_STATUS[ReferralStatus(self.status)][0]

    @property
    def task_business_status(self) -> str:
        if self.status == ReferralStatus.IN_PROGRESS and self.appointment is not None:
            if self.appointment.status in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED):
                return "patient arrived"
        return _TASK_STATUS[ReferralStatus(self.status)][1]

    @property
    def staff_words(self) -> str:
        return _STAFF_WORDS[ReferralStatus(self.status)]

    @property
    def patient_words(self) -> str:
        return _PATIENT_WORDS[ReferralStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def referrer_display(self) -> str:
        if self.referring_clinician is not None:
            return self.referring_clinician.display_name
        return self.referrer_name

    @property
    def target_days(self) -> int:
        return target_days(self.priority)

    @property
    def wait_days(self) -> int:
        """Days waited so far, or until it was closed."""
        until = self.completed_at.astimezone(clock.LONDON).date() if self.completed_at else clock.today()
        return max((until - self.referral_date).days, 0)

    @property
    def target_date(self) -> dt.date:
        return self.referral_date + dt.timedelta(days=self.target_days)

    @property
    def is_breached(self) -> bool:
        """Still waiting to be seen after its target (an open referral past its target date)."""
        return self.is_open and self.wait_days > self.target_days

    # Set on a copy cut for a viewer (referrals.selectors.referral_disclosed).
    disclosed_only = False

    def save(self, *args, **kwargs):
        # Writing back a copy cut for a viewer would erase the clinical content that viewer was not shown.
        if self.disclosed_only:
            raise RuntimeError("A referral cut for display cannot be saved; re-read it first.")
        super().save(*args, **kwargs)


class DocumentKind(models.TextChoices):
    LETTER = "letter", "Referral letter"
    ATTACHMENT = "attachment", "Attachment"
    CLINIC_LETTER = "clinic_letter", "Clinic letter"


class ReferralDocument(models.Model):
    """A letter or attachment of a referral, kept as sent (clinical content)."""

    public_id = models.UUIDField(unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=DocumentKind.values), name="referral_document_kind"),
            # The same file twice on one referral is one document (a referral sent again brings it again).
            models.UniqueConstraint(fields=["referral", "kind", "sha256"], name="referral_document_once"),
        ]

    def __str__(self) -> str:
        return self.filename


class ReferralEvent(models.Model):
    """One step in a referral's history, as both sides show it: made, sent, triaged, booked, seen."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    words = models.CharField(max_length=200)  # what happened, for staff
    comment = models.TextField(blank=True)  # clinical: advice, reasons, the information asked for
    by = models.CharField(max_length=200)  # who, in words (a person, or "<hospital>'s system")
    version = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.words} ({self.at:%Y-%m-%d %H:%M})"
