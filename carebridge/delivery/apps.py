from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "carebridge.delivery"
    label = "delivery"
    verbose_name = "Outgoing messages"
