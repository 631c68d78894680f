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


class AuditEvent(models.Model):
    """One row per read, change or refusal. Written in the same transaction as what it records.

    Who is kept twice: as a reference (for searching) and as text (so the row still says who it was
    after an account is renamed or removed).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=40)
    channel = models.CharField(max_length=20)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    # Kept as a plain reference, not a foreign key: the trail must outlive any record it mentions.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"])]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_BY_VALUE.get(self.actor_role, self.actor_role)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type} {self.object_id}"
