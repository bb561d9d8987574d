"""Shared fixtures: the corpus beside the checkout, and records built from it."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


# The parsers' property tests run FUZZ_SCALE times their usual examples: `make fuzz` runs them long.
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus: real Civitai and HuggingFace data. It lies beside the checkout on every machine."""
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is not at {CORPUS}: tests read it from beside the checkout")
    return CORPUS


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts with an empty cache: cached facets of one test's catalog must not leak into the next."""
    from django.core.cache import cache

    cache.clear()


def admin_action(client, action: str, models, **extra):
    """An admin's bulk action on these models from the model changelist, as the admin's form posts it."""
    from django.urls import reverse

    return client.post(
        reverse("admin:catalog_model_changelist"),
        {"action": action, "_selected_action": [m.pk for m in models], **extra},
        follow=True,
    )


def admin_history(model) -> list[str]:
    """The change messages of a model's admin History, oldest first."""
    from django.contrib.admin.models import CHANGE, LogEntry

    return list(
        LogEntry.objects.filter(object_id=str(model.pk), action_flag=CHANGE)
        .order_by("pk")
        .values_list("change_message", flat=True)
    )


def redis_cache_settings(location: str) -> dict:
    """CACHES for the catalog's Redis cache (as the settings make it from a redis CACHE_URL) at `location`."""
    from django.conf import settings

    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }


@pytest.fixture
def mirror_pages(corpus: Path) -> list[Path]:
    return sorted((corpus / "mirror-pages").glob("*.md"))


def load_json(path: Path) -> object:
    return json.loads(path.read_text())


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres run only when the suite runs on PostgreSQL."""
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def vendor() -> str:
    return connection.vendor


@contextmanager
def celery_broker(url: str, queue: str | None = None):
    """Point this process's Celery app at a real broker (tasks are sent, not run here) for a block."""
    from config.celery import app

    # The app reads Django settings under the CELERY_ namespace: those keys are the ones that count.
    keys = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_DEFAULT_QUEUE")
    saved = {k: app.conf.get(k) for k in keys}
    _celery_reset(app)
    app.conf.update(dict(zip(keys, (url, False, queue or "celery"), strict=True)))
    assert (app.conf.broker_url, app.conf.task_always_eager) == (url, False)
    try:
        yield app
    finally:
        _celery_reset(app)
        app.conf.update(saved)


def _celery_reset(app) -> None:
    """Drop the app's broker connections, so the next send connects with the current configuration."""
    import kombu.pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()  # kombu keeps producer pools per connection globally; closed ones must not be reused


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """The loopback stand-in listens on 127.0.0.1, the address the allow-list names in tests."""
    return ("127.0.0.1", 0)


@pytest.fixture
def standin(settings, httpserver):
    """A loopback HTTP server standing in for Civitai and HuggingFace (both base URLs point at it)."""
    base = httpserver.url_for("").rstrip("/")
    settings.CIVITAI_BASE_URL = base
    settings.HF_ENDPOINT = base
    settings.INGEST_ALLOWED_HOSTS = ["127.0.0.1"]
    return httpserver


@pytest.fixture
def token_api(db):
    """A DRF client that authenticates with an API token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user("robot", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """One headless chromium (Debian's, never a downloaded one) for the whole run, driven by Playwright."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium is not at {CHROMIUM}: apt-get install chromium")
        pytest.skip(f"chromium is not at {CHROMIUM} (apt-get install chromium); CI runs these")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable from it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
