"""Settings read from the environment (12-factor, django-environ).

The defaults run the embedded demo: SQLite under var/, a Celery broker on the local filesystem
(no server) and mail written to var/mail/. Production sets DATABASE_URL (PostgreSQL),
CELERY_BROKER_URL (Redis), EMAIL_URL and SECRET_KEY.
"""

from datetime import timedelta
from pathlib import Path

import environ
import orjson
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from clinics.core.vocab import TaskQueue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("JAKMONITOR_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
DEBUG = env.bool("DEBUG", default=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # required: ImproperlyConfigured names it when missing

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "clinics.apps.JakmonitorAdminConfig",  # django.contrib.admin with the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "clinics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "jakmonitor.middleware.refuse_nul_in_query",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change in the history tables (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
]
# History is for reading: changes go through the services, never by reverting a row.
# https://django-simple-history.readthedocs.io/en/latest/admin.html
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "jakmonitor.urls"
WSGI_APPLICATION = "jakmonitor.wsgi.application"
ASGI_APPLICATION = "jakmonitor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "jakmonitor" / "templates"],  # admin overrides (a calendar link)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jakmonitor.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests (a new one per request costs more than a feed request), and
# check them before reuse: https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL, a busy timeout and write transactions that take the lock when they begin let the
    # web process and the workers share the demo database without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    # A file, not memory, so that the worker processes started by the tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameters, and psycopg preparing a query once a connection has run it five
    # times (Django turns preparing off unless told): PostgreSQL then plans the lists polled all
    # day once per connection rather than once per request (planning the checks page took longer
    # than running it). Behind PgBouncer in transaction mode without max_prepared_statements, set
    # DB_PREPARE_THRESHOLD= (empty: never prepare). Options in DATABASE_URL take precedence.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#server-side-parameters-binding
    # https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
    _prepare_threshold = env.str("DB_PREPARE_THRESHOLD", default="5").strip()
    if _prepare_threshold and not _prepare_threshold.isdigit():
        raise ImproperlyConfigured("DB_PREPARE_THRESHOLD must be a whole number, or empty")
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("server_side_binding", True)
    _options.setdefault(
        "prepare_threshold", int(_prepare_threshold) if _prepare_threshold else None
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rendered calendar feeds and the wrong-token counters live here. Production: a Redis cache
# shared by every web process (CACHE_URL=redis://host:6379/1); the demo's single web process
# keeps them in memory. https://django-environ.readthedocs.io/en/latest/types.html#environ-env-cache-url
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Wrong calendar-feed tokens are counted per client address (django-ratelimit). Behind a proxy,
# name the header that carries the client's address, e.g. HTTP_X_REAL_IP.
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The server's zone; each clinic and patient carries its own zone for dates and reminders.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Static files (the admin's) served by WhiteNoise: https://whitenoise.readthedocs.io/
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Behind a TLS-terminating proxy in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)

# Email: https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# The demo writes every message as a file under var/mail/.
_email = env.email_url("EMAIL_URL", default="filemail://")
# An email service provider instead of SMTP: EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend
# and ANYMAIL as JSON, e.g. {"POSTMARK_SERVER_TOKEN": "..."} (https://anymail.dev/).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
ANYMAIL = env.json("ANYMAIL", default={})
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# Seconds per SMTP command; the send lease outlasts the five commands of one message (a check).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=8)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="jakmonitor <reminders@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Celery: https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
# Default: kombu's filesystem transport, a broker that needs no server (demo, first test run).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):  # the transport expects them to exist
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Its exchange tables; unset, kombu writes them to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,  # seconds between looks at the queue folder
    }
    # The filesystem transport has no fanout exchange for remote control.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
else:
    # Redis: a worker takes from its queues in the order listed (safety first), not in turn.
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "queue_order_strategy": "priority",
        "socket_connect_timeout": 3,
    }
# The queues every worker consumes unless told otherwise (-Q), safety messages first.
# https://docs.celeryq.dev/en/stable/userguide/routing.html
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in TaskQueue.values()]
CELERY_TASK_DEFAULT_QUEUE = TaskQueue.DEFAULT.value
# A broker that is down must not hold up the write that queued mail: try briefly, then leave it
# to the dispatch tick (the rows are in the database).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Tasks are idempotent: acknowledge after running, one message at a time per worker process.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Periodic work lives in the database (django-celery-beat) so staff can see and change it in
# the admin; `manage.py setup_periodic_tasks` installs the defaults once. Run exactly one beat.
# https://django-celery-beat.readthedocs.io/en/latest/
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

