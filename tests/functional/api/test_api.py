"""The catalog's own API under /api/: every endpoint, filter, sort and error."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog.models import IngestRun, Model, SourceRecord
from catalog.services import model_search_text_refresh
from tests.conftest import CORPUS, celery_broker
from tests.factories import (
    ImageFactory,
    ModelFactory,
    ModelFileFactory,
    ModelVersionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["name"] for m in response.json()["results"]]


@pytest.fixture
def catalog():
    anime = TagFactory(name="anime")
    ink = ModelFactory(name="Inkwash", type="LORA", download_count=10, favorite_count=5, rating=4.5,
                       allow_commercial_image=False, allow_commercial_rent_civit=False, allow_commercial_rent=False,
                       allow_commercial_sell=False, allow_no_credit=False)  # fmt: skip
    ink.tags.add(anime)
    ink_v = ModelVersionFactory(model=ink, base_model="SD 1.5")
    ModelFileFactory(version=ink_v, hash_sha256="A" * 64, hash_autov2="A" * 10)
    aurora = ModelFactory(name="Aurora", type="Checkpoint", download_count=90, favorite_count=1, rating=3.0,
                          nsfw=True, image_count=3, availability="archived", allow_commercial_image=True,
                          allow_no_credit=True)  # fmt: skip
    ModelVersionFactory(model=aurora, base_model="SDXL 1.0")
    SourceRecord.objects.create(model=aurora, provider="mirror", external_id="p1")
    ModelFactory(name="Secret", hidden=True, download_count=1000)
    for model in Model.objects.all():
        model_search_text_refresh(model)  # what the writer does after an ingest
    return {"ink": ink, "aurora": aurora}


def test_models_list_and_sorts(api, catalog) -> None:
    assert names(api.get("/api/models/")) == ["Aurora", "Inkwash"]  # most downloaded by default; hidden never
    assert names(api.get("/api/models/", {"sort": "favorites"})) == ["Inkwash", "Aurora"]
    assert names(api.get("/api/models/", {"sort": "rating"})) == ["Inkwash", "Aurora"]
    assert names(api.get("/api/models/", {"sort": "images"})) == ["Aurora", "Inkwash"]
    assert names(api.get("/api/models/", {"sort": "name"})) == ["Aurora", "Inkwash"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "LORA"}, ["Inkwash"]),
        ({"type": ["LORA", "Checkpoint"]}, ["Aurora", "Inkwash"]),
        ({"base_model": "SDXL 1.0"}, ["Aurora"]),
        ({"tag": "ANIME"}, ["Inkwash"]),
        ({"exclude_tag": "anime"}, ["Aurora"]),
        ({"provider": "mirror"}, ["Aurora"]),
        ({"commercial_use": "true"}, ["Aurora"]),
        ({"commercial_use": "false"}, ["Inkwash"]),
        ({"no_credit": "false"}, ["Inkwash"]),
        ({"nsfw": "false"}, ["Inkwash"]),
        ({"availability": "archived"}, ["Aurora"]),
        ({"query": "ink"}, ["Inkwash"]),
        ({"query": "anime"}, ["Inkwash"]),
        ({"query": "a" * 10}, ["Inkwash"]),  # an AutoV2, any case
        ({"query": "nothing-like-it"}, []),
        ({"query": "SD 1.5"}, ["Inkwash"]),  # a base model, through the search text
    ],
)
def test_model_filters(api, catalog, params, expected) -> None:
    assert names(api.get("/api/models/", params)) == expected


def test_creator_filter(api, catalog) -> None:
    assert names(api.get("/api/models/", {"creator": catalog["ink"].creator.username.upper()})) == ["Inkwash"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "best"}, "sort"), ({"nsfw": "perhaps"}, "nsfw"), ({"provider": "ftp"}, "provider"),
     ({"limit": "many"}, "limit"), ({"limit": "1000"}, "limit"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_parameters_are_400_naming_them(api, catalog, params, field) -> None:
    response = api.get("/api/models/", params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("url", ["/api/models/?cursor=garbage", "/api/versions/?cursor=garbage"])
def test_a_cursor_this_api_never_gave_out_is_drfs_404(api, catalog, url) -> None:
    response = api.get(url)
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})


def test_cursor_pagination_reaches_every_model_once(api) -> None:
    made = {ModelFactory(download_count=n % 4).name for n in range(23)}
    seen, url = [], "/api/models/?limit=5&sort=downloads"
    while url:
        body = api.get(url).json()
        seen += [m["name"] for m in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made)


def test_model_detail_has_versions_files_images(api, catalog) -> None:
    ink = catalog["ink"]
    ImageFactory(version=ink.versions.get(), prompt="a crane in reeds", seed="18446744073709551615")
    body = api.get(f"/api/models/{ink.pk}/").json()
    assert body["name"] == "Inkwash" and body["tags"] == ["anime"]
    assert body["creator"]["username"] == ink.creator.username
    (version,) = body["versions"]
    assert version["base_model"] == "SD 1.5"
    assert version["files"][0]["hashes"]["SHA256"] == "A" * 64
    assert version["images"][0]["prompt"] == "a crane in reeds"
    assert version["images"][0]["seed"] == "18446744073709551615"
    hidden = ModelFactory(hidden=True)
    assert api.get(f"/api/models/{hidden.pk}/").json() == {"detail": f"No model {hidden.pk}."}
    for pk in ("0", str(2**63), "99999999999999999999999", "inkwash", "12abc"):
        response = api.get(f"/api/models/{pk}/")
        assert response.status_code == 404 and response.json()["detail"].startswith("No model"), pk


def test_versions_files_images_tags_creators(api, catalog) -> None:
    ink = catalog["ink"]
    assert api.get("/api/versions/", {"model": ink.pk}).json()["results"][0]["model"] == ink.pk
    assert api.get("/api/versions/", {"model": "x"}).status_code == 400
    assert len(api.get("/api/files/").json()["results"]) == 1
    image = ImageFactory(version=ink.versions.get())
    assert api.get("/api/images/", {"version": image.version_id}).json()["results"][0]["id"] == image.pk
    assert [t["name"] for t in api.get("/api/tags/").json()["results"]] == ["anime"]
    assert len(api.get("/api/creators/").json()["results"]) == 3


def test_hash_lookup_any_kind_any_case(api, catalog) -> None:
    file = catalog["ink"].versions.get().files.get()
    for value in ("a" * 64, "A" * 10, file.hash_crc32.lower()):
        response = api.get(f"/api/files/by-hash/{value}/")
        assert response.status_code == 200, value
        assert [f["id"] for f in response.json()] == [file.pk]
    twin = ModelFileFactory(hash_sha256="A" * 64)
    assert [f["id"] for f in api.get(f"/api/files/by-hash/{'A' * 64}/").json()] == [file.pk, twin.pk]
    assert api.get("/api/files/by-hash/zzz/").status_code == 400
    missing = api.get(f"/api/files/by-hash/{'B' * 64}/")
    assert missing.status_code == 404 and "No file has the hash" in missing.json()["detail"]


@pytest.mark.parametrize("sort", ["", "downloads", "newest", "rating"])
def test_a_search_for_a_files_hash_finds_its_model_in_every_order(api, catalog, sort) -> None:
    """Searched by relevance or in a sort, a file's hash finds its model, whose search text does not hold it
    (on PostgreSQL, the hash's branch passes filters._priced's priced match too)."""
    for value in ("A" * 64, "a" * 10):
        params = {"query": value, **({"sort": sort} if sort else {})}
        assert names(api.get("/api/models/", params)) == ["Inkwash"], value
    assert names(api.get("/api/models/", {"query": "B" * 64, "sort": sort or "downloads"})) == []


def test_bulk_hash_lookup_in_one_query(api, catalog) -> None:
    file = catalog["ink"].versions.get().files.get()
    hashes = ["a" * 64, "B" * 10, file.hash_crc32]
    with CaptureQueriesContext(connection) as ctx:
        response = api.post("/api/files/by-hash/", {"hashes": hashes}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [f["id"] for f in results["A" * 64]] == [file.pk]
    assert results["B" * 10] == []
    assert [f["id"] for f in results[file.hash_crc32]] == [file.pk]
    assert len(ctx.captured_queries) == 1
    too_many = api.post("/api/files/by-hash/", {"hashes": ["A" * 10] * 1001}, format="json")
    assert too_many.status_code == 400 and "hashes" in too_many.json()
    assert api.post("/api/files/by-hash/", {"hashes": ["xyz"]}, format="json").status_code == 400


def test_ingest_needs_a_token_or_an_admin(
    api, token_api, django_capture_on_commit_callbacks, standin, settings
) -> None:
    assert api.post("/api/ingest", {"sources": ["x"]}, format="json").status_code == 401
    assert api.get("/api/ingest-runs/").status_code == 401
    page = f"{settings.CIVITAI_BASE_URL}/models/52645"
    moto = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"
    standin.expect_request("/api/v1/models/52645").respond_with_data(
        moto.read_bytes(), content_type="application/json"
    )
    response = token_api.post("/api/ingest", {"sources": [page]}, format="json")
    assert response.status_code == 202, response.content
    run = IngestRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded"  # eager in tests: it ran before the answer
    assert token_api.get("/api/ingest-runs/").json()["results"][0]["id"] == run.pk
    assert token_api.get(f"/api/ingest-runs/{run.pk}/").json()["status"] == "succeeded"
    admin = get_user_model().objects.create_superuser("boss", "b@example.org", "pw")
    session = APIClient()
    session.force_login(admin)
    assert session.post("/api/ingest/", {"sources": [page]}, format="json").status_code == 202


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [("{not json", "application/json", "detail"), ('{"sources": "x"}', "application/json", "sources"),
     ('{"sources": []}', "application/json", "sources"), ('{"sources": [1, {"a": 2}]}', "application/json", "sources"),
     ("{}", "application/json", "sources")],
)  # fmt: skip
def test_ingest_refuses_malformed_bodies(token_api, body, content_type, field) -> None:
    response = token_api.generic("POST", "/api/ingest", body, content_type=content_type)
    assert response.status_code == 400
    assert field in response.json()


def test_ingest_answers_503_when_the_queue_is_down(token_api) -> None:
    with celery_broker("redis://127.0.0.1:9/0"):  # nothing listens on port 9
        response = token_api.post("/api/ingest", {"sources": ["1044"]}, format="json")
    assert response.status_code == 503
    assert "task queue is not reachable" in response.json()["detail"]
    run = IngestRun.objects.get()
    assert run.status == "failed" and "Could not be queued" in run.notes


def test_anonymous_reads_are_throttled(api, catalog, monkeypatch) -> None:
    from django.core.cache import cache
    from rest_framework.throttling import AnonRateThrottle

    cache.clear()
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    answers = [api.get("/api/models/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60  # when the client's minute ends
    assert "Request was throttled" in answers[-1].json()["detail"]
    assert api.get("/api/v1/models").status_code == 429
    other = api.get("/api/models/", REMOTE_ADDR="10.1.2.3")  # another client has its own count
    assert other.status_code == 200


def test_private_catalog_needs_a_login_for_reads(api, token_api, catalog, settings, client) -> None:
    settings.CATALOG_PRIVATE = True
    assert api.get("/api/models/").status_code == 401
    assert api.get("/api/v1/models").status_code == 401
    assert token_api.get("/api/models/").status_code == 200


def test_unknown_api_urls_are_json_404(api) -> None:
    response = api.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found: /api/nothing-here/"}


def test_schema_builds_without_warnings_and_docs_render(api) -> None:
    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/models" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/api/v1/models?query=a%00b", "/api/models/?query=%00", "/api/v1/models?types=%00", "/?query=%00"]
)
def test_nul_bytes_are_400_not_500(api, url) -> None:
    assert api.get(url).status_code == 400


def test_malformed_token_and_session_cookie_are_refused_cleanly(api, catalog) -> None:
    api.credentials(HTTP_AUTHORIZATION="Token bad\x00key")
    assert api.get("/api/models/").status_code == 401
    api.credentials()
    api.cookies["sessionid"] = "abc\x00def-not-a-key"
    assert api.get("/api/models/").status_code == 200


def test_ingest_refuses_an_oversized_body_with_a_message(token_api, api) -> None:
    body = '{"sources": ["' + "x" * 3_000_000 + '"]}'
    response = token_api.generic("POST", "/api/ingest", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"] == f"Request body too large: {len(body)} bytes; at most 1048576 bytes."
    assert IngestRun.objects.count() == 0
    unauthenticated = api.post("/api/ingest", {"sources": ["1044"]}, format="json")
    assert unauthenticated.status_code in (401, 403)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/models?limit=¹", "/api/v1/models?page=²", "/api/v1/models?ids=¹", "/api/models/?limit=³",
     "/api/versions/?model=¹", "/api/images/?version=²"],
)  # fmt: skip
def test_superscript_digits_are_not_numbers(api, url) -> None:
    """str.isdigit() says yes to "¹", int() says no: such a parameter is a 400 naming it, never a 500."""
    response = api.get(url)
    assert response.status_code == 400, response.content


def test_the_schema_tells_the_truth_about_unicode_slugs_and_absent_urls(api) -> None:
    model = ModelFactory(name="万象熔炉 | Anything V5/Ink", slug="万象熔炉-anything-v5ink", civitai_id=9409)
    version = ModelVersionFactory(model=model, download_url="")
    file = ModelFileFactory(version=version, download_url="")
    components = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    assert components["ModelBrief"]["properties"]["slug"] == {"type": "string", "readOnly": True}
    download_url = components["File"]["properties"]["download_url"]
    assert download_url["format"] == "uri" and download_url["nullable"] is True
    assert api.get("/api/models/").json()["results"][0]["slug"] == "万象熔炉-anything-v5ink"
    assert api.get(f"/api/files/{file.pk}/").json()["download_url"] is None
    assert api.get(f"/api/models/{model.pk}/").json()["versions"][0]["download_url"] is None
