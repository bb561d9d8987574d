"""Every list endpoint and page runs the same number of SQL queries at two catalog sizes (no N+1)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import IngestRun, Model, SourceRecord
from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db

URLS = [
    "/api/models/?limit=100",
    "/api/models/?limit=100&type=LORA&tag=t0&sort=newest",
    "/api/versions/?limit=100",
    "/api/files/?limit=100",
    "/api/images/?limit=100",
    "/api/tags/?limit=100",
    "/api/creators/?limit=100",
    "/api/ingest-runs/?limit=100",
    "/api/v1/models?limit=100",
    "/api/v1/models?limit=100&types=LORA&sort=Newest",
    "/api/v1/tags?limit=100",
    "/api/v1/creators?limit=100",
    "/",
    "/?type=LORA&sort=rating",
]


def grow(n: int) -> None:
    tags = [TagFactory(name=f"t{i}") for i in range(3)] if not Model.objects.exists() else []
    tags = tags or list(TagFactory._meta.model.objects.all())
    for _ in range(n):
        model = ModelFactory()
        model.tags.set(tags)
        SourceRecord.objects.create(model=model, provider="civitai", external_id=str(model.civitai_id))
        for position in range(2):
            version = ModelVersionFactory(model=model, position=position)
            ModelFileFactory(version=version)
            ModelFileFactory(version=version, is_primary=False)
            ImageFactory(version=version, position=0)
            ImageFactory(version=version, position=1)
        IngestRun.objects.create(kind="ingest", sources=["x"])


def count(client, url: str) -> int:
    cache.clear()  # cold: cached facet counts would hide the queries that compute them
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_catalog(token_api) -> None:
    grow(5)
    small = {url: count(token_api, url) for url in URLS}
    first = Model.objects.order_by("pk").first()
    detail_urls = [f"/api/models/{first.pk}/", f"/api/v1/models/{first.civitai_id}",
                   f"/api/v1/model-versions/{first.versions.first().civitai_id}", first.get_absolute_url()]  # fmt: skip
    small_detail = {url: count(token_api, url) for url in detail_urls}
    grow(25)
    # The detail pages' model gets more versions, files and images too.
    for position in range(2, 8):
        version = ModelVersionFactory(model=first, position=position)
        ModelFileFactory(version=version)
        ImageFactory(version=version)
    large = {url: count(token_api, url) for url in URLS}
    large_detail = {url: count(token_api, url) for url in detail_urls}
    assert large == small
    assert large_detail == small_detail
    assert max(small.values()) <= 12, small
    assert max(small_detail.values()) <= 10, small_detail


def test_facet_counts_are_cached_until_the_catalog_changes(client) -> None:
    from catalog.services import catalog_changed

    grow(3)
    cache.clear()
    cold = count_warm(client, "/")
    warm = count_warm(client, "/")
    assert warm < cold
    catalog_changed()
    assert count_warm(client, "/") == cold


def count_warm(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)
