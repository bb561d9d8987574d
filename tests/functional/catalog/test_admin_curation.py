"""Curation as an admin meets it: merge asks first and leaves nothing dangling, and every bulk action is in each
model's History."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry

from catalog.models import MergedModel, Model
from tests.conftest import admin_action, admin_history
from tests.factories import ImageFactory, ModelFactory, ModelVersionFactory

CHANGELIST = "admin:catalog_model_changelist"


@pytest.mark.django_db
def test_merge_asks_first_and_warns_when_types_and_base_models_differ(admin_client) -> None:
    lora = ModelFactory(name="Inkwash", type="LORA")
    ModelVersionFactory(model=lora, base_model="SD 1.5")
    embedding = ModelFactory(name="Inkwash embedding", type="TextualInversion")
    ModelVersionFactory(model=embedding, base_model="SDXL 1.0")
    page = admin_action(admin_client, "merge", [lora, embedding]).content.decode()
    assert "Merge models?" in page
    assert "Their types differ: Inkwash is LORA, Inkwash embedding is TextualInversion." in page
    assert "Their base models differ: Inkwash: SD 1.5; Inkwash embedding: SDXL 1.0." in page
    assert Model.objects.count() == 2  # nothing merged until confirmed


@pytest.mark.django_db
def test_a_confirmed_merge_leaves_old_urls_and_ids_leading_to_the_survivor(admin_client, client) -> None:
    keep = ModelFactory(civitai_id=101, name="Aurora", download_count=10, published_at=None)
    ModelVersionFactory(model=keep, published_at=datetime(2023, 5, 1, tzinfo=UTC))
    dup = ModelFactory(civitai_id=202, name="Aurora (copy)", download_count=900, rating=4.5, rating_count=12)
    old_version = ModelVersionFactory(model=dup, published_at=datetime(2023, 1, 2, tzinfo=UTC))
    ImageFactory(version=old_version)
    old_card = dup.get_absolute_url()

    page = admin_action(admin_client, "merge", [keep, dup]).content.decode()
    assert "Aurora (copy)" in page and "Yes, merge them" in page
    done = admin_action(admin_client, "merge", [keep, dup], confirm="yes")
    assert "Merged 1 model(s) into “Aurora”" in done.content.decode()

    keep.refresh_from_db()
    assert list(Model.objects.all()) == [keep]
    # Dates and counts computed again over what it holds now.
    assert keep.published_at == datetime(2023, 1, 2, tzinfo=UTC)
    assert (keep.image_count, keep.download_count, keep.rating, keep.rating_count) == (1, 900, 4.5, 12)
    # The old card URL is a permanent redirect; the old ids answer as the survivor in both APIs.
    response = client.get(old_card)
    assert (response.status_code, response["Location"]) == (301, keep.get_absolute_url())
    assert client.get(f"/api/v1/models/{202}").json()["id"] == 101
    assert client.get(f"/api/models/{dup.pk}/").json()["id"] == keep.pk
    assert MergedModel.objects.get(pk=dup.pk).civitai_id == 202
    assert admin_history(keep) == [f"Merged “Aurora (copy)” (#{dup.pk}) into this model."]


@pytest.mark.django_db
def test_bulk_actions_are_in_each_models_history(admin_client) -> None:
    models = [ModelFactory(), ModelFactory()]
    admin_action(admin_client, "hide", models)
    admin_action(admin_client, "feature", models[:1])
    assert admin_history(models[0]) == ["Hidden (bulk action).", "Featured (bulk action)."]
    assert admin_history(models[1]) == ["Hidden (bulk action)."]
    assert LogEntry.objects.get(object_id=str(models[1].pk)).user.username == "admin"
