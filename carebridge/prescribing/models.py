from django.db import models

from carebridge.clinical.models import Condition, Consultation
from carebridge.core.fields import SourceRecord, new_public_id
from carebridge.organisations.models import Clinician
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment


class PrescriptionStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    COLLECTED = "collected", "Collected"
    DISPENSED = "dispensed", "Dispensed"
    CANCELLED = "cancelled", "Cancelled"


class Course(models.TextChoices):
    """EPS course of therapy (FHIR MedicationRequest.courseOfTherapyType)."""

    ACUTE = "acute", "Acute"
    REPEAT = "continuous", "Repeat"
    REPEAT_DISPENSING = "continuous-repeat-dispensing", "Repeat dispensing"


class Prescription(SourceRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="prescriptions")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions"
    )
    prescribed_on = models.DateField()
    medication_name = models.CharField(max_length=200)
    # Quantities carry units: "20mg" is kept as 20 and "mg", "28 tablets" as 28 and "tablets".
    dose_value = models.DecimalField(max_digits=12, decimal_places=4)
    dose_unit = models.CharField(max_length=30)
    frequency = models.CharField(max_length=100)
    duration_days = models.PositiveIntegerField()
    quantity_value = models.DecimalField(max_digits=12, decimal_places=4)
    quantity_unit = models.CharField(max_length=50)
    instructions = models.TextField(blank=True)
    pharmacy_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=PrescriptionStatus.choices, default=PrescriptionStatus.ISSUED)
    issue_date = models.DateField(null=True, blank=True)
    collection_date = models.DateField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    # What it treats. Every prescription made in Carebridge names one; imported ones may not.
    condition = models.ForeignKey(Condition, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions"
    )
    # The formulary's key for the medicine; blank when prescribed as free text (no checks ran) or imported.
    medicine_key = models.CharField(max_length=60, blank=True)
    course = models.CharField(max_length=30, choices=Course.choices, default=Course.ACUTE)
    # A repeat: how many issues in all, which issue this is, and when the prescriber reviews it.
    issues_allowed = models.PositiveSmallIntegerField(default=1)
    issue_number = models.PositiveSmallIntegerField(default=1)
    review_date = models.DateField(null=True, blank=True)
    # The prescription this one re-issues (a repeat), if any.
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-prescribed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PrescriptionStatus.values), name="prescription_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancellation_reason=""),
                name="prescription_cancel_has_reason",
            ),
            models.CheckConstraint(condition=models.Q(course__in=Course.values), name="prescription_course_known"),
            models.CheckConstraint(
                condition=models.Q(issue_number__lte=models.F("issues_allowed")),
                name="prescription_issue_within_allowed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medication_name} {self.dose_display}"

    @property
    def dose_display(self) -> str:
        return f"{format_quantity(self.dose_value)}{self.dose_unit}"

    @property
    def quantity_display(self) -> str:
        return f"{format_quantity(self.quantity_value)} {self.quantity_unit}"


def format_quantity(value) -> str:
    """20.0000 -> '20', 2.5000 -> '2.5': the number as a person writes it."""
    text = format(value.normalize(), "f")
    return text


class SafetyOverride(models.Model):
    """A prescriber went ahead despite a safety warning, saying why. Shown on the prescription; a FHIR
    DetectedIssue with its mitigation."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="overrides")
    kind = models.CharField(max_length=30)  # prescribing.safety.WarningKind
    message = models.TextField()  # the warning as it was shown
    reason = models.TextField()  # the prescriber's reason for going ahead
    overridden_by = models.ForeignKey(Clinician, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField()

    class Meta:
        ordering = ["overridden_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class RepeatRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the surgery"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class RepeatRequest(models.Model):
    """A patient asks for the next issue of a repeat; it waits in their surgery's queue for a prescriber."""

    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="repeat_requests")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="repeat_requests")
    # The surgery whose queue it waits in: the patient's registered surgery when they asked.
    surgery = models.ForeignKey("organisations.Facility", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=RepeatRequestStatus.choices, default=RepeatRequestStatus.PENDING)
    decided_by = models.ForeignKey(Clinician, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.TextField(blank=True)
    issued = models.ForeignKey(Prescription, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RepeatRequestStatus.values), name="repeat_request_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(refusal_reason=""),
                name="repeat_request_refusal_has_reason",
            ),
            # One open request per prescription: asking twice does not queue it twice.
            models.UniqueConstraint(
                fields=["prescription"], condition=models.Q(status="pending"), name="repeat_request_one_pending"
            ),
        ]
        indexes = [models.Index(fields=["surgery", "status"])]
