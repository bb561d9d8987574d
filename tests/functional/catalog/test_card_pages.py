"""What a card and the index pages show a person: images before they are mirrored, version descriptions, a bounded
image grid, permissions nobody stated, which downloads are which, and tags, creators and base models to browse."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.middleware import content_security_policy
from catalog.models import Model
from tests.factories import ImageFactory, ModelFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db

CIVITAI_IMAGE = "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/f253097a-dd45/original=true/500296.jpeg"


def card(client, model: Model, **params) -> str:
    response = client.get(model.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


def test_an_image_not_mirrored_shows_the_sources_thumbnail_and_the_csp_allows_exactly_that_host(
    client,
) -> None:
    version = ModelVersionFactory()
    ImageFactory(version=version, url=CIVITAI_IMAGE, blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    ImageFactory(version=version, url="https://example.org/elsewhere/1.png")
    response = client.get(version.model.get_absolute_url())
    html = response.content.decode()
    thumb = "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/f253097a-dd45/width=450/500296.jpeg"
    assert f'<img class="remote" src="{thumb}"' in html
    assert 'https://example.org/elsewhere/1.png" alt' not in html  # another host: its blurhash, not the image
    policy = response["Content-Security-Policy"]
    images = re.search(r"img-src ([^;]+);", policy).group(1).split()
    assert images == [
        "'self'",
        "data:",
        "blob:",
        "https://image.civitai.com",
        "https://imagecache.civitai.com",
    ]
    # The list's card shows the same thumbnail as its cover.
    assert f'<img class="remote" src="{thumb}"' in client.get("/").content.decode()


def test_remote_thumbnails_off_shows_no_remote_image_and_the_csp_allows_none(client, settings) -> None:
    settings.REMOTE_THUMBNAILS = False
    version = ModelVersionFactory()
    ImageFactory(version=version, url=CIVITAI_IMAGE, blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    html = card(client, version.model)
    assert "image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/f253097a-dd45/width=450" not in html
    assert 'data-blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj"' in html
    assert "img-src 'self' data: blob:;" in content_security_policy()


def test_version_descriptions_are_shown_sanitized_with_their_version(client) -> None:
    version = ModelVersionFactory(description="<p>Fixed the <b>hands</b>.</p><script>alert(1)</script>")
    html = card(client, version.model)
    section = html[html.index(f'id="version-{version.pk}"') :]
    assert '<div class="version-description"><p>Fixed the <b>hands</b>.</p></div>' in section
    assert "<script>alert(1)" not in html


def test_a_version_shows_twelve_images_and_a_link_to_all_and_the_description_comes_first(client) -> None:
    version = ModelVersionFactory()
    version.model.description = "<p>What this model is for.</p>"
    version.model.save()
    for n in range(30):
        ImageFactory(version=version, position=n, prompt=f"prompt {n}")
    html = card(client, version.model)
    assert html.count("<figure data-image") == 12
    assert f'<a href="?images=all#version-{version.pk}">Show all 30 images</a>' in html
    assert html.index("What this model is for.") < html.index(f'id="version-{version.pk}"')
    everything = card(client, version.model, images="all")
    assert everything.count("<figure data-image") == 30
    assert "Show all 30 images" not in everything


def test_permissions_nobody_stated_are_unknown_on_the_card_and_null_in_both_apis(client) -> None:
    model = ModelFactory(civitai_id=None, hf_repo_id="someone/repo", license="creativeml-openrail-m")
    ModelVersionFactory(model=model)
    html = card(client, model)
    assert "Credit: not stated" in html and "Commercial use: not stated" in html
    assert "No credit needed" not in html and "Commercial use: Image" not in html
    assert "Licence: creativeml-openrail-m" in html
    ours = client.get(f"/api/models/{model.pk}/").json()
    assert [ours[k] for k in ("allow_no_credit", "allow_derivatives", "allow_commercial_use")] == [None] * 3
    theirs = client.get(f"/api/v1/models/{-model.pk}").json()
    assert [theirs[k] for k in ("allowNoCredit", "allowDerivatives", "allowCommercialUse")] == [None] * 3


def test_stated_permissions_are_shown_as_stated(client) -> None:
    model = ModelFactory(
        allow_no_credit=False, allow_derivatives=True, allow_different_license=False,
        allow_commercial_image=True, allow_commercial_rent_civit=False, allow_commercial_rent=False,
        allow_commercial_sell=False,
    )  # fmt: skip
    html = card(client, model)
    assert (
        "Credit the creator" in html
        and "Commercial use: Image" in html
        and "Merges and derivatives allowed" in html
    )


def test_huggingface_downloads_are_labelled_as_the_last_30_days(client) -> None:
    hf = ModelFactory(civitai_id=None, hf_repo_id="owner/repo", name="From the hub")
    civitai = ModelFactory(name="From Civitai")
    assert "<dt>Downloads, last 30 days</dt>" in card(client, hf)
    assert "<dt>Downloads</dt>" in card(client, civitai)
    listing = client.get("/").content.decode()
    hub_card = listing[listing.index("From the hub") - 2000 : listing.index("From the hub") + 2000]
    assert 'title="Downloads in the last 30 days (Hugging Face)"' in hub_card
    assert "Most downloaded (Hugging Face: 30 days)" in listing


def test_index_pages_of_tags_creators_and_base_models_with_a_filter_box(client) -> None:
    anime, watercolor = TagFactory(name="anime"), TagFactory(name="watercolor")
    for n in range(3):
        model = ModelFactory(name=f"Anime {n}")
        model.tags.add(anime)
        ModelVersionFactory(model=model, base_model="SDXL 1.0")
    other = ModelFactory(name="Paint")
    other.tags.add(watercolor)
    ModelVersionFactory(model=other, base_model="SD 1.5")
    tags = client.get("/tags/").content.decode()
    assert re.findall(r'<a href="/tags/([^/]+)/">[^<]+</a> <span class="n">(\d+) models?</span>', tags) == [
        ("anime", "3"),
        ("watercolor", "1"),
    ]
    filtered = client.get("/tags/", {"q": "WATER"}).content.decode()
    assert "/tags/watercolor/" in filtered and "/tags/anime/" not in filtered
    assert '<input id="index-q" type="search" name="q" value="WATER"' in filtered
    creators = client.get("/creators/").content.decode()
    assert f"/creators/{other.creator.username}/" in creators
    bases = client.get("/base-models/").content.decode()
    assert bases.index("/base-models/SDXL%201.0/") < bases.index("/base-models/SD%201.5/")
    assert "3 models" in bases


def test_list_pages_say_how_many_models_match(client) -> None:
    for n in range(3):
        ModelFactory(name=f"Lighthouse {n}", type="LORA")
    ModelFactory(name="Other", type="Checkpoint")
    assert '<p class="count">4 models</p>' in client.get("/").content.decode()
    assert '<p class="count">3 models</p>' in Client().get("/", {"type": "LORA"}).content.decode()
