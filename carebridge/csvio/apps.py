from django.apps import AppConfig


class CsvioConfig(AppConfig):
    name = "carebridge.csvio"
    label = "csvio"
