"""Sign-in lockout that slows guessing without letting anyone lock a named person out.

django-axes counts wrong passwords per username *and* client address (settings.AXES_LOCKOUT_PARAMETERS),
never per username alone: five failures lock that username at that address for the cool-off, while
the same person signs in from their own network as usual. The client address is the real one even
behind our TLS proxy (core.actor.client_ip), so a stranger's failures do not count against the
clinic's own address.

That alone would let one address try five passwords against every username in turn. So an address
is also locked as a whole once the failures it has piled up over all usernames within the cool-off
reach AXES_ADDRESS_FAILURE_LIMIT (0: never). A failure followed by a successful sign-in of that
username from that address is forgotten (AXES_RESET_ON_SUCCESS), so a busy site's mistyped passwords
do not add up towards it; only guesses that never succeed do.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def address_failures(request) -> int:
    """Failures from this request's client address, over every username, within the cool-off."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def address_locked(request) -> bool:
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT
    return limit > 0 and address_failures(request) >= limit


class SignInLockoutHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # The failure that reaches the address's limit is answered as a lockout at once, as the one
        # that reaches a username's limit is.
        if request is not None and not getattr(request, "axes_locked_out", False) and address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
