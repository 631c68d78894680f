from django.urls import path

from carebridge.clinical import views

app_name = "clinical"
urlpatterns = [
    path("patients/<uuid:patient_id>/consultations/new/", views.consultation_new, name="consultation_new"),
    path("patients/<uuid:patient_id>/allergies/new/", views.allergy_new, name="allergy_new"),
    path("consultations/<uuid:consultation_id>/", views.consultation, name="consultation"),
    path("problems/<uuid:condition_id>/resolve/", views.condition_resolve, name="condition_resolve"),
]
