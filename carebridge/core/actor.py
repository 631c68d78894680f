"""Who is acting, and from where: handed to every service function so it can check and audit."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from carebridge.accounts.models import User

Channel = Literal["web", "api", "fhir", "cli", "import", "system"]


@dataclass(frozen=True)
class Actor:
    user: "User | None"
    channel: Channel
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request, channel: Channel = "web") -> "Actor":
        return cls(
            user=request.user if request.user.is_authenticated else None, channel=channel, ip_address=client_ip(request)
        )

    @classmethod
    def command_line(cls, user: "User | None" = None) -> "Actor":
        return cls(user=user, channel="cli")


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client chose to send unless a proxy we run set it.
    return request.META.get("REMOTE_ADDR") or None
