from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "carebridge.patients"
    label = "patients"
