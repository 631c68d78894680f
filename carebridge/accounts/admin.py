from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from carebridge.accounts.models import User


@admin.register(User)
class CarebridgeUserAdmin(UserAdmin):
    list_display = ("username", "kind", "first_name", "last_name", "is_active", "last_login")
    list_filter = ("kind", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Carebridge", {"fields": ("kind",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Carebridge", {"fields": ("kind",)}))
