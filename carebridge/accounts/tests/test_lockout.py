"""Sign-in lockout behind our TLS proxy: counted by the real client address, never by username alone."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from carebridge.audit.models import AuditAction, AuditEvent
from carebridge.core.actor import client_ip
from carebridge.testing.world import PASSWORD

LOGIN = reverse("accounts:login")
PROXY = "10.0.0.2"
behind_our_proxy = override_settings(TRUSTED_PROXIES=["10.0.0.0/24"])


def _through_proxy(client_address: str) -> Client:
    """A browser at `client_address`, reaching Carebridge through our proxy, which appends that address."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def _fail(client: Client, username: str = "gp", times: int | None = None, **extra) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT if times is None else times):
        client.post(LOGIN, {"username": username, "password": "not-the-password"}, **extra)


def _signs_in(client: Client, username: str = "gp") -> bool:
    response = client.post(LOGIN, {"username": username, "password": PASSWORD})
    return response.status_code == 302 and response["Location"] == reverse("accounts:home")


@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        ("198.51.100.20", "203.0.113.7", "198.51.100.20"),  # not our proxy: its own address, header ignored
        (PROXY, "203.0.113.7", "203.0.113.7"),  # our proxy: the address it appended
        (PROXY, "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # left of our proxy's entry is the client's word
        (PROXY, "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # two of our proxies in a row
        (PROXY, "203.0.113.7, not-an-address", PROXY),  # a malformed header proves nothing
        (PROXY, "", PROXY),  # our proxy, but no header: the proxy itself (a health check)
        ("::ffff:198.51.100.20", "", "198.51.100.20"),  # IPv4 over an IPv6 socket is one client
    ],
)
@behind_our_proxy
def test_the_client_address_is_read_from_the_header_only_when_our_proxy_sent_it(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_with_no_trusted_proxies_configured_the_header_is_never_read():
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert settings.TRUSTED_PROXIES == []
    assert client_ip(request) == PROXY


@behind_our_proxy
def test_behind_the_proxy_failures_lock_that_address_and_username_only(world):
    attacker = _through_proxy("203.0.113.7")
    _fail(attacker)
    assert attacker.post(LOGIN, {"username": "gp", "password": PASSWORD}).status_code == 429
    # The GP, at the surgery, through the same proxy: not locked out.
    assert _signs_in(_through_proxy("198.51.100.9"))
    assert AuditEvent.objects.filter(actor=world.gp, action=AuditAction.SIGN_IN, ip_address="198.51.100.9").exists()


@behind_our_proxy
def test_failed_sign_ins_are_audited_with_the_real_client_address(world):
    _fail(_through_proxy("203.0.113.7"), times=2)
    failures = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED)
    assert failures.count() == 2
    assert set(failures.values_list("ip_address", flat=True)) == {"203.0.113.7"}


@behind_our_proxy
def test_a_client_that_is_not_our_proxy_cannot_choose_its_address_with_the_header(world):
    client = Client(REMOTE_ADDR="198.51.100.20")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A different made-up address each time, to dodge the count: it is not read.
        client.post(LOGIN, {"username": "gp", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt + 1}")
    assert client.post(LOGIN, {"username": "gp", "password": PASSWORD}).status_code == 429
    failures = AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED)
    assert set(failures.values_list("ip_address", flat=True)) == {"198.51.100.20"}
    assert _signs_in(Client(REMOTE_ADDR="198.51.100.21"))


@behind_our_proxy
@override_settings(AXES_ADDRESS_FAILURE_LIMIT=8)
def test_an_address_guessing_across_many_usernames_is_locked_as_a_whole(world):
    attacker = _through_proxy("203.0.113.7")
    usernames = ["nurse", "reception", "manager", "porter"]
    responses = [
        attacker.post(LOGIN, {"username": name, "password": "wrong"}).status_code for name in usernames for _ in (1, 2)
    ]
    # Two tries at each of four usernames: no username reached five, but the address reached eight.
    assert responses[:-1] == [200] * 7 and responses[-1] == 429
    assert attacker.post(LOGIN, {"username": "gp", "password": PASSWORD}).status_code == 429
    assert _signs_in(_through_proxy("198.51.100.9"))


@behind_our_proxy
@override_settings(AXES_ADDRESS_FAILURE_LIMIT=8)
def test_mistakes_followed_by_a_successful_sign_in_do_not_add_up_towards_the_address_limit(world):
    ward = _through_proxy("198.51.100.9")
    for name in ("nurse", "reception", "manager", "porter", "gp"):
        _fail(ward, username=name, times=2)
        assert _signs_in(ward, username=name)
        ward.post(reverse("accounts:logout"))


def test_trusted_proxies_are_read_as_addresses_or_networks_and_anything_else_stops_the_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from carebridge.config.env import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/24,fd00::/8")
    assert env_networks("TRUSTED_PROXIES") == ["10.0.0.5/32", "192.168.0.0/24", "fd00::/8"]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5,proxy.internal")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES")
