from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Carebridge administration"
admin.site.site_title = "Carebridge administration"

urlpatterns = [
    path("", include("carebridge.core.urls")),
    path("", include("carebridge.accounts.urls")),
    path("patients/register/", include("carebridge.patients.urls")),
    path("patients/", include("carebridge.records.urls")),
    path("privacy/", include("carebridge.privacy.urls")),
    path("appointments/", include("carebridge.appointments.urls")),
    path("clinical/", include("carebridge.clinical.urls")),
    path("prescribing/", include("carebridge.prescribing.urls")),
    path("referrals/", include("carebridge.referrals.urls")),
    path("subject-access/", include("carebridge.subject_access.urls")),
    path("staff/", include("carebridge.organisations.urls")),
    path("reports/", include("carebridge.reports.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("carebridge.api.urls")),
    path("fhir/", include("carebridge.fhir.urls")),
]
