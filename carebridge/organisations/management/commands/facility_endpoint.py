"""`carebridge facility-endpoint FACILITY --fhir-base URL --token TOKEN`: where FACILITY's own system is.

FACILITY is a coursework facility ID or ODS code. Referrals to that facility (or, from a hospital's
Carebridge, updates on referrals from that surgery) are then also sent there as FHIR R4, with TOKEN
(issued by that system: `carebridge api-token --system OUR-FACILITY` on another Carebridge). Audited;
the token is never printed or logged. Exit status: 0 set; 2 no such facility; 3 refused input.
"""

import sys

from django.core.management.base import BaseCommand, CommandParser

from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid
from carebridge.organisations.services import facility_by_code, facility_endpoint_set

EXIT_USAGE = 2
EXIT_INVALID = 3


class Command(BaseCommand):
    help = "Send referrals (and their updates) for FACILITY to its own system's FHIR API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("facility", metavar="FACILITY", help="coursework facility ID or ODS code")
        parser.add_argument("--fhir-base", required=True, help="the system's FHIR base, e.g. https://host/fhir")
        parser.add_argument("--token", required=True, help="the bearer token that system issued to us")

    def handle(self, *args, facility: str, fhir_base: str, token: str, **options) -> None:
        found = facility_by_code(facility)
        if found is None:
            self.stderr.write(f"There is no facility with the ID or ODS code {facility!r}.")
            sys.exit(EXIT_USAGE)
        try:
            facility_endpoint_set(actor=Actor.command_line(), facility=found, fhir_base=fhir_base, token=token)
        except Invalid as refusal:
            self.stderr.write(refusal.message)
            sys.exit(EXIT_INVALID)
        self.stdout.write(f"Referrals for {found.name} now also go to {fhir_base.strip()}.")
