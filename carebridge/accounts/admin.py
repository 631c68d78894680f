from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from carebridge.accounts.models import ApiToken, User
from carebridge.accounts.services import api_token_revoke
from carebridge.core.actor import Actor


@admin.register(User)
class CarebridgeUserAdmin(UserAdmin):
    list_display = ("username", "kind", "first_name", "last_name", "is_active", "last_login")
    list_filter = ("kind", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Carebridge", {"fields": ("kind",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Carebridge", {"fields": ("kind",)}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the command line (`carebridge api-token`), shown once, and only revoked here."""

    list_display = ("user", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "label")
    readonly_fields = ("user", "label", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable, never editable: a token's owner or hash changed in place would be a new credential.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        for api_token in queryset.select_related("user"):
            api_token_revoke(actor=actor, api_token=api_token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
