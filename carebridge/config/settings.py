"""Carebridge settings: every value that differs between machines comes from the environment.

See docs/configuration.md for the variables and what they mean.
"""

import os
from pathlib import Path

import dj_database_url

from carebridge.config.env import env_bool, env_int, env_list, env_mail_url, env_networks, env_str
from carebridge.core.frontend import FRONTEND_SUPPORTED_SCRIPT_SOURCE

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("CAREBRIDGE_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# pytest sets PYTEST_VERSION for the whole run, before settings are read.
TESTING = env_bool("CAREBRIDGE_TESTING", False) or "PYTEST_VERSION" in os.environ
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or env_bool("CAREBRIDGE_DEMO", False) or TESTING:
        # Demo and test runs only: a fixed key is harmless where there is no real data.
        SECRET_KEY = "carebridge-demo-key-not-for-real-patient-data"
    else:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set (or CAREBRIDGE_DEMO=true for the demo)")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    # Only for the API docs page: its templates and the Swagger UI files, served from here, not a CDN.
    "ninja",
    "carebridge.core",
    "carebridge.accounts",
    "carebridge.audit",
    "carebridge.delivery",
    "carebridge.organisations",
    "carebridge.patients",
    "carebridge.access",
    "carebridge.scheduling",
    "carebridge.clinical",
    "carebridge.prescribing",
    "carebridge.referrals",
    "carebridge.records",
    "carebridge.subject_access",
    "carebridge.privacy",
    "carebridge.appointments",
    "carebridge.reports",
    "carebridge.api",
    "carebridge.fhir",
    "carebridge.csvio",
    "carebridge.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view (and the CSRF check, which reads the form): input no view can use, refused in the
    # edge's own format. After the user and messages, which its page shows.
    "carebridge.core.middleware.InputLimits",
    # After the messages, so that it can say why the person has to sign in again.
    "carebridge.accounts.middleware.IdleSessionTimeout",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "carebridge.core.middleware.RefusalPages",
    # Last, so that it sees the authenticated user of a failed login.
    "axes.middleware.AxesMiddleware",
]

# The largest body any request may send, files uploaded as multipart/form-data apart (a FHIR resource
# or a JSON Patch is a few kilobytes): larger ones answer 413 (core.middleware.InputLimits), and a JSON
# Patch may not grow a resource beyond it either (fhir.patch).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000

ROOT_URLCONF = "carebridge.config.urls"
WSGI_APPLICATION = "carebridge.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carebridge.accounts.context_processors.navigation",
                "carebridge.patients.context_processors.navigation",
                "carebridge.prescribing.context_processors.navigation",
                "carebridge.referrals.hospital_context.navigation",
                "carebridge.subject_access.context_processors.navigation",
                "carebridge.records.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "carebridge.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the task worker read while the other writes; IMMEDIATE takes the
        # write lock at the start of a transaction so two writers queue instead of failing half-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not SQLite's in-memory database: with shared cache, in-memory SQLite refuses a
    # second connection's write at once instead of queueing it, and the concurrency tests need real
    # queueing, as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(DATABASES["default"]["NAME"]).with_suffix(".test.sqlite3"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
    # Values travel apart from the SQL (server-side binding), so a statement a connection runs again and
    # again is parsed and planned once: psycopg prepares it on its fifth run. Planning was most of
    # PostgreSQL's CPU on the API's hot paths (an NHS-number lookup: 2.1 to 2.9 ms of it, 1.0 to 1.2 ms
    # prepared; docs/benchmarks.md). Off (DB_PREPARED_STATEMENTS=false) behind a pooler that hands one
    # connection to several clients, such as PgBouncer in transaction mode before 1.21.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and security ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# How long a "Forgotten your password?" link works (carebridge.accounts.password_reset). Patients only.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60) * 60
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# The proxies we run in front of Carebridge (addresses or CIDR networks). Only a request from one of
# them has its client address read from X-Forwarded-For (carebridge.core.actor.client_ip).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

