from django.urls import path, re_path

from carebridge.fhir import views

app_name = "fhir"
urlpatterns = [
    path("", views.base, name="base"),
    re_path(r"^metadata/?$", views.metadata, name="metadata"),
    re_path(r"^(?P<resource_type>[A-Za-z]+)/?$", views.type_level, name="type"),
    re_path(
        r"^Patient/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/\$everything/?$", views.patient_everything, name="everything"
    ),
    re_path(
        r"^(?P<resource_type>[A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/?$", views.instance_level, name="instance"
    ),
    # Anything else (history, operations, compartments) is answered with an OperationOutcome too.
    re_path(r"^(?P<rest>.+)$", views.unsupported),
]
