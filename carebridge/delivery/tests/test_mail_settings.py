"""EMAIL_URL and friends: read from the environment as docs/configuration.md says."""

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from carebridge.config.env import MailServer, env_mail_url


@pytest.mark.parametrize(
    "url, server",
    [
        ("smtp://127.0.0.1:1025", MailServer("127.0.0.1", 1025, "", "", use_tls=False, use_ssl=False)),
        ("smtp://mail.example.org", MailServer("mail.example.org", 25, "", "", use_tls=False, use_ssl=False)),
        (
            "smtp+tls://carebridge:p%40ss%3Aword@smtp.example.org",
            MailServer("smtp.example.org", 587, "carebridge", "p@ss:word", use_tls=True, use_ssl=False),
        ),
        (
            "smtp+ssl://user:secret@smtp.example.org:2465",
            MailServer("smtp.example.org", 2465, "user", "secret", use_tls=False, use_ssl=True),
        ),
    ],
)
def test_email_url_names_the_server_port_login_and_encryption(monkeypatch, url, server):
    monkeypatch.setenv("EMAIL_URL", url)
    assert env_mail_url("EMAIL_URL") == server


def test_no_email_url_means_no_server(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "")
    assert env_mail_url("EMAIL_URL") is None


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://mail.example.org", "must start smtp://"),
        ("smtp://", "must name the mail server's host"),
        ("smtp://mail.example.org:port", "not a valid URL"),
    ],
)
def test_a_wrong_email_url_stops_the_start_naming_the_variable(monkeypatch, url, problem):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match=problem) as raised:
        env_mail_url("EMAIL_URL")
    assert "EMAIL_URL" in str(raised.value)


SHOW_MAIL_SETTINGS = """
import json
from carebridge.config import settings as s
print(json.dumps({name: str(getattr(s, name, None)) for name in (
    "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS",
    "EMAIL_USE_SSL", "EMAIL_FILE_PATH", "DEFAULT_FROM_EMAIL", "SITE_URL", "VAR_DIR")}))
"""


def shipped_settings(**environment: str) -> dict[str, str]:
    """The application's settings module as it loads in a process with this environment."""
    env = (
        {key: value for key, value in os.environ.items() if key not in {"EMAIL_URL", "EMAIL_FROM", "SITE_URL", "PORT"}}
        | {"CAREBRIDGE_DEMO": "true"}
        | environment
    )
    result = subprocess.run(
        [sys.executable, "-c", SHOW_MAIL_SETTINGS], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_with_email_url_the_settings_send_through_that_server():
    loaded = shipped_settings(
        EMAIL_URL="smtp+tls://carebridge:secret@smtp.example.org:2587",
        EMAIL_FROM="Oak Tree Surgery <appointments@oaktree.example>",
        SITE_URL="https://carebridge.example.nhs.uk/",
    )
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (loaded["EMAIL_HOST"], loaded["EMAIL_PORT"]) == ("smtp.example.org", "2587")
    assert (loaded["EMAIL_HOST_USER"], loaded["EMAIL_HOST_PASSWORD"]) == ("carebridge", "secret")
    assert (loaded["EMAIL_USE_TLS"], loaded["EMAIL_USE_SSL"]) == ("True", "False")
    assert loaded["DEFAULT_FROM_EMAIL"] == "Oak Tree Surgery <appointments@oaktree.example>"
    assert loaded["SITE_URL"] == "https://carebridge.example.nhs.uk"


def test_without_email_url_messages_go_to_files_under_var_for_the_demo():
    loaded = shipped_settings(PORT="8123")
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert loaded["EMAIL_FILE_PATH"] == os.path.join(loaded["VAR_DIR"], "sent-mail")
    assert loaded["DEFAULT_FROM_EMAIL"] == "Carebridge <no-reply@carebridge.localhost>"
    assert loaded["SITE_URL"] == "http://127.0.0.1:8123"
