"""The admin site: the system administrator's tools. Nothing here changes who may see what unaudited.

Logins, facilities, clinicians and staff members are saved through their services (which check,
write the audit row with the values before and after, and refuse what breaks a rule), and are never
deleted: a login is deactivated instead, so the audit trail can always name who did what. The
fields that follow from others (admin-site entry follows the kind of login; Django's permissions and
groups are not used by Carebridge) are shown, not edited.
"""

from contextvars import ContextVar
from typing import Any

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect

from carebridge.accounts.models import ApiToken, User
from carebridge.accounts.services import (
    api_token_revoke,
    sign_in_lockout_clear,
    user_create,
    user_deactivate,
    user_password_set,
    user_reactivate,
    user_update,
)
from carebridge.audit.models import AuditObject
from carebridge.audit.services import audit_denial
from carebridge.core.actor import Actor
from carebridge.core.errors import Refused


class RefusalsShownAdmin:
    """A service's refusal on an admin form: shown as a message, audited, never a 500."""

    audit_object: AuditObject

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except Refused as refusal:
            # The admin's own transaction has rolled back, and with it the service's audit row of the
            # refusal: written again here, outside it.
            audit_denial(
                actor=Actor.from_request(request),
                object_type=self.audit_object,
                object_id=object_id or "",
                detail={"operation": "admin form", "refusal": refusal.code, "message": refusal.message},
            )
            self.message_user(request, refusal.message, messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())


class ThroughServicesAdmin(RefusalsShownAdmin, admin.ModelAdmin):
    """A model admin whose add and change forms save through services and which never deletes.

    Subclasses name the services; each is called with the form's cleaned values as keywords
    (update: only the fields the administrator changed), so the services' audit rows say what changed.
    """

    create_service: Any = None
    update_service: Any = None
    target = ""  # the update service's keyword for the record changed

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            original = type(obj)._default_manager.get(pk=obj.pk)
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            self.update_service(actor=actor, **{self.target: original}, **changes)
        else:
            saved = self.create_service(actor=actor, **form.cleaned_data)
            _became(obj, saved)

    def save_related(self, request, form, formsets, change):
        # No inlines or many-to-many fields are edited here; the services saved everything there is.
        pass


def _became(obj, saved) -> None:
    """Make the admin's unsaved instance stand for the row the service created, for its redirect and log."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


# The admin's password view builds its form itself, so the actor reaches the form's save() through
# this context variable, set for the length of that one request.
_password_actor: ContextVar[Actor | None] = ContextVar("password_actor", default=None)


class PasswordThroughServiceForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        actor = _password_actor.get()
        if actor is None:
            raise RuntimeError("The admin password form is saved only from CarebridgeUserAdmin.user_change_password.")
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password", True) else None
        self.user = user_password_set(actor=actor, user=self.user, password=password)
        return self.user


@admin.register(User)
class CarebridgeUserAdmin(RefusalsShownAdmin, UserAdmin):
    audit_object = AuditObject.USER
    list_display = ("username", "kind", "first_name", "last_name", "is_active", "last_login")
    list_filter = ("kind", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        (
            "Carebridge",
            {
                "fields": ("kind", "is_active"),
                "description": "Deactivate a login rather than delete it: it stops signing in and its "
                "API tokens are revoked, and the audit trail keeps its name.",
            },
        ),
        ("Follows from the kind of login", {"fields": ("is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Carebridge", {"fields": ("kind",)}))
    change_password_form = PasswordThroughServiceForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if not change:
            data = form.cleaned_data
            password = data.get("password1") if data.get("set_usable_password", True) else None
            saved = user_create(actor=actor, username=data["username"], kind=data["kind"], password=password or None)
            _became(obj, saved)
            return
        original = User.objects.get(pk=obj.pk)
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in ("username", "first_name", "last_name", "email", "kind")
        }
        if changes:
            user_update(actor=actor, user=original, **changes)
        if "is_active" in form.changed_data:
            if form.cleaned_data["is_active"]:
                user_reactivate(actor=actor, user=original)
            else:
                user_deactivate(actor=actor, user=original)

    def save_related(self, request, form, formsets, change):
        pass

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(Actor.from_request(request))
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


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


# Carebridge gives no power through Django's groups and permissions (the kind of login and the linked
# record decide everything, core.roles), so groups are not offered: a change there would be unaudited.
admin.site.unregister(Group)


@admin.register(AccessAttempt)
class SignInLockoutAdmin(admin.ModelAdmin):
    """Wrong passwords by username and client address (django-axes). Read here; a lockout is lifted
    only through sign_in_lockout_clear, audited. django-axes' own admin (which deletes unaudited) is off."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time")
    readonly_fields = fields
    date_hierarchy = "attempt_time"
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Lift the selected lockouts")
    def lift(self, request, queryset):
        cleared = sign_in_lockout_clear(actor=Actor.from_request(request), attempts=list(queryset))
        self.message_user(request, f"Lifted {cleared} lockout(s).")
