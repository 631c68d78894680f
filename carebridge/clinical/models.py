"""Consultations, the problem list and allergies: the clinical record. Non-clinical staff never see these."""

from django.db import models

from carebridge.core.fields import new_public_id
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment


class ConditionStatus(models.TextChoices):
    """FHIR Condition.clinicalStatus values the problem list uses."""

    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


class Condition(models.Model):
    """One entry on a patient's problem list: coded in SNOMED CT, or free text flagged uncoded."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    code = models.CharField(max_length=20, blank=True)  # SNOMED CT concept ID; blank: uncoded free text
    display = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=ConditionStatus.choices, default=ConditionStatus.ACTIVE)
    recorded_by = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ConditionStatus.values), name="condition_status_known"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return self.display

    @property
    def coded(self) -> bool:
        return bool(self.code)


class AllergySeverity(models.TextChoices):
    """FHIR AllergyIntolerance.reaction.severity."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Allergy(models.Model):
    """An allergy or intolerance to a drug, a drug class or a substance, shown wherever a prescriber works.

    `substance` is a key of the formulary's vocabulary (a medicine, its class or a substance in it:
    "penicillins", "amoxicillin") when it was chosen from the list, so the safety checks can match it;
    otherwise the words as written, and `coded` is False and no check can rely on it.
    """

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=100)
    display = models.CharField(max_length=200)
    coded = models.BooleanField(default=True)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=20, choices=AllergySeverity.choices, default=AllergySeverity.MODERATE)
    recorded_by = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["display"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=AllergySeverity.values), name="allergy_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return self.display


class Consultation(models.Model):
    """A clinician's record of one encounter: what the patient describes, what they find, what they
    conclude, the condition treated and the plan. A FHIR Encounter."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations")
    clinician = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="consultations")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    # The appointment it came from; None for an unplanned consultation.
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    started_at = models.DateTimeField()
    symptoms = models.TextField()  # the patient's own account
    findings = models.TextField(blank=True)  # examination
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    condition = models.ForeignKey(Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["patient", "started_at"])]

    def __str__(self) -> str:
        return f"Consultation on {self.started_at:%Y-%m-%d}"
