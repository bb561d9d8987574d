"""The first pages of lists and searches as statements PostgreSQL keeps planned per connection
(catalog/backends/postgresql/base.py, catalog/compiled.py): the same answers as before, new rows found by a kept
plan, the search's words written in safely, and no more than PREPARED_MAX statements kept per connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.backends.postgresql.base import PREPARED_MAX
from catalog.models import Model
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def kept_statements() -> list[tuple[str, int]]:
    """The statements this connection keeps prepared, each with how many times its kept plan ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def names(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return [item["name"] for item in response.json()["results"]]


def test_a_search_asked_again_runs_the_plan_postgresql_kept(client) -> None:
    ModelFactory(name="Lantern Festival", download_count=5)
    ModelFactory(name="Paper Lantern", download_count=9)
    ModelFactory(name="Harbour at dusk", download_count=7)
    first = names(client, "/api/models/?query=lantern&limit=20")
    with CaptureQueriesContext(connection) as queries:
        second = names(client, "/api/models/?query=lantern&limit=20")
    assert first == second == ["Paper Lantern", "Lantern Festival"]
    # Logged and counted as any query, with its text (sent again by its name alone).
    assert len(queries) == 1
    assert "'lantern'" in queries[0]["sql"]
    searches = [(text, runs) for text, runs in kept_statements() if "'lantern'" in text]
    assert len(searches) == 1
    assert searches[0][1] == 2  # planned once, run twice


def test_a_model_added_after_a_search_is_found_by_the_kept_plan(client) -> None:
    ModelFactory(name="Lantern Festival", download_count=5)
    assert names(client, "/api/models/?query=lantern&limit=20") == ["Lantern Festival"]
    ModelFactory(name="Paper Lantern", download_count=9)
    assert names(client, "/api/models/?query=lantern&limit=20") == ["Paper Lantern", "Lantern Festival"]
    (runs,) = [runs for text, runs in kept_statements() if "'lantern'" in text]
    assert runs == 2  # the plan is kept, never the rows


def test_a_list_page_is_kept_too_and_answers_as_the_catalog_changes(client) -> None:
    ModelFactory(name="Harbour at dusk", download_count=7)
    assert names(client, "/api/models/?limit=20") == ["Harbour at dusk"]
    ModelFactory(name="Paper Lantern", download_count=9)
    assert names(client, "/api/models/?limit=20") == ["Paper Lantern", "Harbour at dusk"]
    assert [runs for _, runs in kept_statements()] == [2]


@pytest.mark.parametrize(
    "words",
    ["'); DROP TABLE catalog_model; --", "it's", "100%", "back\\slash", '"quoted phrase"', "$1 $$x$$"],
)
def test_words_with_quotes_and_symbols_are_only_searched_for(client, words) -> None:
    """The kept statement has the words written into its text (as the client-side cursor sends every query):
    they must be quoted as values, never read as SQL."""
    ModelFactory(name=f"Model {words}", download_count=3)
    ModelFactory(name="Harbour at dusk", download_count=7)
    from urllib.parse import quote

    found = names(client, f"/api/models/?query={quote(words)}&limit=20")
    assert found == [f"Model {words}"]
    assert Model.objects.count() == 2


def test_no_more_than_prepared_max_statements_are_kept_per_connection(client) -> None:
    for n in range(PREPARED_MAX + 6):
        ModelFactory(name=f"Lantern {n}", slug=f"lantern-{n}")
    for n in range(PREPARED_MAX + 6):
        assert names(client, f"/api/models/?query=lantern+{n}&limit=20")[0] == f"Lantern {n}"
    assert 0 < len(kept_statements()) <= PREPARED_MAX


def test_nothing_is_prepared_with_kept_plans_off(client, settings) -> None:
    settings.DATABASE_KEEP_PLANS = False
    ModelFactory(name="Lantern Festival", download_count=5)
    assert names(client, "/api/models/?query=lantern&limit=20") == ["Lantern Festival"]
    assert names(client, "/api/models/?limit=20") == ["Lantern Festival"]
    assert kept_statements() == []
