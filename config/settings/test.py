"""Test settings: the base profile with fast hashing, eager tasks and throwaway media.

DATABASE_URL picks the database: PostgreSQL in CI, the embedded SQLite when unset.
"""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="catalog-test-media-"))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute"}}  # noqa: F405
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="catalog-test-static-"))
WHITENOISE_USE_FINDERS = True
IMAGE_MIRROR_ON_INGEST = False
