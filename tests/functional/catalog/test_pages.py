"""The pages a new user sees first: the list, a model's card, tag and creator pages, and the 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_list_shows_visible_models_only(client) -> None:
    shown = ModelFactory(name="Aurora Landscapes")
    ModelFactory(name="Secret Model", hidden=True)
    html = client.get("/").content.decode()
    assert "Aurora Landscapes" in html
    assert "Secret Model" not in html
    assert client.get(f"/models/{ModelFactory(hidden=True).pk}/x/").status_code == 404
    assert client.get(shown.get_absolute_url()).status_code == 200


def test_card_shows_versions_files_and_images(client) -> None:
    version = ModelVersionFactory(name="v2.0", base_model="SDXL 1.0", trained_words=["wtrclr"])
    file = ModelFileFactory(version=version, name="aurora.safetensors", size_bytes=6_938_000_000)
    ImageFactory(version=version, prompt="a lighthouse at dusk")
    version.model.tags.add(TagFactory(name="landscape, scenery"))
    html = client.get(version.model.get_absolute_url()).content.decode()
    for text in [
        "v2.0",
        "SDXL 1.0",
        "wtrclr",
        "aurora.safetensors",
        "6.5\xa0GB",
        file.hash_autov2,
        "a lighthouse at dusk",
        "landscape, scenery",
    ]:
        assert text in html, text


def test_names_from_sources_are_escaped(client) -> None:
    ModelFactory(name='<script>alert("x")</script>')
    html = client.get("/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_wrong_slug_redirects_and_tag_creator_pages_filter(client) -> None:
    model = ModelFactory(name="Inkwash Style")
    response = client.get(f"/models/{model.pk}/wrong/")
    assert response.status_code == 301 and response["Location"] == model.get_absolute_url()
    model.tags.add(TagFactory(name="ink"))
    ModelFactory(name="Other Thing")
    html = client.get(reverse("catalog:tag", kwargs={"name": "ink"})).content.decode()
    assert "Inkwash Style" in html and "Other Thing" not in html
    html = client.get(
        reverse("catalog:creator", kwargs={"username": model.creator.username})
    ).content.decode()
    assert "Inkwash Style" in html and "Other Thing" not in html


def test_unknown_pages_are_a_friendly_404(client) -> None:
    response = client.get("/models/999999/none/")
    assert response.status_code == 404
    assert "There is no such page in this catalog" in response.content.decode()
