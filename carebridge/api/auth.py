"""Bearer tokens for the REST API (/api/) and the FHIR API (/fhir/).

`Authorization: Bearer cb_...` names an `ApiToken`; the request then acts as the token's user, with
their role and relationships, exactly as if they had signed in to the web pages. The session cookie is
never looked at here, which is also why CSRF does not apply to these APIs: a cross-site page can make
a browser send its cookies, but not an Authorization header it does not know.
"""

import datetime as dt

from django.http import HttpRequest
from ninja.security import HttpBearer

from carebridge.accounts.models import ApiToken, User
from carebridge.accounts.services import api_token_hash
from carebridge.core import clock
from carebridge.core.actor import Actor, Channel, client_ip
from carebridge.core.prepared import PreparedQuery

# A busy client would otherwise write on every request; once a minute is enough to see what is in use.
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)

# The relations role_of() and the access layer read, loaded with the token in one query so that
# authenticating a request costs one indexed lookup and nothing after it.
_USER_RELATIONS = ("user", "user__patient", "user__clinician__workplace", "user__staff_member")


# Compiled to SQL once per process: every API request runs it (carebridge/core/prepared.py).
_TOKEN = PreparedQuery(
    lambda token_hash: ApiToken.objects.select_related(*_USER_RELATIONS).filter(
        token_hash=token_hash, revoked_at__isnull=True, user__is_active=True
    ),
    token_hash=str,
)


def user_for_token(token: str) -> User | None:
    """The active user an unrevoked token acts as, or None."""
    if not token:
        return None
    api_token = _TOKEN.one_or_none(token_hash=api_token_hash(token))
    if api_token is None:
        return None
    now = clock.now()
    if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_GRANULARITY:
        # Filtered again so that of several requests crossing the minute together, few write.
        ApiToken.objects.filter(pk=api_token.pk).exclude(last_used_at__gt=now - LAST_USED_GRANULARITY).update(
            last_used_at=now
        )
    return api_token.user


def bearer_token(request: HttpRequest) -> str | None:
    """The token in `Authorization: Bearer TOKEN`, or None when there is no such header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def actor_for(request: HttpRequest, user: User, channel: Channel) -> Actor:
    return Actor(user=user, channel=channel, ip_address=client_ip(request))


def www_authenticate(request: HttpRequest) -> str:
    """The WWW-Authenticate header of a 401: says whether a token was missing or not accepted (RFC 6750)."""
    if bearer_token(request) is None:
        return 'Bearer realm="carebridge"'
    return 'Bearer realm="carebridge", error="invalid_token", error_description="The token is unknown or revoked"'


class BearerToken(HttpBearer):
    """django-ninja's bearer scheme (shown in the OpenAPI description) over `user_for_token`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_token(token)
