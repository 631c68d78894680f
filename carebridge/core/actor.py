"""Who is acting, and from where: handed to every service function so it can check and audit."""

import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.conf import settings

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
    """The address of the client that sent `request`: the one place the audit trail, the sign-in
    lockout (django-axes' AXES_CLIENT_IP_CALLABLE) and anything else read it from.

    REMOTE_ADDR, unless it is one of our own proxies (settings.TRUSTED_PROXIES). Then the client is
    read from X-Forwarded-For, right to left: each trusted proxy appends the address it received the
    request from, so the right-most entries are ours, and the first one that is not a trusted proxy
    is the client. Everything left of it was written by the client and proves nothing. A request that
    did not come from a trusted proxy is counted by its own address, whatever headers it sends.
    """
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    networks = _trusted_networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if remote is None or not _trusted(remote, networks):
        return str(remote) if remote is not None else None
    client = remote
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = _address(entry)
        if hop is None:
            # Not an address: nothing further left can be trusted. The last hop our proxies named stands.
            break
        client = hop
        if not _trusted(hop, networks):
            break
    return str(client)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client reached over an IPv6 socket counts as its IPv4 address, so one client has one count.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> bool:
    return any(address.version == network.version and address in network for network in networks)
