"""`carebridge api-token USERNAME [--label TEXT]`: issue a bearer token for the REST and FHIR APIs.

The token is printed once, alone on standard output (so `TOKEN=$(carebridge api-token alice)` works);
only its SHA-256 is stored. It acts as USERNAME, with their role and relationships, until revoked in
the admin site. Exit status: 0 issued; 2 no such active user.
"""

import sys

from django.core.management.base import BaseCommand

from carebridge.accounts.models import User
from carebridge.accounts.services import api_token_issue
from carebridge.core.actor import Actor

EXIT_USAGE = 2


class Command(BaseCommand):
    help = "Print a new API token acting as USERNAME. Only its hash is kept: copy it now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="the account the token acts as")
        parser.add_argument("--label", default="", help="what the token is for, shown in the admin site")

    def handle(self, *args, username: str, label: str, **options) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            self.stderr.write(f"There is no active account called {username!r}.")
            sys.exit(EXIT_USAGE)
        _, token = api_token_issue(actor=Actor.command_line(), user=user, label=label)
        self.stdout.write(token)
        self.stderr.write(f"Token for {username} issued. Keep it secret: it is not stored and will not be shown again.")
