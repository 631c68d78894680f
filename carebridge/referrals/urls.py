from django.urls import path

from carebridge.referrals import hospital_views, views

app_name = "referrals"
urlpatterns = [
    # Referrers (GP surgeries)
    path("patients/<uuid:patient_id>/new/", views.refer, name="new"),
    path("<uuid:referral_id>/information/", views.add_information, name="add_information"),
    # Patients, for themselves
    path("mine/", views.mine, name="mine"),
    # One referral, for anyone who may see it (cut to what they may see), and its documents
    path("<uuid:referral_id>/", views.referral, name="referral"),
    path("documents/<uuid:document_id>/", views.document, name="document"),
    # The receiving hospital
    path("worklist/", hospital_views.worklist, name="worklist"),
    path("<uuid:referral_id>/triage/", hospital_views.triage, name="triage"),
    path("<uuid:referral_id>/book/", hospital_views.book, name="book"),
    path("<uuid:referral_id>/pack/", hospital_views.pack, name="pack"),
    path("<uuid:referral_id>/outcome/", hospital_views.outcome, name="outcome"),
    # The system administrator: other organisations' systems, and how delivery is going
    path("systems/", views.systems, name="systems"),
    path("systems/<uuid:facility_id>/", views.system_endpoint, name="system_endpoint"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<str:kind>/<uuid:message_id>/", views.delivery_action, name="delivery_action"),
]