# Five wrong passwords lock the username at that client address for 30 minutes, never the username
# everywhere, so nobody can lock a named clinician out of the network they work from. An address
# that piles up AXES_ADDRESS_FAILURE_LIMIT failures over any usernames is locked as a whole
# (carebridge.accounts.lockout).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "carebridge.core.actor.client_ip"
AXES_HANDLER = "carebridge.accounts.lockout.SignInLockoutHandler"
# Lockouts are looked at and lifted through Carebridge's own admin page (accounts.admin), audited.
AXES_ENABLE_ADMIN = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "carebridge.accounts.forms.lockout_username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and not env_bool("CAREBRIDGE_DEMO", False))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working shift
# A session unused this long ends (carebridge.accounts.middleware): staff and clinicians at shared
# desks and on wards, and patients on their own devices.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
PATIENT_SESSION_IDLE_MINUTES = env_int("PATIENT_SESSION_IDLE_MINUTES", 120)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Everything is served from our own origin: no CDN, and no inline script but the one line every page
# starts its body with, allowed by its hash (carebridge/core/frontend.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", FRONTEND_SUPPORTED_SCRIPT_SOURCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Time and language ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# Tests that run Carebridge instances as processes of their own (carebridge/testing/instances.py) set this,
# so that each one's "today" is the tests' base day whatever day they run. Nothing else should.
if env_str("CAREBRIDGE_CLOCK_SHIFT_SECONDS", ""):
    from carebridge.core.clock import shift_process_clock

    shift_process_clock(float(env_str("CAREBRIDGE_CLOCK_SHIFT_SECONDS", "")))

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Background tasks -----------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Mail -----------------------------------------------------------------------------------------
# Sent by the task worker (carebridge.delivery; docs/mail.md). With EMAIL_URL unset, each message is
# written to a file under var/sent-mail/ instead, where a user of the demo can read it.
# Lower case, so it is no setting: Django's debug page would show its password, which it hides in
# EMAIL_HOST_PASSWORD.
_mail_server = env_mail_url("EMAIL_URL")
if _mail_server is not None:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail_server.host
    EMAIL_PORT = _mail_server.port
    EMAIL_HOST_USER = _mail_server.user
    EMAIL_HOST_PASSWORD = _mail_server.password
    EMAIL_USE_TLS = _mail_server.use_tls
    EMAIL_USE_SSL = _mail_server.use_ssl
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "sent-mail"
# Seconds to wait on the mail server before the attempt counts as failed and is retried later.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("EMAIL_FROM", "Carebridge <no-reply@carebridge.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach this Carebridge: links in email (a portal invitation) start with it.
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{env_str('PORT', '8000')}").rstrip("/")

# --- Logging: problems to stderr, never patient data ------------------------------------------------
# Every record passes through RedactIdentifiers on its way out, which blanks IDs, NHS numbers, long
# digit runs and email addresses in the message and any traceback. Django's "Not Found: <path>" and
# other 4xx warnings are not logged at all: an access refusal is in the audit trail, and the path names
# the patient. Django's own loggers go through the same handler, so none prints around the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identifiers": {"()": "carebridge.core.log_redaction.RedactIdentifiers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_identifiers"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Django's defaults give these handlers of their own; none here, so they reach the root's.
        "django": {"handlers": [], "level": env_str("LOG_LEVEL", "WARNING"), "propagate": True},
        "django.server": {"handlers": [], "level": env_str("LOG_LEVEL", "WARNING"), "propagate": True},
        "django.request": {"level": "ERROR"},
    },
}

# --- Carebridge -----------------------------------------------------------------------------------
# How long a break-glass grant lasts before the clinician must state a reason again.
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)
# How long a finished episode of care keeps a patient's record open to the clinic that gave it
# (results, letters and follow-up arrive after the visit): days after an appointment's time, and days
# after a referral is completed. A cancelled appointment ends its relationship at once.
CARE_ACCESS_DAYS_AFTER_APPOINTMENT = env_int("CARE_ACCESS_DAYS_AFTER_APPOINTMENT", 90)
CARE_ACCESS_DAYS_AFTER_REFERRAL = env_int("CARE_ACCESS_DAYS_AFTER_REFERRAL", 90)
# How long a FHIR message to another system (a referral, a status update) may take before it counts as
# failed and is tried again later (carebridge.delivery.remote).
REMOTE_FHIR_TIMEOUT_SECONDS = env_int("REMOTE_FHIR_TIMEOUT_SECONDS", 20)
# Days within which a referral should be seen, by priority (the hospital's worklist flags a breach):
# the NHS's two-week wait for suspected cancer, four weeks for urgent, and the 18-week referral-to-
# treatment standard for routine referrals.
REFERRAL_TARGET_DAYS = {
    "two_week_wait": env_int("REFERRAL_TARGET_DAYS_TWO_WEEK_WAIT", 14),
    "urgent": env_int("REFERRAL_TARGET_DAYS_URGENT", 28),
    "routine": env_int("REFERRAL_TARGET_DAYS_ROUTINE", 126),
    "non_urgent": env_int("REFERRAL_TARGET_DAYS_ROUTINE", 126),
}
# How far ahead clinicians' slots are offered (the rolling horizon).
SLOT_HORIZON_DAYS = env_int("SLOT_HORIZON_DAYS", 42)
