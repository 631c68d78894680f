from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "carebridge.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 API"

    def ready(self) -> None:
        # The delivery outbox sends referrals and their progress to other Carebridges as FHIR; it knows
        # nothing of referrals, so this app tells it how each payload is built.
        from carebridge.fhir.referrals import register_delivery_payloads

        register_delivery_payloads()
