from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "carebridge.api"
    label = "api"
    verbose_name = "REST API"
