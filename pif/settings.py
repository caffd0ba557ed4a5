"""PIF settings: one module, every value from the environment (see `.env.example`).

The defaults are the embedded, no-server setup that `make run` and `make test` use: SQLite in `var/`
and a Celery worker on kombu's filesystem broker. `DATABASE_URL` and `CELERY_BROKER_URL` switch to
PostgreSQL and Redis. A malformed value fails loudly at start-up (django-environ raises).
"""

import datetime
import hashlib
import re
from pathlib import Path

import csp.constants
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("PIF_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the embedded setup writes (SQLite file, broker folders, media, static) lives here.
VAR_DIR = Path(env.str("PIF_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # required in production: no default on purpose

# The audit key: seals every audit event and signs the witness checkpoints, so that whoever can write the
# database but not read this environment cannot forge the trail (docs/decisions/0010-keyed-audit-chain.md).
# Never in the database, never SECRET_KEY (rotating that one must not break the trail). Development only: derived
# from SECRET_KEY when unset.
if DEBUG:
    PIF_AUDIT_KEY = env.str("PIF_AUDIT_KEY", default=hashlib.sha256(f"pif-audit-key:{SECRET_KEY}".encode()).hexdigest())
else:
    PIF_AUDIT_KEY = env.str("PIF_AUDIT_KEY")  # required in production: no default on purpose
if len(PIF_AUDIT_KEY) < 32:
    raise ImproperlyConfigured("PIF_AUDIT_KEY must be at least 32 characters (e.g. 64 random hex digits).")
# Where `audit_checkpoint` writes its signed checkpoints (one file each, never rewritten) and `verify_audit`
# reads them: storage the database's administrators cannot write (another machine, a write-once bucket).
PIF_AUDIT_WITNESS_DIR = Path(env.str("PIF_AUDIT_WITNESS_DIR", default=str(VAR_DIR / "audit-witness")))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The port the web server listens on (`make run`, `make prod`); SITE_URL, the base of the links in emails, QR codes
# and verify links, follows it unless set (production sets it: the public https:// address).
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_countries",
    "viewflow",
    "viewflow.workflow",
    "axes",
    "inspection",
    "workflows",
]

# Widgets viewflow's Material renderer would draw wrongly, drawn server-side instead: the refusal reasons'
# picker, and the check forms' photo input (viewflow's <vf-field-file> drops `accept` and `capture`).
VIEWFLOW = {
    "WIDGET_RENDERERS": {
        "workflows.pickers.SearchableCheckboxes": "workflows.pickers.SearchableCheckboxesRenderer",
        "workflows.widgets.PhotoInput": "workflows.widgets.PhotoInputRenderer",
    }
}

MIDDLEWARE = [
    # first: the request id is on every log line of the request, and every answer is counted
    "inspection.observability.request_id.RequestIdMiddleware",
    "inspection.observability.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # the Content-Security-Policy below, on every response that has none of its own (downloads set a sandbox)
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # viewflow's pages submit forms with Turbo, which renders a refused form only when it comes back as 422
    "viewflow.middleware.HotwireTurboMiddleware",
    # after everything that authenticates: it turns a login refused for a locked account into a 429
    "axes.middleware.AxesMiddleware",
]

# Django's ModelBackend, with a user's permissions and roles read in one query (inspection/roles.py).
# django-axes first: it refuses a locked account before any password is checked (inspection/login_lockout.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "inspection.roles.RoleBackend"]

ROOT_URLCONF = "pif.urls"
WSGI_APPLICATION = "pif.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite by default. IMMEDIATE transactions serialise writers cleanly (no "database is locked"
# half-way through a transaction) and WAL lets readers go on while one writes.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pif.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Internationalisation: French first, English second; Martinique local time.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "inspection" / "locale"]
TIME_ZONE = "America/Martinique"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files (after `collectstatic`) in production; plain ones in development and tests.
        "BACKEND": (
            "pif.storage.StaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Certificates: signed with this key and certificate (PEM files). `manage.py signing_key` makes a self-signed
# pair for development and the demo; production gets the BCP's own from its PKI.
PIF_SIGNING_KEY = Path(env.str("PIF_SIGNING_KEY", default=str(VAR_DIR / "signing" / "key.pem")))
PIF_SIGNING_CERT = Path(env.str("PIF_SIGNING_CERT", default=str(VAR_DIR / "signing" / "cert.pem")))
PIF_SIGNING_KEY_PASSPHRASE = env.str("PIF_SIGNING_KEY_PASSPHRASE", default="")
PIF_SIGNING_LOCATION = env.str("PIF_SIGNING_LOCATION", default="Fort-de-France, Martinique")
# Importers' uploaded documents and the certificates: never under MEDIA_ROOT or static files, served only by
# views that check who asks (inspection.downloads, certificate downloads). Shared storage when several
# machines serve.
PRIVATE_ROOT = Path(env.str("PIF_PRIVATE_ROOT", default=str(VAR_DIR / "private")))
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(PRIVATE_ROOT), "base_url": "/no-public-url/"},
}
PIF_UPLOAD_MAX_BYTES = env.int("PIF_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# Webhooks: seconds to wait for the operator's server; plain http and private addresses are for tests and
# development only (a webhook URL is set by the operator, so it must not reach into our network).
PIF_WEBHOOK_TIMEOUT = env.float("PIF_WEBHOOK_TIMEOUT", default=5.0)
PIF_WEBHOOK_ALLOW_HTTP = env.bool("PIF_WEBHOOK_ALLOW_HTTP", default=False)
PIF_WEBHOOK_ALLOW_PRIVATE = env.bool("PIF_WEBHOOK_ALLOW_PRIVATE", default=False)
# Days before a measure's deadline when the company is reminded of its follow-up.
PIF_FOLLOW_UP_REMINDER_DAYS = env.int("PIF_FOLLOW_UP_REMINDER_DAYS", default=3)
# Days from the decision within which the receiving side confirms the goods arrived at the control point,
# establishment or warehouse, else the supervisors are told (Delegated Regulations (EU) 2019/1666 art. 3(4),
# 2019/2124 art. 7: 15 days)
PIF_ARRIVAL_CONFIRMATION_DAYS = env.int("PIF_ARRIVAL_CONFIRMATION_DAYS", default=15)
# Lab posts that no result came of (refused) are kept this many days as evidence, then purged daily.
# A late lab result the supervisors chose to keep waiting for: they are asked again after this many days.
PIF_LAB_CHASE_DAYS = env.int("PIF_LAB_CHASE_DAYS", default=2)
if PIF_LAB_CHASE_DAYS < 1:
    raise ImproperlyConfigured("PIF_LAB_CHASE_DAYS must be at least 1.")
PIF_LAB_SUBMISSION_RETENTION_DAYS = env.int("PIF_LAB_SUBMISSION_RETENTION_DAYS", default=90)
if PIF_LAB_SUBMISSION_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("PIF_LAB_SUBMISSION_RETENTION_DAYS must be at least 1.")

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_ENABLED=true; the HSTS and
# redirect settings default to on outside DEBUG so that `check --deploy` is clean. See README.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts from our own origin only, no inline script, no eval. Our
# templates have no inline script (a label prints itself from static/pif/print.js), nor have viewflow's pages
# but for the Back buttons' onclick, which templates/viewflow/workflow/ overrides; the API docs use
# drf-spectacular's split view, whose set-up script is a URL. Styles allow 'unsafe-inline', for styles only:
# viewflow's templates carry style="" attributes (a nonce can't cover an attribute) and the Swagger page a
# <style> block; CSS cannot run script. `data:` images: the QR codes of the certificate preview, Swagger's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        "style-src": [csp.constants.SELF, csp.constants.UNSAFE_INLINE],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    }
}

# Email: console in development; any SMTP server via EMAIL_URL (e.g. smtp+tls://user:pass@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds an SMTP server may take to answer: a hung server must not hold a worker past the send's lease.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PIF Martinique <pif@localhost>")

# Celery. Default: kombu's filesystem transport in var/broker, so a real worker runs with no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (remote control) messages; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # Seconds between polls of the queue folder: low enough that a task starts at once.
        "polling_interval": 0.2,
    }
    # Producers (web) and consumers (worker) both need the folders before their first message.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis hands an unacknowledged message out again after this many seconds. Flow jobs do not rely on it
    # (their lease, below, gets them sent again by beat); it must exceed a retry's longest wait (600 s) plus the
    # lease, or Redis would deliver a job again while it waits for its retry.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
