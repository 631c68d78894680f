from django.urls import path

from carebridge.prescribing import views

app_name = "prescribing"
urlpatterns = [
    # Prescribers
    path("patients/<uuid:patient_id>/new/", views.prescribe, name="new"),
    path("repeat-requests/", views.queue, name="queue"),
    path("repeat-requests/<uuid:request_id>/approve/", views.repeat_approve, name="repeat_approve"),
    path("repeat-requests/<uuid:request_id>/refuse/", views.repeat_refuse, name="repeat_refuse"),
    # Patients, for themselves
    path("mine/", views.mine, name="mine"),
    path("mine/pharmacy/", views.pharmacy, name="pharmacy"),
    path("mine/<uuid:prescription_id>/repeat/", views.repeat_request, name="repeat_request"),
    # One prescription
    path("<uuid:prescription_id>/", views.prescription, name="prescription"),
    path("<uuid:prescription_id>/pdf/", views.prescription_print, name="pdf"),
    path("<uuid:prescription_id>/cancel/", views.prescription_cancel, name="cancel"),
    path("<uuid:prescription_id>/supply/", views.prescription_supply, name="supply"),
    path("<uuid:prescription_id>/reissue/", views.prescription_reissue, name="reissue"),
]
