from django.apps import AppConfig


class PrescribingConfig(AppConfig):
    name = "carebridge.prescribing"
    label = "prescribing"
