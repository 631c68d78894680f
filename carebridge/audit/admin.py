from django.contrib import admin

from carebridge.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is evidence: it can be read and searched here, never changed or deleted."""

    list_display = ("at", "actor_label", "actor_role", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "channel", "actor_role")
    search_fields = ("actor_label", "object_id", "reason")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
