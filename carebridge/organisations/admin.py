from django.contrib import admin

from carebridge.accounts.admin import ThroughServicesAdmin
from carebridge.audit.models import AuditObject
from carebridge.organisations import services
from carebridge.organisations.models import Clinician, Facility, StaffMember

# Saved through organisations.services, never deleted (accounts.admin.ThroughServicesAdmin): a
# workplace, a title, a job or a linked login decides whose records a person sees, so each change is
# audited with its values before and after. Someone who leaves has their login deactivated.


@admin.register(Facility)
class FacilityAdmin(ThroughServicesAdmin):
    list_display = ("name", "source_id", "facility_type", "postcode")
    list_filter = ("facility_type",)
    search_fields = ("name", "source_id", "ods_code")
    create_service = staticmethod(services.facility_create)
    update_service = staticmethod(services.facility_update)
    target = "facility"
    audit_object = AuditObject.FACILITY


@admin.register(Clinician)
class ClinicianAdmin(ThroughServicesAdmin):
    list_display = ("display_name", "source_id", "title", "speciality", "workplace", "is_prescriber")
    list_filter = ("title", "workplace")
    search_fields = ("last_name", "first_name", "registration_number", "source_id")
    raw_id_fields = ("user",)
    create_service = staticmethod(services.clinician_create)
    update_service = staticmethod(services.clinician_update)
    target = "clinician"
    audit_object = AuditObject.CLINICIAN


@admin.register(StaffMember)
class StaffMemberAdmin(ThroughServicesAdmin):
    list_display = ("display_name", "source_id", "job_title", "facility", "access_level")
    list_filter = ("access_level", "facility")
    search_fields = ("last_name", "first_name", "source_id")
    raw_id_fields = ("user",)
    create_service = staticmethod(services.staff_member_create)
    update_service = staticmethod(services.staff_member_update)
    target = "staff_member"
    audit_object = AuditObject.STAFF_MEMBER
