from django.urls import path

from carebridge.organisations import views

app_name = "organisations"
urlpatterns = [
    path("", views.staff_list, name="staff"),
    path("facility/", views.facility_details, name="facility"),
    path("<uuid:staff_id>/login/", views.login_create, name="login_create"),
    path("<uuid:staff_id>/job/", views.job_change, name="job_change"),
    path("<uuid:staff_id>/login/<slug:action>/", views.login_action, name="login_action"),
]
