import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from carebridge.delivery.workers import Heartbeat


class Command(DatabaseWorkerCommand):
    help = (
        "Run Carebridge's task worker until stopped (SIGTERM or Ctrl-C let the task in hand finish): "
        "django-tasks-db's db_worker, with a heartbeat, so that the work of a worker that dies is taken "
        "over by another within seconds. Takes db_worker's options."
    )

    def handle(self, *args, **options) -> None:
        # With --reload the tasks run in a child process; only that one is the worker that beats.
        runs_tasks = not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if not runs_tasks:
            return super().handle(*args, **options)
        heartbeat = Heartbeat(options["worker_id"])
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