JAKMONITOR = {
    "SEED_DIR": env.str("JAKMONITOR_SEED_DIR", default=str(BASE_DIR / "seeds")),
    # Rolling planning horizon; the clinical intervals themselves come from seeds/.
    "PLAN_HORIZON_MONTHS": env.int("JAKMONITOR_PLAN_HORIZON_MONTHS", default=24),
    # Links in emails (unsubscribe, report an infection) and calendar feed URLs point here;
    # https:// in production (feed URLs are offered as https:// and webcal://).
    "BASE_URL": env.str("JAKMONITOR_BASE_URL", default="http://127.0.0.1:8000"),
    # Reminders are subscription-like; alerts are transactional and come from another address.
    "REMINDER_FROM": env.str(
        "REMINDER_FROM_EMAIL", default="jakmonitor reminders <reminders@localhost>"
    ),
    "ALERT_FROM": env.str("ALERT_FROM_EMAIL", default="jakmonitor alerts <alerts@localhost>"),
    # Outbox delivery. A sender that dies holds its claimed messages for LEASE seconds; with the
    # dispatch tick (beat, every 15 s) another sender has them within a minute.
    "SEND_LEASE_SECONDS": env.float("JAKMONITOR_SEND_LEASE_SECONDS", default=45),
    "SEND_BATCH": env.int("JAKMONITOR_SEND_BATCH", default=50),  # messages claimed at a time
    "SEND_BUDGET_SECONDS": env.float("JAKMONITOR_SEND_BUDGET_SECONDS", default=20),  # per task
    "SENDERS": env.int("JAKMONITOR_SENDERS", default=4),  # sender tasks woken for a backlog
    # Transient failures (server down, 4xx) are retried this long before the message fails.
    "SEND_RETRY_HOURS": env.float("JAKMONITOR_SEND_RETRY_HOURS", default=72),
    # API POSTs with an Idempotency-Key: how long a key replays its first answer.
    "IDEMPOTENCY_HOURS": env.int("JAKMONITOR_IDEMPOTENCY_HOURS", default=24),
    # An open mail connection idle longer than this is replaced rather than trusted.
    "SMTP_IDLE_SECONDS": env.float("JAKMONITOR_SMTP_IDLE_SECONDS", default=30),
    # Calendar feeds: wrong tokens allowed per client address and window before 429 answers.
    "FEED_MISSES_ALLOWED": env.int("JAKMONITOR_FEED_MISSES_ALLOWED", default=30),
    "FEED_MISS_WINDOW_SECONDS": env.int("JAKMONITOR_FEED_MISS_WINDOW_SECONDS", default=600),
}

# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    # Tokens from django-rest-knox: only a hash is stored, each has an expiry, and any can be
    # revoked (`manage.py api_token`). The first class gives the 401 challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "clinics.api.internals.ApiSchema",
    "EXCEPTION_HANDLER": "clinics.api.errors.exception_handler",
    # DRF names the item of a list with an integer key ({"results": {0: {...}}}).
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_NON_STR_KEYS,),
    "DEFAULT_RENDERER_CLASSES": [
        # orjson: several times faster than the standard encoder on lists of checks.
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# https://jazzband.github.io/django-rest-knox/settings/
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "TOKEN_PREFIX": "jak_",  # recognisable by secret scanners
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "jakmonitor API",
    "DESCRIPTION": "Monitoring schedules for patients taking a JAK inhibitor: patients, courses, "
    "checks, lab results, infection reports, drug rules and messages. Staff see their own "
    "clinics only; each role may do what it may do in the admin.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The interactive page's assets are served from this site (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CheckKindEnum": "clinics.models.CheckKind",
        "MessageKindEnum": "clinics.models.Message.Kind",
        "StopReasonEnum": "clinics.models.TherapyCourse.StopReason",
        "PauseReasonEnum": [
            ("lab_result", "Laboratory result"),
            ("clinician", "Clinician decision"),
        ],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
