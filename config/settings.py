"""Settings for paperfeed.

Every value a deployment may change comes from the environment (see the README's
configuration table). The defaults suit development; with DEBUG off the site refuses
to start until it has a real secret key.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default while DEBUG is off. "
        "Set SECRET_KEY to a long random string, for example the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The right-hand side of digest Message-IDs.
MESSAGE_ID_DOMAIN = env("MESSAGE_ID_DOMAIN", default=SITE_URL.split("://", 1)[-1].split(":")[0])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "accounts",
    "papers",
    "digest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context.login_url",
            ],
        },
    },
]

# PostgreSQL is the only engine: search, upserts and row locking depend on it.
# `make run` / `make test` export an embedded server's URL when none is given.
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/paperfeed")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "paperfeed",
    }
}

AUTH_USER_MODEL = "accounts.User"
# allauth's backend is a ModelBackend (permissions included) that signs in by e-mail;
# a second backend would only hash every wrong password twice.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_URL.split(":", 1)[0]
# The sign-up form also records the reader's time zone and starts their preferences.
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# One address per reader: "add an address" becomes "change your address", and the old
# one is dropped only once the new one is verified.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
# Verifying in the browser that signed up signs the reader in: one step fewer.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A taken address is said so on the form (sign-up, change of address, password reset)
# instead of in a mail to its owner: readers are told what to do where they are. The
# rate limits below keep anyone from harvesting addresses that way at speed.
ACCOUNT_PREVENT_ENUMERATION = False
# Failed sign-ins: 5 per address in 5 minutes, 10 a minute per IP. The admin signs in
# through allauth too (config/urls.py), so these cover every way in.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[paperfeed] "
# Tell the reader by mail when their password or address changes, so that a change they
# did not make does not go unnoticed.
ACCOUNT_EMAIL_NOTIFICATIONS = True

LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail: printed to the console until an SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="paperfeed <paperfeed@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security: on by default whenever DEBUG is off; each can be relaxed explicitly
# (for example SECURE_SSL_REDIRECT=false behind a plain-HTTP test proxy).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Celery: the broker and result backend are the same Redis as the cache.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# With acks_late, Redis hands a task that is still unacknowledged after this many seconds
# to another worker. Its default (1 hour) is shorter than a large import, which was then
# started a second time; it must outlast the longest task. Celery asks for the same value
# in all three places. A task lost to a killed worker waits this long to be redelivered.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=12 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A personal token (Authorization: Bearer …) for programs; the session, with its
    # CSRF check, for the site's own pages and the docs page.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies; the endpoints that take a file accept multipart/form-data themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "config.api.paging.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "config.api.errors.handle_exception",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttling.AnonymousThrottle",
        "config.api.throttling.ReaderThrottle",
    ],
    # Proxies in front whose X-Forwarded-For is believed when counting an anonymous
    # client's calls; 0 counts by the connecting address, which a client cannot forge.
    "NUM_PROXIES": env.int("API_TRUSTED_PROXIES", default=0),
}
# API calls allowed per anonymous address and per signed-in reader ("N/second|minute|
# hour|day"); past them, 429 with Retry-After.
API_RATE_ANONYMOUS = env("API_RATE_ANONYMOUS", default="120/minute")
API_RATE_READER = env("API_RATE_READER", default="1200/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "paperfeed API",
    "DESCRIPTION": (
        "Research papers, tags, authors, reading lists and digests. Sign in with the "
        "site's session, or send a personal token made on your preferences page as "
        "`Authorization: Bearer <token>`. Lists come in cursor pages: follow `next`. "
        'Every error is `{"error": {"status", "code", "message", "fields"?}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several fields are called "status"; each set of values gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "ReadingStatusEnum": "papers.models.ListItem.Status",
        "TagReviewEnum": ["suggested", "confirmed"],
        "DigestStatusEnum": "digest.models.Digest.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_error_responses",
    ],
}

PAPERS_PER_PAGE = env.int("PAPERS_PER_PAGE", default=20)
# Related papers chosen for each paper (papers.related).
RELATED_PAPERS = env.int("RELATED_PAPERS", default=6)
# Papers in each RSS/Atom feed: the newest ones.
FEED_ITEMS = env.int("FEED_ITEMS", default=50)
# How long ranked search results, list sizes and charts are kept (imports renew them).
RESULTS_CACHE_SECONDS = env.int("RESULTS_CACHE_SECONDS", default=600)
# How long a signed-out visitor's copy of a page is kept (an import renews it at once).
VISITOR_CACHE_SECONDS = env.int("VISITOR_CACHE_SECONDS", default=60)
# Searches rank this many papers at most; a reader narrows a broader one with filters.
MAX_RESULTS = env.int("MAX_RESULTS", default=1000)
# Trending ranks the papers listed in this many days up to the newest listing day.
TRENDING_DAYS = env.int("TRENDING_DAYS", default=30)

# Digests (digest/). The dispatcher runs every few minutes and claims due readers in
# batches of this many; a worker that stops sending one leaves it to another after the lease.
DIGEST_DISPATCH_BATCH = env.int("DIGEST_DISPATCH_BATCH", default=1000)
DIGEST_LEASE_SECONDS = env.int("DIGEST_LEASE_SECONDS", default=300)
# The Celery queue of the sending tasks: a worker of its own (-Q) keeps big imports
# from delaying digests.
DIGEST_QUEUE = env("DIGEST_QUEUE", default="celery")
# Digests sent by one task, over one SMTP connection.
DIGEST_SEND_BATCH = env.int("DIGEST_SEND_BATCH", default=50)
# A digest whose transient SMTP errors outlast this many attempts is recorded as failed.
DIGEST_MAX_ATTEMPTS = env.int("DIGEST_MAX_ATTEMPTS", default=5)
# After this many refusals in a row, a reader's digests pause until they change settings.
DIGEST_BOUNCE_LIMIT = env.int("DIGEST_BOUNCE_LIMIT", default=3)
# How long the one-click links of a digest e-mail work.
DIGEST_LINK_DAYS = env.int("DIGEST_LINK_DAYS", default=60)
# The first digest looks this far back; none looks back further than the longest period.
DIGEST_MAX_LOOKBACK_DAYS = env.int("DIGEST_MAX_LOOKBACK_DAYS", default=14)
# Messages sent over one SMTP connection before it is renewed (servers limit it).
DIGEST_MESSAGES_PER_CONNECTION = env.int("DIGEST_MESSAGES_PER_CONNECTION", default=100)
# Messages a worker hands over together, one SMTP connection each, with one durable
# commit for them all (digest/sending.py). Mail servers commonly take dozens of
# connections from one client (Postfix: 50).
DIGEST_SMTP_CONNECTIONS = env.int("DIGEST_SMTP_CONNECTIONS", default=8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # bibtexparser warns of every broken entry; the import reports each one already.
    "loggers": {"bibtexparser": {"level": "ERROR"}},
}

# Remote sources. arXiv asks for one request every 3 seconds, one connection at a time.
FETCH_CONTACT_EMAIL = env("FETCH_CONTACT_EMAIL", default="paperfeed@localhost")
FETCH_TIMEOUT = env.float("FETCH_TIMEOUT", default=60.0)
FETCH_RETRIES = env.int("FETCH_RETRIES", default=4)
FETCH_BACKOFF = env.float("FETCH_BACKOFF", default=2.0)
FETCH_MAX_BYTES = env.int("FETCH_MAX_BYTES", default=100 * 1024 * 1024)
ARXIV_MIN_INTERVAL = env.float("ARXIV_MIN_INTERVAL", default=3.0)
ARXIV_API_URL = env("ARXIV_API_URL", default="https://export.arxiv.org/api/query")
ARXIV_OAI_URL = env("ARXIV_OAI_URL", default="https://oaipmh.arxiv.org/oai")
HF_DAILY_URL = env("HF_DAILY_URL", default="https://huggingface.co/api/daily_papers")
HF_MIN_INTERVAL = env.float("HF_MIN_INTERVAL", default=1.0)
# Networks a curator may import from by URL although they are not public (e.g. an
# intranet mirror), as CIDR strings. Everything local or private is refused otherwise.
IMPORT_URL_ALLOWED_NETWORKS = env.list("IMPORT_URL_ALLOWED_NETWORKS", default=[])
IMPORT_MAX_UPLOAD = env.int("IMPORT_MAX_UPLOAD", default=50 * 1024 * 1024)
