"""Facet counts beside the list's filters: the same on both databases, counted afresh once per change."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from catalog import selectors
from catalog.filters import ModelFilterSet
from catalog.models import Model, SourceRecord
from catalog.services import catalog_changed
from tests.factories import ModelFactory, ModelVersionFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf() -> list[Model]:
    anime, style = TagFactory(name="anime"), TagFactory(name="style")
    models = []
    for n, (kind, base, tags) in enumerate([("LORA", "SDXL 1.0", [anime, style]), ("LORA", "SD 1.5", [anime]),
                                            ("Checkpoint", "SD 1.5", [style]), ("Checkpoint", "", [])]):  # fmt: skip
        model = ModelFactory(name=f"Merge number {n}", type=kind, allow_no_credit=n % 2 == 0)
        ModelVersionFactory(model=model, base_model=base)
        model.tags.add(*tags)
        SourceRecord.objects.create(model=model, provider="civitai", external_id=str(n), url=f"https://x/{n}")
        models.append(model)
    models[3].availability = "removed"
    models[3].save()
    return models


def _filterset(params: dict) -> ModelFilterSet:
    return ModelFilterSet(QueryDict(urlencode(params)), queryset=Model.objects.visible())


def _facets(params: dict) -> dict:
    filterset = _filterset(params)
    assert filterset.is_valid(), filterset.errors
    return selectors.model_facets(lambda: filterset.qs, key=str(sorted(params.items())))[0]


def test_counts_are_what_the_catalog_holds(shelf) -> None:
    facets = _facets({})
    assert facets["type"] == [("Checkpoint", 2), ("LORA", 2)]
    assert facets["base_model"] == [("SD 1.5", 2), ("SDXL 1.0", 1)]
    assert facets["tag"] == [("anime", 2), ("style", 2)]
    assert facets["provider"] == [("civitai", 4)]
    assert facets["availability"] == [("active", 3), ("removed", 1)]
    assert dict(facets["licence"])["no_credit"] == 2
    searched = _facets({"query": "merge", "tag": "anime"})
    assert searched["type"] == [("LORA", 2)]
    assert searched["base_model"] == [("SD 1.5", 1), ("SDXL 1.0", 1)]
    nothing = _facets({"query": "no such words"})
    assert nothing["type"] == [] and dict(nothing["licence"]) == {
        "commercial": 0,
        "no_credit": 0,
        "derivatives": 0,
    }


def test_after_a_change_one_request_counts_while_the_others_show_the_counts_from_before(
    client, shelf
) -> None:
    assert 'LORA <span class="n">2</span>' in client.get("/").content.decode()
    ModelFactory(name="A third LoRA", type="LORA")
    catalog_changed()
    key = "facets:" + hashlib.sha256(b"nsfw=false").hexdigest() + ":counting"
    from django.core.cache import cache

    assert cache.add(key, 1, 30)  # as if another request were counting them now
    meanwhile = client.get("/")
    html = meanwhile.content.decode()
    assert "A third LoRA" in html  # the list itself is current
    assert 'LORA <span class="n">2</span>' in html  # the counts are from before the change...
    assert "no-store" in meanwhile["Cache-Control"]  # ...so this answer is not one to keep
    cache.delete(key)  # the other request is done
    after = client.get("/")
    assert 'LORA <span class="n">3</span>' in after.content.decode()
    assert "no-store" not in after.get("Cache-Control", "")


def test_kept_counts_do_not_build_the_models_they_count(shelf) -> None:
    """A page whose counts are kept does not build its search's queryset (a millisecond of the ORM's time)."""
    counted = selectors.model_facets(lambda: _filterset({"query": "merge"}).qs, key="merge")

    def not_needed():
        raise AssertionError("the models were built, though their counts were kept")

    assert selectors.model_facets(not_needed, key="merge") == counted
    assert counted[0]["type"] == [("Checkpoint", 2), ("LORA", 2)]
