from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from carebridge.core.fields import EmploymentStatus, SourceRecord
from carebridge.core.roles import Role, clinician_role, staff_role


class FacilityType(models.TextChoices):
    GP_SURGERY = "gp_surgery", "GP Surgery"
    HOSPITAL = "hospital", "Hospital"


class Facility(SourceRecord):
    name = models.CharField(max_length=200)
    facility_type = models.CharField(max_length=20, choices=FacilityType.choices)
    ods_code = models.CharField("ODS code", max_length=10, blank=True)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=10)
    phone_number = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    # The coursework keeps opening hours as text ("Mon-Fri: 8:00-18:00, Sat: 8:00-12:00"); kept as given.
    opening_hours = models.CharField(max_length=300, blank=True)
    manager_name = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    specialities_offered = models.JSONField(default=list, blank=True)
    # Where referrals to this facility are emailed, when not its main address.
    referral_email = models.EmailField(blank=True)

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(facility_type__in=FacilityType.values), name="facility_type_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_gp_surgery(self) -> bool:
        return self.facility_type == FacilityType.GP_SURGERY

    @property
    def is_hospital(self) -> bool:
        return self.facility_type == FacilityType.HOSPITAL

    @property
    def referral_address(self) -> str:
        """Where referrals (and, for a surgery, clinic letters) to this facility are emailed."""
        return self.referral_email or self.email

    @property
    def code(self) -> str:
        """How other systems name it: its ODS code, else its coursework ID."""
        return self.ods_code or self.source_id or str(self.public_id)


class ClinicianTitle(models.TextChoices):
    GP = "gp", "GP"
    CONSULTANT = "consultant", "Consultant"
    SENIOR_NURSE = "senior_nurse", "Senior Nurse"
    PRACTICE_NURSE = "practice_nurse", "Practice Nurse"
    STAFF_NURSE = "staff_nurse", "Staff Nurse"


NURSE_TITLES = frozenset({ClinicianTitle.SENIOR_NURSE, ClinicianTitle.PRACTICE_NURSE, ClinicianTitle.STAFF_NURSE})

professional_registration_validator = RegexValidator(
    r"^(\d{7}|N\d{6})$", "A GMC number has 7 digits; a nurse's registration is N followed by 6 digits."
)


class Clinician(SourceRecord):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="clinician"
    )
    # The coursework's first_name carries the honorific ("Dr. David"): kept apart here, joined on export.
    honorific = models.CharField(max_length=30, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    title = models.CharField(max_length=20, choices=ClinicianTitle.choices)
    speciality = models.CharField(max_length=100)
    registration_number = models.CharField(
        "GMC or NMC number", max_length=7, validators=[professional_registration_validator]
    )
    phone_number = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    workplace = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="clinicians")
    employment_status = models.CharField(max_length=20, choices=EmploymentStatus.choices)
    start_date = models.DateField()
    # Nurses prescribe only when registered as independent or supplementary prescribers.
    is_prescriber = models.BooleanField(default=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(title__in=ClinicianTitle.values), name="clinician_title_known"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return clinician_display_name(self.honorific, self.first_name, self.last_name)

    @property
    def is_nurse(self) -> bool:
        return self.title in NURSE_TITLES

    @property
    def role(self) -> Role:
        return clinician_role(self.title.replace("_", " "), self.workplace.is_hospital)

    @property
    def may_prescribe(self) -> bool:
        return not self.is_nurse or self.is_prescriber


class AccessLevel(models.TextChoices):
    BASIC = "basic", "Basic"
    STANDARD = "standard", "Standard"
    MANAGER = "manager", "Manager"


class StaffMember(SourceRecord):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff_member"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    job_title = models.CharField(max_length=100)
    department = models.CharField(max_length=100, blank=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="staff")
    phone_number = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    employment_status = models.CharField(max_length=20, choices=EmploymentStatus.choices)
    start_date = models.DateField()
    # The coursework names the line manager rather than pointing at a record; kept as written.
    line_manager = models.CharField(max_length=200, blank=True)
    access_level = models.CharField(max_length=20, choices=AccessLevel.choices)

    class Meta:
        verbose_name = "staff member"
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(access_level__in=AccessLevel.values), name="staff_access_level_known"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def role(self) -> Role:
        return staff_role(self.job_title, self.access_level)


class SystemAccount(models.Model):
    """A login for another organisation's system, standing for one of our facilities (its organisation).

    Made by `carebridge api-token --system FACILITY`. It may deliver referrals from that facility and
    status updates on referrals sent to it, and read nothing (access.rules: it has no relationships).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="system_account")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="system_accounts")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "connected system's login"

    def __str__(self) -> str:
        return f"{self.facility.name}'s system"


def clinician_display_name(honorific: str, first_name: str, last_name: str) -> str:
    """How a clinician is named to people ("Dr. Grace Patel"), from the columns, for rows read as values."""
    return " ".join(part for part in (honorific, first_name, last_name) if part)
