"""Signed-in sessions end after a while without activity: the one place that rule is kept.

A shared computer at a reception desk or on a ward is left signed in; after `SESSION_IDLE_MINUTES`
(default 30) without a request the next request finds the session ended and signs in again. Patients,
on their own devices, get `PATIENT_SESSION_IDLE_MINUTES` (default 120). The time of the last request is
kept in the session itself, so the rule holds whichever web worker answers, and is refreshed at most
once a minute so that an ordinary page view does not rewrite the session row each time.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from carebridge.accounts.models import AccountKind
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core.actor import Actor
from carebridge.core.middleware import bearer_api_call

LAST_SEEN_KEY = "carebridge_last_seen"
REFRESH_EVERY_SECONDS = 60


def idle_limit_seconds(user) -> int:
    """How long this login's session may sit unused: patients longer than staff and clinicians."""
    if user.kind == AccountKind.PATIENT:
        return settings.PATIENT_SESSION_IDLE_MINUTES * 60
    return settings.SESSION_IDLE_MINUTES * 60


class IdleSessionTimeout:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A bearer-token API call is not the person at the screen: it neither keeps their session alive
        # nor ends it, even when the browser making it sends the session cookie along.
        if not bearer_api_call(request) and request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        now = clock.now().timestamp()
        last_seen = request.session.get(LAST_SEEN_KEY)
        limit = idle_limit_seconds(request.user)
        if isinstance(last_seen, int | float) and now - last_seen > limit:
            audit_record(
                actor=Actor.from_request(request),
                action=AuditAction.SIGN_OUT,
                object_type=AuditObject.SIGN_IN,
                detail={"reason": "idle", "idle_minutes": limit // 60},
            )
            logout(request)  # a new, empty session; the request goes on as nobody's
            messages.info(
                request, f"You were signed out after {limit // 60} minutes without activity. Please sign in again."
            )
            return
        if not isinstance(last_seen, int | float) or now - last_seen >= REFRESH_EVERY_SECONDS:
            request.session[LAST_SEEN_KEY] = now
