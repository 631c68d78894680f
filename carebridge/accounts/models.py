from django.contrib.auth.models import AbstractUser
from django.db import models


class AccountKind(models.TextChoices):
    """What a login stands for. Patients, clinicians and staff are linked from their own records."""

    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    STAFF = "staff", "Staff member"
    SYSTEM_ADMIN = "system_admin", "System administrator"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


class User(AbstractUser):
    kind = models.CharField(max_length=20, choices=AccountKind.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=AccountKind.values), name="user_kind_known"),
        ]

    def __str__(self) -> str:
        return self.username
