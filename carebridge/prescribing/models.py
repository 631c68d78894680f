from django.db import models

from carebridge.core.fields import SourceRecord
from carebridge.organisations.models import Clinician
from carebridge.patients.models import Patient
from carebridge.scheduling.models import Appointment


class PrescriptionStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    COLLECTED = "collected", "Collected"
    DISPENSED = "dispensed", "Dispensed"
    CANCELLED = "cancelled", "Cancelled"


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
