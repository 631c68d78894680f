from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "carebridge.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 API"
