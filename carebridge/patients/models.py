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
