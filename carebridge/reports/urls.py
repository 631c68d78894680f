from django.urls import path

from carebridge.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.own_reports, name="own"),
    path("<uuid:facility_id>/", views.facility_reports, name="facility"),
    path("<uuid:facility_id>/<str:kind>.csv", views.report_csv, name="csv"),
]
