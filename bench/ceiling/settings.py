"""The ceiling: the least Django that can book a slot, list free slots, write a prescription or a referral,
over Carebridge's own tables.

`make bench` serves it beside the application, with the same gunicorn settings and the same database,
so the application's figures can be read against what Django, psycopg and PostgreSQL can do at all on
the machine. No middleware, no sessions, no authentication, no templates, no installed apps: whatever
the application spends above this is the price of its checks, its audit trail and its framework layers.
"""

import os

import dj_database_url

SECRET_KEY = "ceiling-benchmark-only"  # nothing here signs anything
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "ceiling.urls"
TEMPLATES: list[dict] = []
# The same connection handling as the application (its DB_CONN_MAX_AGE default), so neither side pays
# for a new PostgreSQL connection per request while the other does not.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    )
}
USE_TZ = True
TIME_ZONE = "Europe/London"
USE_I18N = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Not a warning per 409: the ceiling does no more than it must.
    "loggers": {"django.request": {"level": "ERROR"}},
}
