from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "carebridge.privacy"
    label = "privacy"