# The IPPC ePhyto hub (inspection/exchange/hub.py): where its SOAP service is (empty: the local double at
# SITE_URL/hub-double/), our NPPO's country code (the envelopes' From), the NPPO's TLS client certificate and key
# (PEM files; the real hub knows who calls by them), the CA bundle to check the hub's certificate (empty: the
# system's), the seconds to wait for an answer and between two polls of the envelopes' tracking info. The
# double answers at /hub-double/ when PIF_IPPC_HUB_DOUBLE is on (the default under DEBUG and in tests).
PIF_IPPC_HUB_URL = env.str("PIF_IPPC_HUB_URL", default="")
PIF_IPPC_HUB_NPPO = env.str("PIF_IPPC_HUB_NPPO", default="FR").upper()
PIF_IPPC_HUB_CLIENT_CERT = env.str("PIF_IPPC_HUB_CLIENT_CERT", default="")
PIF_IPPC_HUB_CLIENT_KEY = env.str("PIF_IPPC_HUB_CLIENT_KEY", default="")
PIF_IPPC_HUB_CA_BUNDLE = env.str("PIF_IPPC_HUB_CA_BUNDLE", default="")
PIF_IPPC_HUB_TIMEOUT = env.float("PIF_IPPC_HUB_TIMEOUT", default=30.0)
PIF_IPPC_HUB_POLL_SECONDS = env.float("PIF_IPPC_HUB_POLL_SECONDS", default=300.0)
PIF_IPPC_HUB_DOUBLE = env.bool("PIF_IPPC_HUB_DOUBLE", default=DEBUG)
if len(PIF_IPPC_HUB_NPPO) != 2:
    raise ImproperlyConfigured("PIF_IPPC_HUB_NPPO is the NPPO's ISO 3166 two-letter country code.")
