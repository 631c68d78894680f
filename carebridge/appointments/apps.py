from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    """The appointment pages: an edge over scheduling, which checks patient access through records."""

    name = "carebridge.appointments"
    label = "appointments"
