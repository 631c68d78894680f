from django.contrib import admin

from carebridge.delivery.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """How delivery is going, for whoever runs the system: read only.

    The system administrator sees no patient records (docs/architecture.md), so neither the message
    nor its full address is shown: the key says what it is about, the masked address is enough to
    spot a mistyped one, and the status, attempts and last error say how delivery went.
    """

    list_display = (
        "idempotency_key",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "next_attempt_at",
        "masked_recipient",
    )
    list_filter = ("status",)
    search_fields = ("idempotency_key",)
    date_hierarchy = "created_at"
    fields = (
        "idempotency_key",
        "masked_recipient",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "next_attempt_at",
        "public_id",
        "patient_id",
    )
    readonly_fields = fields

    @admin.display(description="recipient")
    def masked_recipient(self, email: OutboundEmail) -> str:
        return mask_address(email.recipient)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def mask_address(address: str) -> str:
    """`alice.archer@example.com` as `a***@example.com`."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
