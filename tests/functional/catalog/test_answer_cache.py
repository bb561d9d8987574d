"""Kept answers (catalog/answer_cache.py): a repeated question is answered from the web process's store until the
catalog changes, and never for someone whose answer could differ."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from catalog.answer_cache import Answer, AnswerStore
from catalog.models import Model
from catalog.services import models_set_hidden
from ingest.images import image_store
from ingest.parsers.civitai import civitai_parse_model
from ingest.writer import model_mark_gone, model_upsert
from tests.conftest import CORPUS, redis_cache_settings
from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db

HEADER = "X-Answer-Cache"


@pytest.fixture
def answers(settings) -> Client:
    """An anonymous client of a site with the answer cache on (the cache here is the process's own)."""
    settings.ANSWER_CACHE = True
    settings.ANSWER_CACHE_SECONDS = 300
    settings.ANSWER_CACHE_MB = 8
    return Client()


def _twice(client: Client, url: str, **headers) -> tuple:
    first, second = client.get(url, headers=headers), client.get(url, headers=headers)
    return first, second


def test_a_repeated_page_is_answered_from_the_store_until_an_ingest_changes_the_catalog(
    answers, django_capture_on_commit_callbacks
) -> None:
    ModelFactory(name="Aurora Landscapes", download_count=10)
    first, second = _twice(answers, "/")
    assert (first.status_code, first[HEADER]) == (200, "miss")
    assert (second.status_code, second[HEADER]) == (200, "hit")
    assert second.content == first.content
    assert "Aurora Landscapes" in second.content.decode()
    # Headers the outer middleware sets are on a kept answer too.
    assert "script-src 'self'" in second["Content-Security-Policy"]
    assert second["Content-Type"] == "text/html; charset=utf-8"

    data = json.loads((CORPUS / "civitai" / "api" / "model_1102_synthwavepunk_2023-02.json").read_text())
    with django_capture_on_commit_callbacks(execute=True):
        model_upsert(civitai_parse_model(data, source="model_1102.json"))
    after = answers.get("/")
    assert after[HEADER] == "miss"
    assert "SynthwavePunk" in after.content.decode()
    assert "Aurora Landscapes" in after.content.decode()


def test_api_answers_are_kept_per_url_and_accept_header(answers) -> None:
    model = ModelFactory(name="Kept in the API")
    ModelFileFactory(version=ModelVersionFactory(model=model))
    for url in ["/api/models/?limit=5", f"/api/models/{model.pk}/", "/api/v1/models?limit=5",
                f"/api/v1/models/{model.civitai_id}", "/api/files/"]:  # fmt: skip
        first, second = _twice(answers, url)
        assert (first[HEADER], second[HEADER]) == ("miss", "hit"), url
        assert second.json() == first.json(), url
    as_json = answers.get("/api/models/?limit=5", headers={"Accept": "application/json"})
    as_html = answers.get("/api/models/?limit=5", headers={"Accept": "text/html"})
    assert as_html[HEADER] == "miss"  # the browsable API is another answer
    assert as_html["Content-Type"].startswith("text/html")
    assert (
        answers.get("/api/models/?limit=5", headers={"Accept": "application/json"}).json() == as_json.json()
    )
    other = answers.get("/api/models/?limit=4")
    assert other[HEADER] == "miss"


def test_curation_in_admin_is_seen_at_once(answers, admin_client, django_capture_on_commit_callbacks) -> None:
    model = ModelFactory(name="Before the edit")
    deleted = ModelFactory(name="Deleted in admin")
    _twice(answers, "/")
    card = model.get_absolute_url()
    assert _twice(answers, card)[1][HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:catalog_model_changelist"), {"action": "hide", "_selected_action": [model.pk]}
        )
    assert response.status_code == 302
    assert "Before the edit" not in answers.get("/").content.decode()
    assert answers.get(card).status_code == 404

    assert "Deleted in admin" in _twice(answers, "/")[1].content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:catalog_model_delete", args=[deleted.pk]), {"post": "yes"})
    assert not Model.objects.filter(pk=deleted.pk).exists()
    assert "Deleted in admin" not in answers.get("/").content.decode()


def test_a_mirrored_image_and_a_model_gone_at_its_source_show_at_once(
    answers, django_capture_on_commit_callbacks
) -> None:
    image = ImageFactory(prompt="a lighthouse at dusk")
    model = image.version.model
    card = model.get_absolute_url()
    assert _twice(answers, card)[1][HEADER] == "hit"
    assert "Image at the source" in answers.get(card).content.decode()
    jpeg = io.BytesIO()
    PILImage.new("RGB", (64, 96), (200, 80, 40)).save(jpeg, "JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        image_store(image, jpeg.getvalue())
    html = answers.get(card).content.decode()
    assert ".webp" in html

    with django_capture_on_commit_callbacks(execute=True):
        assert model_mark_gone(civitai_id=model.civitai_id, status=404) == 1
    assert "Removed" in answers.get(card).content.decode()


def test_answers_differ_by_nsfw_view_and_are_never_kept_for_a_signed_in_admin_or_a_token(
    answers, admin_client, token_api
) -> None:
    ModelFactory(name="Safe model", nsfw=False)
    ModelFactory(name="Spicy model", nsfw=True)
    assert "Spicy model" not in _twice(answers, "/")[1].content.decode()

    shower = Client()
    chose = shower.get("/?nsfw_view=show")  # writes the session: never kept
    assert HEADER not in chose
    assert "Spicy model" in chose.content.decode()
    first, second = _twice(shower, "/")
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    assert "Spicy model" in second.content.decode()
    assert "Spicy model" not in answers.get("/").content.decode()  # the anonymous default is kept apart

    for client in (admin_client, token_api):
        for response in _twice(client, "/api/models/"):
            assert response.status_code == 200
            assert HEADER not in response


def test_pages_that_change_without_the_catalog_are_never_kept(answers) -> None:
    ModelFactory()
    for url in ["/stats/", "/api/schema/"]:
        for response in _twice(answers, url):
            assert response.status_code == 200, url
            assert HEADER not in response, url
    missing = answers.get("/models/999999/x/")
    assert missing.status_code == 404
    assert HEADER in missing and missing[HEADER] == "miss"  # computed, not kept
    assert answers.get("/models/999999/x/")[HEADER] == "miss"


def test_a_cache_that_does_not_answer_still_sees_every_change(
    answers, settings, django_capture_on_commit_callbacks
) -> None:
    """The catalog's version lives in the database: with Redis stopped, pages answer, and a change made since
    an answer was kept is shown."""
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:9/0")  # nothing listens on port 9
    ModelFactory(name="Served while Redis is down", download_count=5)
    for response in _twice(answers, "/"):
        assert response.status_code == 200
        assert "Served while Redis is down" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        models_set_hidden(models=Model.objects.all(), hidden=True)
    assert "Served while Redis is down" not in answers.get("/").content.decode()


def test_the_store_is_bounded_in_bytes_emptied_by_a_new_version_and_ages_answers_out() -> None:
    def answer(size: int) -> Answer:
        return Answer(kept_at=time.monotonic(), status=200, headers=(), content=b"x" * size)

    store = AnswerStore(max_bytes=8_000, max_age=60)
    for n in range(20):
        store.put(1, ("page", n), answer(700))
    assert store.bytes <= 8_000
    assert store.get(1, ("page", 0)) is None  # the least recently used went first
    assert store.get(1, ("page", 19)).content == b"x" * 700
    store.put(1, ("huge",), answer(5_000))  # more than an eighth of the store: not kept
    assert store.get(1, ("huge",)) is None
    assert store.get(2, ("page", 19)) is None  # the catalog changed
    assert (store.bytes, len(store.answers)) == (0, 0)

    store.put(2, ("page",), Answer(kept_at=time.monotonic() - 61, status=200, headers=(), content=b"old"))
    assert store.get(2, ("page",)) is None
