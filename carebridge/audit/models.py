from django.conf import settings
from django.db import models

from carebridge.core.roles import ROLE_LABELS

ROLE_LABELS_BY_VALUE = {role.value: label for role, label in ROLE_LABELS.items()}


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    DENY = "deny", "Refused"
    BREAK_GLASS = "break_glass", "Emergency access"
    IMPORT = "import", "Imported"
    EXPORT = "export", "Exported"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_OUT = "sign_out", "Signed out"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"


class AuditObject(models.TextChoices):
    """What an audit row is about: one vocabulary for every service and edge, labelled for people."""

    PATIENT = "patient", "Patient record"
    PATIENT_REGISTRATION = "patient_registration", "Patient registration"
    PATIENT_SEARCH = "patient_search", "Patient search"
    PORTAL_INVITATION = "portal_invitation", "Portal invitation"
    BREAK_GLASS = "break_glass", "Emergency access"
    APPOINTMENT = "appointment", "Appointment"
    APPOINTMENT_BOOKING = "appointment_booking", "Appointment booking"
    OWN_APPOINTMENTS = "own_appointments", "Own appointments"
    DAY_LIST = "day_list", "Day list"
    CLINICIAN_DAY = "clinician_day", "Clinician's day list"
    REBOOKING_LIST = "rebooking_list", "Appointments to rebook"
    SLOT = "slot", "Slot"
    SLOTS = "slots", "Slots"
    SESSION = "session", "Clinic session"
    SCHEDULES = "schedules", "Clinic schedules"
    SCHEDULE_EXCEPTION = "schedule_exception", "Schedule exception"
    OPENING_HOURS = "opening_hours", "Opening hours"
    PRESCRIPTION = "prescription", "Prescription"
    REPEAT_REQUEST = "repeat_request", "Repeat prescription request"
    CONSULTATION = "consultation", "Consultation"
    CONDITION = "condition", "Problem (condition)"
    ALLERGY = "allergy", "Allergy"
    REFERRAL = "referral", "Referral"
    REFERRAL_WORKLIST = "referral_worklist", "Referral worklist"
    SUBJECT_ACCESS_REQUEST = "subject_access_request", "Subject access request"
    CONNECTED_SYSTEM = "connected_system", "Connected system"
    DELIVERY = "delivery", "Message delivery"
    FACILITY = "facility", "Facility"
    CLINICIAN = "clinician", "Clinician"
    STAFF_MEMBER = "staff_member", "Staff member"
    USER = "user", "Login"
    SIGN_IN = "sign_in", "Sign-in"
    API_TOKEN = "api_token", "API token"
    DATASET = "dataset", "Data set"
    AUDIT_TRAIL = "audit_trail", "Audit trail"
    REPORT = "report", "Managers' report"
    PRIVACY = "privacy", "Privacy pages"


class AuditEvent(models.Model):
    """One row per read, change or refusal. Written in the same transaction as what it records.

    Who is kept twice: as a reference (for searching) and as text (so the row still says who it was
    after an account is renamed or removed).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=40)
    channel = models.CharField(max_length=20)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, choices=AuditObject.choices)
    object_id = models.CharField(max_length=64, blank=True)
    # Kept as a plain reference, not a foreign key: the trail must outlive any record it mentions.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_BY_VALUE.get(self.actor_role, self.actor_role)