if PIF_IPPC_HUB_URL and not PIF_IPPC_HUB_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PIF_IPPC_HUB_URL must be an http(s) URL.")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
PIF_TIMER_INTERVAL = env.float("PIF_TIMER_INTERVAL", default=60.0)
# A started flow job (the certificate job) must be done within its lease, or beat takes its worker for dead and
# sends it again; after PIF_JOB_ATTEMPTS such starts it becomes an incident for the supervisors.
PIF_JOB_LEASE_SECONDS = env.int("PIF_JOB_LEASE_SECONDS", default=300)
PIF_JOB_ATTEMPTS = env.int("PIF_JOB_ATTEMPTS", default=5)
# Emails and webhook posts (the outbox, `inspection.outbox`): sent after commit, then by beat's sweeper when the
# first send failed or never left (a broker down at commit); given up after PIF_DELIVERY_ATTEMPTS failures, when
# they become incidents for the supervisors. The sweeper leaves alone what is younger than the grace period (its
# first send is still on its way).
PIF_DELIVERY_ATTEMPTS = env.int("PIF_DELIVERY_ATTEMPTS", default=8)
if PIF_DELIVERY_ATTEMPTS < 1:
    raise ImproperlyConfigured("PIF_DELIVERY_ATTEMPTS must be at least 1.")
