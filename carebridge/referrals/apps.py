from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "carebridge.referrals"
    label = "referrals"
