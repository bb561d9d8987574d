"""A search in a sort (filters.searched_in_order): the models whose text holds the word and those whose name holds
it are read apart and put together. Every sort, paged by cursor to the end, on the list page, the API and the
Civitai-shaped API, gives the matching models once each, in the sort's order (unknown dates and ratings last),
as worked out here from the models themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from catalog.filters import SORTS
from catalog.models import Model
from catalog.services import model_search_text_refresh
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db

# (name, description): "xl" in the name only (SDXL: no word "xl" in the text either), in the text only, in both,
# and in neither (no "xl" anywhere: SQLite matches text by substring).
SHELF = [
    ("SDXL Dream", "a photo model"),
    ("Juggernaut XL", "realistic xl merge"),
    ("Anime Pastel", "made for xl and sd"),
    ("Pixel Forest", "pixel art"),
    ("Photon", "portraits in xl"),
    ("Hidden XL", "xl"),
    ("Lowpoly", "game assets"),
    ("XLarge Style", "bold colours"),
    ("Ink", "an xl lora"),
    ("Cartoon", "flat colours"),
    ("Mix XL", "nothing else"),
    ("Retro", "older than xl"),
]


@pytest.fixture
def shelf() -> list[Model]:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    models = []
    for i, (name, text) in enumerate(SHELF):
        model = ModelFactory(
            name=name,
            description=f"<p>{text}</p>",
            download_count=(i * 7) % 5,  # ties: the id decides
            favorite_count=(i * 3) % 4,
            image_count=i % 3,
            rating=(i % 4) + 0.5,
            hidden=name.startswith("Hidden"),
        )
        if i % 3:  # a third have no dates: they come last in the date sorts
            model.published_at = start + timedelta(days=(i * 5) % 7)
            model.last_version_at = start + timedelta(days=(i * 2) % 3)
            model.save()
        model_search_text_refresh(model)
        models.append(model)
    return models


def _expected(models: list[Model], sort: str) -> list[int]:
    """The visible models holding "xl" in name or text, in the sort's keyset order, worked out in Python."""
    field, descending = SORTS[sort][0].lstrip("-"), SORTS[sort][0].startswith("-")
    matching = [
        m for m in models if not m.hidden and ("xl" in m.name.lower() or " xl" in f" {m.description.lower()}")
    ]
    known = [m for m in matching if getattr(m, field) is not None]
    unknown = [m for m in matching if getattr(m, field) is None]
    known.sort(key=lambda m: (getattr(m, field), m.pk), reverse=descending)
    unknown.sort(key=lambda m: m.pk, reverse=descending)
    return [m.pk for m in known + unknown]


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_search_in_every_sort_pages_through_its_matches_in_order(client, shelf, sort) -> None:
    expected = _expected(shelf, sort)
    assert len(expected) == 8  # name only, text only and both, none hidden

    seen, params = [], {"query": "xl", "sort": sort}
    while params:
        assert len(seen) <= len(expected), "the cursor went round"
        page = client.get("/?" + urlencode(params)).context["page"]
        assert len(page.rows) <= 24
        seen += [m.pk for m in page.rows]
        params = {**params, "cursor": page.next_cursor} if page.next_cursor else None
    assert seen == expected

    api_seen, url = [], "/api/models/?" + urlencode({"query": "xl", "sort": sort, "limit": 3})
    while url:
        assert len(api_seen) <= len(expected), "the cursor went round"
        body = client.get(url).json()
        assert len(body["results"]) <= 3
        api_seen += [m["id"] for m in body["results"]]
        url = body["next"]
    assert api_seen == expected


CIVITAI_SORTS = {
    "Highest Rated": "rating",
    "Most Downloaded": "downloads",
    "Most Collected": "favorites",
    "Most Images": "images",
    "Newest": "newest",
    "Oldest": "oldest",
}


@pytest.mark.parametrize("civitai_sort", list(CIVITAI_SORTS))
def test_a_civitai_search_pages_by_cursor_through_its_matches_in_order(client, shelf, civitai_sort) -> None:
    expected = _expected(shelf, CIVITAI_SORTS[civitai_sort])
    by_civitai_id = {m.civitai_id: m.pk for m in shelf}
    seen, url = [], "/api/v1/models?" + urlencode({"query": "xl", "sort": civitai_sort, "limit": 3})
    while url:
        assert len(seen) <= len(expected), "the cursor went round"
        body = client.get(url).json()
        assert len(body["items"]) <= 3
        seen += [by_civitai_id[item["id"]] for item in body["items"]]
        url = body["metadata"].get("nextPage")
    assert seen == expected


def test_a_bad_cursor_in_a_sorted_search_is_an_error_naming_it(client, shelf) -> None:
    response = client.get("/api/models/?query=xl&sort=newest&cursor=not-a-cursor")
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})
    response = client.get("/api/v1/models?query=xl&cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json() == {"error": "cursor: not a cursor this API gave out"}
