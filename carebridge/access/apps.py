from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "carebridge.access"
    label = "access"
    verbose_name = "Access to patient records"