PIF_DELIVERY_GRACE_SECONDS = env.int("PIF_DELIVERY_GRACE_SECONDS", default=60)
# Private files (documents, photos, certificates, lab reports) that no row records, older than this, are deleted
# by the daily sweep (`manage.py sweep_files`): left by a transaction that rolled back in a process that died.
PIF_FILE_SWEEP_GRACE_SECONDS = env.int("PIF_FILE_SWEEP_GRACE_SECONDS", default=6 * 3600)
if PIF_FILE_SWEEP_GRACE_SECONDS < 600:
    raise ImproperlyConfigured("PIF_FILE_SWEEP_GRACE_SECONDS must be at least 600 (a transaction may be writing).")
# API answers kept for replay under their Idempotency-Key, then purged daily.
PIF_IDEMPOTENCY_RETENTION_HOURS = env.int("PIF_IDEMPOTENCY_RETENTION_HOURS", default=24)
if PIF_IDEMPOTENCY_RETENTION_HOURS < 1:
    raise ImproperlyConfigured("PIF_IDEMPOTENCY_RETENTION_HOURS must be at least 1.")
# Beat sends a heartbeat task this often; /healthz reports the worker and beat stale after 3 × this.
PIF_HEARTBEAT_SECONDS = env.float("PIF_HEARTBEAT_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "workflow-timers": {"task": "workflows.tasks.workflow_timers_fire", "schedule": PIF_TIMER_INTERVAL},
    # Stuck flow jobs, looked for every minute, or twice per lease when it is shorter (`flow_jobs_resend`).
    "workflow-jobs-resend": {
        "task": "workflows.nodes.flow_jobs_resend",
        "schedule": min(60.0, PIF_JOB_LEASE_SECONDS / 2),
    },
    "follow-up-reminders": {"task": "inspection.tasks.follow_up_reminders", "schedule": 3600.0},
    # The audit chain's head, recorded (in the database and, signed, in the witness folder) every hour, and
    # emailed to the supervisors once a day (local time).
    "audit-checkpoint": {
        "task": "inspection.tasks.audit_checkpoint",
        "schedule": crontab(hour="1-23", minute=15),
        "kwargs": {"email": False},
    },
    "audit-checkpoint-emailed": {"task": "inspection.tasks.audit_checkpoint", "schedule": crontab(hour=0, minute=15)},
    # Refused lab posts older than PIF_LAB_SUBMISSION_RETENTION_DAYS, deleted once a day.
    "lab-submissions-purge": {
        "task": "inspection.tasks.lab_submissions_purge_old",
        "schedule": crontab(hour=0, minute=45),
    },
    # The outbox: emails and webhook posts whose first send failed or never reached the broker.
    "deliveries-resend": {"task": "inspection.tasks.deliveries_resend", "schedule": 60.0},
    # The ePhyto hub's tracking info of the envelopes it took: acknowledged by the importing country, or failed.
    "hub-poll": {"task": "inspection.tasks.hub_deliveries_poll", "schedule": PIF_IPPC_HUB_POLL_SECONDS},
    # Files no row records (left by a process that died mid-transaction), and old idempotency keys.
    "files-sweep": {"task": "inspection.tasks.files_sweep", "schedule": crontab(hour=1, minute=15)},
    "idempotency-purge": {"task": "inspection.tasks.idempotent_requests_purge", "schedule": crontab(hour=1, minute=30)},
    # Proves to /healthz that beat sends and a worker runs; expires so a returning worker skips the backlog.
    "heartbeat": {
        "task": "inspection.tasks.heartbeat",
        "schedule": PIF_HEARTBEAT_SECONDS,
        "options": {"expires": PIF_HEARTBEAT_SECONDS},
    },
}

# Reverse proxies in front of the site that each append the client's address to X-Forwarded-For (0: clients
# connect directly, and their address is REMOTE_ADDR). The rate limits and the login lockout count per
# address: with more trust than there are proxies, a client picks its own address and escapes every limit.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("TRUSTED_PROXIES must be 0 or the number of proxies in front of the site.")

