"""Hostile strings in every text field a source can fill render inert on the list, the card, the admin and the
API; checked by parsing what the server sends, and in a real browser that no script runs."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import Model
from ingest.parsers.civitai import civitai_parse_model
from ingest.writer import model_upsert
from tests.security.xss import MARK, PAYLOADS, runnable

pytestmark = pytest.mark.django_db(transaction=True)


def hostile_model(i: int, payload: str) -> dict:
    """A Civitai model object with the payload in every text field a source fills."""
    return {
        "id": 900_000 + i,
        "name": f"m{i} {payload}",
        "description": f"<p>d{i}</p>{payload}",
        "type": "LORA",
        "nsfw": False,
        "tags": [f"t{i} {payload}"[:255]],
        "creator": {"username": f"c{i}{payload}"[:255], "image": None},
        "stats": {"downloadCount": i},
        "modelVersions": [
            {
                "id": 910_000 + i,
                "name": f"v{i} {payload}",
                "description": payload,
                "baseModel": f"SD {payload}"[:64],
                "trainedWords": [f"w{i} {payload}"],
                "files": [
                    {
                        "id": 920_000 + i,
                        "name": f"f{i}{payload}.safetensors",
                        "type": "Model",
                        "metadata": {"format": "SafeTensor"},
                        "hashes": {"AutoV2": f"{i:010X}"},
                        "downloadUrl": f"https://civitai.com/api/download/models/{910_000 + i}",
                        "primary": True,
                    }
                ],
                "images": [
                    {
                        "id": 930_000 + i,
                        "url": f"https://image.civitai.com/x/y/width=450/{930_000 + i}.jpeg",
                        "nsfw": "None",
                        "width": 512,
                        "height": 512,
                        "meta": {"prompt": f"p{i} {payload}", "negativePrompt": payload, "sampler": payload[:100],
                                 "Model": payload[:200], "seed": 1},
                    }
                ],
            }
        ],
    }  # fmt: skip


@pytest.fixture
def hostile_catalog():
    for i, payload in enumerate(PAYLOADS):
        model_upsert(civitai_parse_model(hostile_model(i, payload), source=f"xss-{i}"))
    return list(Model.objects.order_by("pk"))


def test_the_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 50


def test_list_and_cards_render_every_payload_inert(client, hostile_catalog) -> None:
    pages = ["/?nsfw_view=show", "/?sort=name&nsfw_view=show", "/stats/"]
    pages += [m.get_absolute_url() for m in hostile_catalog]
    pages += [reverse("catalog:tag", args=[m.tags.first().name]) for m in hostile_catalog[:10]]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert runnable(response.content.decode()) == [], url


def test_admin_renders_every_payload_inert(client, hostile_catalog) -> None:
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.org", "pw"))
    pages = [
        reverse(f"admin:catalog_{name}_changelist")
        for name in ("model", "modelversion", "modelfile", "image", "tag", "creator")
    ]
    for model in hostile_catalog[:15]:
        pages.append(reverse("admin:catalog_model_change", args=[model.pk]))
        pages.append(reverse("admin:catalog_modelversion_change", args=[model.versions.get().pk]))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        found = [f for f in runnable(html) if f != "<script src=/admin/jsi18n/>"]
        assert found == [], url


def test_api_returns_payloads_as_data(client, hostile_catalog) -> None:
    for url in [
        "/api/models/?limit=100",
        f"/api/models/{hostile_catalog[0].pk}/",
        "/api/v1/models?limit=100",
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        json.loads(response.content)  # JSON, which browsers do not run
    detail = client.get(f"/api/v1/models/{hostile_catalog[0].civitai_id}").json()
    # Plain-text fields come back as the source wrote them; the description is sanitized HTML.
    assert detail["name"].endswith(PAYLOADS[0])
    assert "<script" not in detail["description"]


def test_descriptions_keep_safe_markup_only(hostile_catalog) -> None:
    for model in hostile_catalog:
        assert runnable(model.description) == [], model.description


def test_no_script_runs_in_a_real_browser(hostile_catalog, live_server, browser) -> None:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in ["/?nsfw_view=show", hostile_catalog[0].get_absolute_url(), hostile_catalog[4].get_absolute_url(),
                hostile_catalog[27].get_absolute_url()]:  # fmt: skip
        page.goto(url)
        figure = page.locator("figure[data-image] a")
        if figure.count():
            figure.first.click()  # the viewer puts the prompt into the page with textContent
        assert page.evaluate("window.__xss") is None, url
    assert MARK not in "".join(dialogs) and dialogs == []
    context.close()


def test_the_checker_catches_the_payloads_unescaped() -> None:
    # The check above can fail: dropped raw into a page, most payloads are caught.
    caught = [p for p in PAYLOADS if runnable(f"<html><body>{p}</body></html>")]
    assert len(caught) >= 35, len(caught)
