"""One typed helper per kind of environment variable, so settings read like a list of facts."""

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR networks (`10.0.0.5, 192.168.0.0/24, ::1`), each checked."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list IP addresses or networks, not {item!r}") from None
    return networks


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    user: str
    password: str
    use_tls: bool  # STARTTLS after connecting (smtp+tls://)
    use_ssl: bool  # TLS from the first byte (smtp+ssl://)


# Scheme: (STARTTLS, implicit TLS, the port when the URL names none).
_MAIL_SCHEMES = {"smtp": (False, False, 25), "smtp+tls": (True, False, 587), "smtp+ssl": (False, True, 465)}


def env_mail_url(name: str) -> MailServer | None:
    """An SMTP server as a URL: smtp://user:password@host:port, smtp+tls://… or smtp+ssl://…

    User and password are percent-decoded, so a password holding `@` or `:` is written %40 or %3A.
    """
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL") from None
    if parts.scheme not in _MAIL_SCHEMES:
        raise ImproperlyConfigured(f"{name} must start smtp://, smtp+tls:// or smtp+ssl://, not {parts.scheme}://")
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} must name the mail server's host, as in smtp://127.0.0.1:1025")
    use_tls, use_ssl, default_port = _MAIL_SCHEMES[parts.scheme]
    return MailServer(
        host=parts.hostname,
        port=port or default_port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
    )
