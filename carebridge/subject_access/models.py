"""Subject access requests (UK GDPR article 15): a patient's request for a copy of their whole record.

Asked for by the patient in the portal, or recorded by records staff when the patient asked in writing;
the copy is produced (a PDF kept on the request, so what is released is exactly what staff looked at),
then released, after which the patient downloads it. At most one request per patient is open at a time.
"""

import datetime as dt

from django.conf import settings
from django.db import models

from carebridge.core.fields import new_public_id
from carebridge.organisations.models import Facility
from carebridge.patients.models import Patient


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    PRODUCED = "produced", "Copy produced, not yet released"
    RELEASED = "released", "Released to the patient"


OPEN_STATUSES = (RequestStatus.REQUESTED, RequestStatus.PRODUCED)


def one_month_after(day: dt.date) -> dt.date:
    """The UK GDPR deadline: the same day of the next month, or that month's last day if it has no such
    day (31 January is answered by 28 or 29 February), as the ICO counts it."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has at least 28 days")


class SubjectAccessRequest(models.Model):
    public_id = models.UUIDField(default=new_public_id, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="subject_access_requests")
    # The surgery that handles it: the patient's registered surgery when they asked.
    surgery = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Recorded by staff for a patient who asked in writing (or in person), not asked for in the portal.
    on_behalf = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)  # how the request came in, in staff's words
    due_by = models.DateField()
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    produced_at = models.DateTimeField(null=True, blank=True)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    document = models.BinaryField(null=True, blank=True)  # the PDF as produced
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_by", "requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values), name="subject_access_status_known"
            ),
            # One open request per patient: a second ask while one is being worked on is the same request.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="subject_access_one_open_per_patient",
            ),
        ]
        indexes = [models.Index(fields=["surgery", "status"], name="subject_access_queue")]

    def __str__(self) -> str:
        return f"Subject access request for {self.patient} ({self.requested_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reference(self) -> str:
        """A short reference people can quote on the phone and that the PDF's footer carries."""
        return f"SAR-{str(self.public_id)[:8].upper()}"
