"""/api/v1/ takes Civitai's parameters with Civitai's meaning, and answers every error in Civitai's JSON shape."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import ModelFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def ids(client, **params) -> set[int]:
    response = client.get("/api/v1/models", params)
    assert response.status_code == 200, response.content
    return {m["id"] for m in response.json()["items"]}


def test_nsfw_true_means_every_level_and_absent_or_false_means_safe_for_work(client) -> None:
    safe = ModelFactory(nsfw=False).civitai_id
    mature = ModelFactory(nsfw=True).civitai_id
    assert ids(client) == {safe}
    assert ids(client, nsfw="false") == {safe}
    assert ids(client, nsfw="true") == {safe, mature}
    # The search pages the same way.
    assert ids(client, nsfw="true", query="model") == {safe, mature}
    assert ids(client, query="model") == {safe}


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/v1/models/abc", 400, "Invalid id: 'abc'; expected a whole number"),
        ("/api/v1/model-versions/x1", 400, "Invalid id: 'x1'; expected a whole number"),
        ("/api/v1/models/999999", 404, "No model with id 999999"),
        ("/api/v1/nothing-here", 404, "Not found: /api/v1/nothing-here"),
        ("/api/v1/models/1/extra", 404, "Not found: /api/v1/models/1/extra"),
    ],
)
def test_every_error_is_civitai_json(client, debug: bool, url: str, status: int, message: str) -> None:
    with override_settings(DEBUG=debug):
        response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": message}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"types": "Nope"}, "types: unknown value 'Nope'"),
        ({"types": ["LORA", "Nope"]}, "types: unknown value 'Nope'"),
        ({"baseModels": "SD 9.9"}, "baseModels: unknown value 'SD 9.9'"),
        ({"sort": "Loudest"}, "sort: one of"),
        ({"period": "Century"}, "period: one of"),
        ({"allowCommercialUse": "Always"}, "allowCommercialUse: one of"),
        ({"nsfw": "maybe"}, "nsfw: expected true or false"),
    ],
)
def test_unknown_enum_values_are_a_400_naming_them(client, params: dict, named: str) -> None:
    ModelFactory()
    response = client.get("/api/v1/models", params)
    assert response.status_code == 400
    assert response.json()["error"].startswith(named)


def test_values_the_catalog_holds_are_taken_though_civitai_never_listed_them(client) -> None:
    newer = ModelFactory(type="Voices")  # a type from a newer source, stored as it came
    ModelVersionFactory(model=newer, base_model="Flux.2 Pro")
    assert ids(client, types="Voices") == {newer.civitai_id}
    assert ids(client, baseModels="Flux.2 Pro") == {newer.civitai_id}
    assert ids(client, types="Checkpoint") == set()  # Civitai's own value: valid, matching nothing here


@pytest.mark.django_db(transaction=True)
def test_the_catalogs_own_crawler_brings_every_model_from_another_catalog(live_server, settings) -> None:
    """The crawler asks with nsfw=true, as it asks Civitai: from a catalog that does as Civitai does, it gets
    the NSFW models too."""
    from ingest.fetchers import Fetcher, crawl_civitai

    safe, mature = ModelFactory(name="Safe one", nsfw=False), ModelFactory(name="Mature one", nsfw=True)
    settings.CIVITAI_BASE_URL = live_server.url.replace("localhost", "127.0.0.1")
    settings.INGEST_ALLOWED_HOSTS = ["127.0.0.1"]
    with Fetcher() as fetcher:
        crawled = [record for _, record in crawl_civitai(fetcher, {}, limit=None)]
    assert sorted(record.civitai_id for record in crawled) == sorted([safe.civitai_id, mature.civitai_id])
    assert {record.name: record.nsfw for record in crawled} == {"Safe one": False, "Mature one": True}


def test_throttled_and_unauthenticated_answers_are_civitai_json_too(client, settings, monkeypatch) -> None:
    from rest_framework.throttling import AnonRateThrottle

    ModelFactory()
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/minute"})
    assert client.get("/api/v1/models").status_code == 200
    throttled = client.get("/api/v1/models")
    assert throttled.status_code == 429
    assert throttled.json()["error"].startswith("Request was throttled.")
    assert client.get("/api/models/").json()["detail"].startswith("Request was throttled.")  # DRF's own shape
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1000/minute"})
    settings.CATALOG_PRIVATE = True
    private = client.get("/api/v1/models")
    assert private.status_code == 401
    assert private.json() == {"error": "Authentication credentials were not provided."}


def test_a_server_error_under_api_v1_is_civitai_json(rf) -> None:
    import json

    from catalog.views import server_error

    response = server_error(rf.get("/api/v1/models"))
    assert (response.status_code, json.loads(response.content)) == (
        500,
        {"error": "Server error; it was logged."},
    )
