from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "carebridge.clinical"
    label = "clinical"
    verbose_name = "Consultations, problems and allergies"
