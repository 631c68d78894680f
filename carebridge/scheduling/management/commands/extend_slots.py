from django.core.management.base import BaseCommand

from carebridge.core.actor import Actor
from carebridge.scheduling.services import horizon_last_day, slots_extend_horizon


class Command(BaseCommand):
    help = (
        "Offer every clinician's slots up to the rolling horizon (SLOT_HORIZON_DAYS ahead). "
        "Run once a day, for example from a systemd timer or cron; `make run` runs it at start."
    )

    def handle(self, *args, **options):
        created = slots_extend_horizon(actor=Actor(user=None, channel="system"))
        self.stdout.write(f"Slots offered up to {horizon_last_day():%-d %B %Y}: {created} new.")
