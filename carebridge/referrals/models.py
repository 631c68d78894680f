from django.db import models

from carebridge.core.fields import SourceRecord
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment


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


class ReferralStatus(models.TextChoices):
    NEW = "new", "New"
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In Progress"
    COMPLETED = "completed", "Completed"


class Referral(SourceRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    referring_clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="referrals_made")
    receiving_clinician = models.ForeignKey(
        Clinician, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_received"
    )
    referring_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="referrals_sent")
    receiving_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="referrals_received")
    referral_date = models.DateField()
    priority = models.CharField(max_length=20, choices=ReferralPriority.choices)
    # Clinical content: never shown to non-clinical staff.
    reason = models.CharField(max_length=300)
    clinical_summary = models.TextField(blank=True)
    requested_investigations = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.NEW)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-referral_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__in=ReferralPriority.values), name="referral_priority_known"
            ),
            models.CheckConstraint(condition=models.Q(status__in=ReferralStatus.values), name="referral_status_known"),
        ]
        indexes = [models.Index(fields=["patient", "referral_date"])]

    def __str__(self) -> str:
        return f"Referral {self.source_id or self.public_id}"

    @property
    def ers_priority(self) -> str:
        return ERS_PRIORITY[ReferralPriority(self.priority)]

    # Set on a copy cut for a viewer (referrals.selectors.referral_disclosed).
    disclosed_only = False

    def save(self, *args, **kwargs):
        # Writing back a copy cut for a viewer would erase the clinical content that viewer was not shown.
        if self.disclosed_only:
            raise RuntimeError("A referral cut for display cannot be saved; re-read it first.")
        super().save(*args, **kwargs)
