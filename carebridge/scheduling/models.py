from django.db import models

from carebridge.core.fields import SourceRecord
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient


class AppointmentStatus(models.TextChoices):
    """FHIR R4 Appointment.status values Carebridge uses. The coursework's Scheduled is `booked`."""

    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    FULFILLED = "fulfilled", "Attended"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "Did not attend"


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
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=AppointmentStatus.values),
                                   name="appointment_status_known"),
            models.CheckConstraint(condition=models.Q(duration_minutes__gt=0), name="appointment_duration_positive"),
        ]
        indexes = [
            models.Index(fields=["clinician", "starts_at"]),
            models.Index(fields=["facility", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} on {self.starts_at:%Y-%m-%d %H:%M}"
