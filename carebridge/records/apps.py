from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "carebridge.records"
    label = "records"
