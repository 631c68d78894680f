from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "carebridge.organisations"
    label = "organisations"
