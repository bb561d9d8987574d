"""Base settings, read from the environment (django-environ).

With nothing set the catalog runs embedded: SQLite in ./data, Celery tasks in-process, media on local disk.
Set DATABASE_URL and CELERY_BROKER_URL to use PostgreSQL and Redis. Every variable is listed in .env.example.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file beside manage.py is read when present; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env("CATALOG_DATA_DIR", default=str(BASE_DIR / "data")))

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-only-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "catalog",
    "ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "catalog.middleware.RejectNulBytesMiddleware",
    "catalog.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# A private catalog: every page needs a login (Django's LoginRequiredMiddleware). Off by default.
CATALOG_PRIVATE = env.bool("CATALOG_PRIVATE", default=False)
if CATALOG_PRIVATE:
    MIDDLEWARE.append("catalog.middleware.CatalogLoginRequiredMiddleware")
# The catalog's own sign-in page, for any active user; the admin's is for staff alone.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
SESSION_ENGINE = "catalog.sessions"  # refuses malformed session cookies before they reach the database

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
                "catalog.context_processors.catalog",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'catalog.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its database in DATA_DIR: make sure the folder exists on a fresh clone.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite keeps the sort indexes without their INCLUDE columns, which only PostgreSQL's index-only walks read
    # (catalog.models.SORT_INDEX_INCLUDE): as intended, so its warning is not shown at every `make run`.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://catalog")}
# With Redis: django-redis, which turns a stopped Redis into cache misses (IGNORE_EXCEPTIONS) instead of every
# page answering 500, and gives up on it within half a second.
REDIS_CACHE_OPTIONS = {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "django_redis.cache.RedisCache"
    CACHES["default"]["OPTIONS"] = {**REDIS_CACHE_OPTIONS, **CACHES["default"].get("OPTIONS", {})}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # a stopped Redis is logged, not hidden

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
# The pages and the admin speak English only (there is no LocaleMiddleware). With translation on, every reverse(),
# number and date format asked thread-local storage for the active language: 9% of a list page's instructions.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Serve MEDIA_ROOT from Django itself (fine for one host); turn off when a web server or S3 serves media.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media on S3-compatible storage (scale-out): set AWS_STORAGE_BUCKET_NAME and install the "s3" extra.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
    AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=False)

# --- Celery -------------------------------------------------------------------------------------------
# With no broker configured, tasks run in-process (eager) so the embedded catalog needs no Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = TIME_ZONE
# When the broker is down, sending a task gives up within about two seconds, so the API can answer 503.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# --- Ingest -------------------------------------------------------------------------------------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# Items an ingest run writes together: unchanged ones are told apart in one query, new models go in together.
INGEST_BATCH_SIZE = env.int("INGEST_BATCH_SIZE", default=500)
CIVITAI_BASE_URL = env("CIVITAI_BASE_URL", default="https://civitai.com")
CIVITAI_API_KEY = env("CIVITAI_API_KEY", default="")
HF_ENDPOINT = env("HF_ENDPOINT", default="https://huggingface.co")
HF_TOKEN = env("HF_TOKEN", default="")
INGEST_ALLOWED_HOSTS = env.list(
    "INGEST_ALLOWED_HOSTS",
    default=[
        "civitai.com",
        "api.civitai.com",
        "image.civitai.com",
        "imagecache.civitai.com",
        "huggingface.co",
        "cdn-lfs.huggingface.co",
        "cdn-lfs.hf.co",
    ],
)
INGEST_TIMEOUT_SECONDS = env.float("INGEST_TIMEOUT_SECONDS", default=20.0)
# The first wait before retrying a failed fetch; each retry waits twice as long (with jitter), 20 s at most.
INGEST_RETRY_BASE_SECONDS = env.float("INGEST_RETRY_BASE_SECONDS", default=0.5)
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=32 * 1024 * 1024)
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=20 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
IMAGE_THUMBNAIL_SIZE = env.int("IMAGE_THUMBNAIL_SIZE", default=450)
# Until an image is mirrored, pages show the source's own thumbnail from these hosts (Civitai's width=450 copy);
# the Content-Security-Policy allows exactly them. REMOTE_THUMBNAILS=false: no remote image is ever shown (a
# visitor's browser asks no other site), only the blurhash.
REMOTE_THUMBNAILS = env.bool("REMOTE_THUMBNAILS", default=True)
REMOTE_THUMBNAIL_HOSTS = env.list(
    "REMOTE_THUMBNAIL_HOSTS", default=["image.civitai.com", "imagecache.civitai.com"]
)
SYNC_INTERVAL_HOURS = env.float("SYNC_INTERVAL_HOURS", default=24.0)
# Mirror sample images as models are ingested. On by default when a worker does the work (a broker is set);
# in-process, `manage.py mirror_images` does it when asked.
IMAGE_MIRROR_ON_INGEST = env.bool("IMAGE_MIRROR_ON_INGEST", default=bool(CELERY_BROKER_URL))
CELERY_BEAT_SCHEDULE = {
    "sync-due-models": {"task": "ingest.tasks.sync_due_models_task", "schedule": 15 * 60},
    "retry-images": {"task": "ingest.tasks.images_retry_task", "schedule": 60 * 60},
}

# --- REST framework -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "catalog.api.authentication.StrictTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # The API takes JSON bodies only, of API_MAX_BODY_BYTES at most (uploads go through the admin).
    "DEFAULT_PARSER_CLASSES": ["catalog.api.parsers.BoundedJSONParser"],
    # DRF's JSON, written by orjson (catalog/api/renderers.py); the browsable API as DRF has it.
    "DEFAULT_RENDERER_CLASSES": [
        "catalog.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "catalog.api.schema.CatalogAutoSchema",
    "EXCEPTION_HANDLER": "catalog.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env("API_ANON_RATE", default="120/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Catalog API",
    "DESCRIPTION": "A self-hosted catalog of Stable Diffusion models.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
