import json

from django.contrib import admin

from carebridge.audit.models import AuditEvent, AuditObject

# What the system administrator's view of the trail holds: the rows about the things they run (logins,
# sign-ins, tokens, facilities, clinicians, staff, schedules and slots), and nothing that touches a
# patient. They see no patient records (docs/architecture.md), and a row about a patient carries the
# patient in its `patient_id`, in its object id (the public id of a record, appointment or referral) or
# in its detail (search criteria such as an NHS number or a name, even when nobody was found). So the
# rows are chosen by what they are about, a list of kinds known to carry no patient, rather than by
# scrubbing keys: a kind added later stays out of this view until someone decides it belongs here. The
# whole trail, patients included, is the privacy officer's (/privacy/audit/).
ADMINISTRATIVE_OBJECTS = frozenset(
    {
        AuditObject.USER,
        AuditObject.SIGN_IN,
        AuditObject.API_TOKEN,
        AuditObject.FACILITY,
        AuditObject.CLINICIAN,
        AuditObject.STAFF_MEMBER,
        AuditObject.OPENING_HOURS,
        AuditObject.SESSION,
        AuditObject.SCHEDULES,
        AuditObject.SCHEDULE_EXCEPTION,
        AuditObject.SLOT,
        AuditObject.SLOTS,
    }
)

# Of those, the kinds whose detail and reason are shown too: what changed about a person, a login or a
# place. The scheduling rows' detail can name appointments (the ones a change left needing rebooking),
# so theirs is not.
DETAIL_SHOWN = frozenset(
    {
        AuditObject.USER,
        AuditObject.SIGN_IN,
        AuditObject.API_TOKEN,
        AuditObject.FACILITY,
        AuditObject.CLINICIAN,
        AuditObject.STAFF_MEMBER,
    }
)


class AdministrativeObjectFilter(admin.SimpleListFilter):
    title = "what it is about"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        return [(kind.value, kind.label) for kind in AuditObject if kind in ADMINISTRATIVE_OBJECTS]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is evidence: it can be read and searched here, never changed or deleted; and only the
    part of it that names no patient (ADMINISTRATIVE_OBJECTS, and never a row with a patient on it)."""

    list_display = ("at", "actor_label", "actor_role", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action", "channel", "actor_role", AdministrativeObjectFilter)
    search_fields = ("actor_label", "object_id", "reason")
    date_hierarchy = "at"
    fields = (
        "at",
        "actor_label",
        "actor_role",
        "channel",
        "ip_address",
        "action",
        "object_type",
        "object_id",
        "shown_reason",
        "shown_detail",
    )
    readonly_fields = fields

    @admin.display(description="reason")
    def shown_reason(self, event: AuditEvent) -> str:
        return event.reason if event.object_type in DETAIL_SHOWN else "(not shown here)"

    @admin.display(description="detail")
    def shown_detail(self, event: AuditEvent) -> str:
        if event.object_type not in DETAIL_SHOWN:
            return "(not shown here: it can name appointments)"
        return json.dumps(event.detail, indent=1, ensure_ascii=False)

    def get_queryset(self, request):
        # A row outside this set answers 404 here, as if it were not there: the same answer as a row
        # that does not exist.
        return super().get_queryset(request).filter(object_type__in=ADMINISTRATIVE_OBJECTS, patient_id__isnull=True)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