# Login lockout (django-axes): failures counted per account and address together, never per address alone
# (a BCP's tablets share one address); the failures are forgotten after the cool-off or a successful login.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "inspection.login_lockout.client_address"
AXES_LOCKOUT_CALLABLE = "inspection.login_lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False  # no banner on every manage.py command
# Days a key from `POST /api/v1/auth/token/` stays valid (the portal's tokens last until revoked).
API_LOGIN_TOKEN_DAYS = env.int("API_LOGIN_TOKEN_DAYS", default=30)
if API_LOGIN_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("API_LOGIN_TOKEN_DAYS must be 1 or more.")

REST_FRAMEWORK = {
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inspection.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "inspection.api.schema.ContractAutoSchema",
    "EXCEPTION_HANDLER": "inspection.api.errors.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON nested deeper than any real payload is a 400, never a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "inspection.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "inspection.api.authentication.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        # The public certificate check, per client address.
        "verify": env.str("VERIFY_THROTTLE", default="30/min"),
        "token": env.str("API_THROTTLE_TOKEN", default="600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PIF Martinique API",
    "DESCRIPTION": "Pre-notification of consignments (CHED Part I), progress, documents and lab results.",
    # The API's version, named by `GET /api/v1/` too; a breaking change bumps its major (CHANGELOG.md).
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Logs go to stdout: one JSON object a line when DEBUG is off (for a log collector), plain text in development;
# each record carries the request id (inspection/observability/request_id.py). LOG_FORMAT=json|text overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "inspection.observability.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every rendering step at INFO; its warnings (a missing font, a refused URL) still show.
    "loggers": {"weasyprint": {"level": "WARNING"}},
}

# /metrics answers the machine itself, or a scraper sending `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Error reports to Sentry (or a compatible service) when a DSN is set; nothing is sent otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,  # importers' names and addresses stay here
    )

# Domain settings.
PIF_COUNTRY = "FR"  # the member state of the post
# The series of the CHED numbers this service gives (`CHEDPP.<series>.2026.0000123`): our own, so that they never
# collide with TRACES NT's, whose series is a member state's code (docs/regulation.md, section 11).
PIF_REFERENCE_SERIES = env.str("PIF_REFERENCE_SERIES", default="MQ")
_MEMBER_STATES = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI".split()
if not re.fullmatch(r"[A-Z0-9]{2,4}", PIF_REFERENCE_SERIES) or PIF_REFERENCE_SERIES in _MEMBER_STATES:
    raise ImproperlyConfigured(
        "PIF_REFERENCE_SERIES must be 2 to 4 capital letters or digits, and not a member state's code (TRACES NT's "
        "series): e.g. MQ."
    )
# How CHEDs reach TRACES NT (docs/decisions/0016-traces-exchange.md): the dotted path of a transport class;
# under DEBUG (the demo) and in the tests the default is the local double (it stores what it receives and answers a
# TRACES-like CHED number); otherwise, and when empty, no exchange is written at all: a production post must not
# record numbers that TRACES NT never gave, so it names a real transport or records TRACES NT's number by hand.
PIF_TRACES_TRANSPORT = env.str("PIF_TRACES_TRANSPORT", default="inspection.traces.LocalTracesDouble" if DEBUG else "")
# The local doubles of the IPPC hub and TRACES NT (PIF_IPPC_HUB_DOUBLE, PIF_TRACES_TRANSPORT's LocalTracesDouble)
# are refused with DEBUG off (system checks pif.E001, pif.E002; `python -m pif.prod`) unless this says they are
# meant: the tests set it.
PIF_ALLOW_TEST_DOUBLES = env.bool("PIF_ALLOW_TEST_DOUBLES", default=False)
PIF_HEALTHZ_BROKER_TIMEOUT = env.float("PIF_HEALTHZ_BROKER_TIMEOUT", default=2.0)
