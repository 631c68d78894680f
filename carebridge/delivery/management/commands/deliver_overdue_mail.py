from django.core.management.base import BaseCommand

from carebridge.delivery.services import email_requeue_overdue


class Command(BaseCommand):
    help = (
        "Queue again every email whose delivery is long overdue (its worker was killed). "
        "Run every few minutes beside the task workers."
    )

    def handle(self, *args, **options) -> None:
        count = email_requeue_overdue()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Queued again: {count} overdue email(s).")
