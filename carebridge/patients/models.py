import uuid

from django.conf import settings
from django.db import models

from carebridge.core import nhs_number
from carebridge.core.fields import SourceRecord
from carebridge.organisations.models import Facility


class Gender(models.TextChoices):
    """NHS administrative gender (the FHIR AdministrativeGender codes)."""

    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class Patient(SourceRecord):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    # Ten digits, stored without spaces. Imported records may carry a number that fails the check
    # (real records arrive like that); `nhs_number_verified` says whether it passed.
    # NULL, not "", for no number, so the unique constraint below lets any number of patients lack one.
    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True)  # noqa: DJ001
    nhs_number_verified = models.BooleanField(default=False)
    gender = models.CharField(max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    phone_number = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    registration_date = models.DateField()
    registered_surgery = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="registered_patients")
    # The community pharmacy the patient has nominated for their prescriptions (name and address as the
    # patient gives it); prescriptions go there unless the prescriber names another.
    nominated_pharmacy = models.CharField(max_length=200, blank=True)
    # The patient left `registered_surgery` on this date (records_management.patient_deregister): the
    # registration no longer opens the record to that surgery. The record itself is kept, as NHS records
    # retention requires; a later re-registration clears these.
    deregistered_on = models.DateField(null=True, blank=True)
    deregistration_reason = models.CharField(max_length=300, blank=True)
    # A duplicate record retired by a merge points at the record that was kept. It stays in the database
    # (the audit trail and the merge's undo need it) but is hidden from every search, list and access check.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_records"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"], condition=models.Q(nhs_number__isnull=False), name="patient_nhs_number_unique"
            ),
            models.CheckConstraint(condition=models.Q(gender__in=Gender.values), name="patient_gender_known"),
        ]
        indexes = [
            # Finding a patient by name and date of birth, the receptionist's everyday search.
            models.Index(fields=["date_of_birth", "last_name"], name="patient_dob_surname"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number.formatted(self.nhs_number)


class PatientMerge(models.Model):
    """Two records of one person made one: `retired` was folded into `survivor`.

    `moved` says exactly which rows followed, as {"app_label.model.field": [primary keys]}, so an
    unmerge moves those rows, and only those, back: rows made on the survivor after the merge stay.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_kept")
    retired = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_retired")
    merged_at = models.DateTimeField()
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    moved = models.JSONField(default=dict)
    # The retired record's portal login moved to the survivor (and goes back on an unmerge).
    moved_portal_login = models.BooleanField(default=False)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unmerge_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(survivor=models.F("retired")), name="patient_merge_two_records"),
            # A record is retired by at most one merge in force at a time.
            models.UniqueConstraint(
                fields=["retired"], condition=models.Q(unmerged_at__isnull=True), name="patient_merge_retired_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Merge of {self.retired_id} into {self.survivor_id}"

    @property
    def rows_moved(self) -> int:
        return sum(len(keys) for keys in self.moved.values())
