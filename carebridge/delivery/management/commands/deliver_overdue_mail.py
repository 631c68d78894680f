from django.core.management.base import BaseCommand

from carebridge.delivery.remote import fhir_requeue_overdue
from carebridge.delivery.services import email_requeue_overdue
from carebridge.delivery.workers import work_recover_lost


class Command(BaseCommand):
    help = (
        "Close the task rows of task workers that stopped beating and queue their messages again, then queue "
        "again every email and FHIR message whose delivery is long overdue. Task workers do the first by "
        "themselves every few seconds; run this every minute or few beside them as the backstop."
    )

    def handle(self, *args, **options) -> None:
        recovery = work_recover_lost(unknown_workers=True)
        overdue = email_requeue_overdue() + fhir_requeue_overdue()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Lost task workers: {len(recovery.workers)}; task rows closed: {recovery.tasks_closed}; "
                f"queued again: {recovery.emails_queued + overdue} message(s)."
            )
