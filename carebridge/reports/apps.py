from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The managers' reports: an edge that reads the care apps and counts; nothing imports it."""

    name = "carebridge.reports"
    label = "reports"
