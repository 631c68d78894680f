"""`carebridge api-token USERNAME [--label TEXT]` or `carebridge api-token --system FACILITY`: issue a bearer
token for the REST and FHIR APIs.

The token is printed once, alone on standard output (so `TOKEN=$(carebridge api-token alice)` works);
only its SHA-256 is stored. It acts as USERNAME, with their role and relationships, until revoked in
the admin site. With `--system FACILITY` (a coursework facility ID or ODS code) it acts as that
organisation's system: a login made for it on first use, which may deliver referrals from that facility
and updates on referrals sent to it, and read no record. Exit status: 0 issued; 2 no such user or facility.

It lives with the organisations because a system's login stands for a facility; accounts knows none.
"""

import sys

from django.core.management.base import BaseCommand, CommandParser

from carebridge.accounts.models import User
from carebridge.accounts.services import api_token_issue
from carebridge.core.actor import Actor
from carebridge.organisations.services import facility_by_code, system_account_ensure

EXIT_USAGE = 2


class Command(BaseCommand):
    help = "Print a new API token acting as USERNAME, or as FACILITY's system. Only its hash is kept: copy it now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", nargs="?", help="the account the token acts as")
        parser.add_argument(
            "--system",
            metavar="FACILITY",
            default="",
            help="a token for that organisation's system (coursework facility ID or ODS code), not a person",
        )
        parser.add_argument("--label", default="", help="what the token is for, shown in the admin site")

    def handle(self, *args, username: str | None, system: str, label: str, **options) -> None:
        actor = Actor.command_line()
        if bool(username) == bool(system):
            self.stderr.write("Name either a USERNAME or --system FACILITY.")
            sys.exit(EXIT_USAGE)
        if system:
            facility = facility_by_code(system)
            if facility is None:
                self.stderr.write(f"There is no facility with the ID or ODS code {system!r}.")
                sys.exit(EXIT_USAGE)
            user = system_account_ensure(actor=actor, facility=facility)
            label = label or f"{facility.name}'s system"
        else:
            found = User.objects.filter(username=username, is_active=True).first()
            if found is None:
                self.stderr.write(f"There is no active account called {username!r}.")
                sys.exit(EXIT_USAGE)
            user = found
        _, token = api_token_issue(actor=actor, user=user, label=label)
        self.stdout.write(token)
        self.stderr.write(
            f"Token for {user.username} issued. Keep it secret: it is not stored and will not be shown again."
        )
