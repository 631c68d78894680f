from django.contrib import admin

from carebridge.organisations.models import Clinician, Facility, StaffMember


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("name", "source_id", "facility_type", "postcode")
    list_filter = ("facility_type",)
    search_fields = ("name", "source_id", "ods_code")


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ("display_name", "source_id", "title", "speciality", "workplace", "is_prescriber")
    list_filter = ("title", "workplace")
    search_fields = ("last_name", "first_name", "registration_number", "source_id")
    raw_id_fields = ("user",)


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("display_name", "source_id", "job_title", "facility", "access_level")
    list_filter = ("access_level", "facility")
    search_fields = ("last_name", "first_name", "source_id")
    raw_id_fields = ("user",)
