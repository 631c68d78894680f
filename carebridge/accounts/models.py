from django.contrib.auth.models import AbstractUser
from django.db import models

from carebridge.core.roles import AccountKind


class User(AbstractUser):
    kind = models.CharField(max_length=20, choices=AccountKind.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=AccountKind.values), name="user_kind_known"),
        ]

    def __str__(self) -> str:
        return self.username


class ApiToken(models.Model):
    """A bearer token for the REST and FHIR APIs. It acts as its user, with their role and relationships.

    Only the SHA-256 of the token is kept: a copy of this table (a backup, a read replica) cannot be
    used to call the API. SHA-256 rather than a slow password hash because the token is 256 random
    bits, not something a person chose, and it is checked on every request.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=100, blank=True)
    # Hex SHA-256 of the whole token (prefix included). Unique, so looked up through its index.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    # Updated at most once a minute, so a busy client does not turn every read into a write.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label or 'API token'} for {self.user_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AccessChange(models.Model):
    """A change that can hand one person another's access, waiting for the privacy officer's review.

    A password set by someone else, a login linked to (or taken from) a clinician or staff member, a
    change of role, job, facility or workplace, a login's kind, email or reopening, an API token
    issued for someone: each is audited like any change, and also listed here for a second pair of
    eyes, and told to the person whose account it is (accounts.services.access_change_flag).
    """

    at = models.DateTimeField(db_index=True)
    # The login whose access changed; null when a record without a login changed (nobody to tell).
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.CharField(max_length=200)  # whose account it is, in words
    changed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changed_by_label = models.CharField(max_length=200)
    operation = models.CharField(max_length=60)
    summary = models.TextField()
    # The audit row of the change itself. The trail is never deleted, so this always resolves.
    audit_event = models.ForeignKey("audit.AuditEvent", on_delete=models.PROTECT, related_name="+")
    told = models.JSONField(default=list, blank=True)  # the addresses the person was emailed at
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["reviewed_at", "at"])]

    def __str__(self) -> str:
        return f"{self.operation} for {self.person} at {self.at:%Y-%m-%d %H:%M}"
