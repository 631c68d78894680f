"""The legitimate relationships that open a patient's record, kept as rows (as the NHS spine keeps them).

Registration needs no row: a patient's registered surgery is on the patient. Appointments and referrals
each keep one row per party, written by the care service that makes or changes them, in the same
transaction, so "may this person see this patient?" is one indexed lookup and can say why.
Emergency ("break-glass") access is a grant of its own, kept here too.
"""

from django.conf import settings
from django.db import models

from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient


class RelationshipKind(models.TextChoices):
    APPOINTMENT = "appointment", "Appointment"
    REFERRAL_RECEIVED = "referral_received", "Referral received"
    REFERRAL_SENT = "referral_sent", "Referral sent"


class CareRelationship(models.Model):
    """A clinician and their facility caring for a patient, from `starts_at` until `ends_at`.

    Clinicians match on the clinician or the facility; non-clinical staff on the facility. `source_id`
    is the public ID of the appointment or referral that made the relationship, so it can be explained
    and kept in step with it; `ends_at` is None while the referral is open.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_relationships")
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    source_id = models.UUIDField()
    clinician = models.ForeignKey(Clinician, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    # Administrative words for the person and the patient ("Appointment on 14 December 2026"), written
    # by the care service, so an explanation needs nothing from the care apps. Never clinical content.
    summary = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_id", "kind"], name="care_relationship_one_per_source"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RelationshipKind.values), name="care_relationship_kind_known"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "facility"], name="care_rel_patient_facility"),
            models.Index(fields=["patient", "clinician"], name="care_rel_patient_clinician"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_id}"


class ReviewOutcome(models.TextChoices):
    """What the privacy officer concluded about an emergency access."""

    APPROPRIATE = "appropriate", "Appropriate"
    INAPPROPRIATE = "inappropriate", "Inappropriate"
    # Not concluded yet: the grant stays on the review list until a later review settles it.
    NEEDS_FOLLOW_UP = "needs_follow_up", "Needs follow-up"


class BreakGlassAccess(models.Model):
    """A clinician opened a record outside their relationships, giving a reason. Reviewed by privacy."""

    clinician_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass_accesses")
    reason = models.TextField()
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # "" for a grant not reviewed yet, and for those reviewed before outcomes were recorded.
    review_outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices, blank=True)
    # Every review's note, oldest first, each dated: a follow-up adds to the record, never replaces it.
    review_note = models.TextField(blank=True)

    class Meta:
        # Moved here from the records app; the table keeps its name.
        db_table = "records_breakglassaccess"
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["clinician_user", "patient", "expires_at"], name="records_bre_clinici_76b11d_idx")
        ]
