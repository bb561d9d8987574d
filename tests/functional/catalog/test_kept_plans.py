"""The first pages of lists and searches as statements PostgreSQL keeps planned per connection
(catalog/backends/postgresql/base.py, catalog/compiled.py): kept the second time they are asked, the same answers
as before, new rows found by a kept plan, the search's words written in safely, and no more than PREPARED_MAX
statements kept per connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.backends.postgresql.base import PREPARED_MAX
from catalog.models import Model
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def nothing_asked_yet() -> None:
    """Each test's connection as a new one: no statement asked before (the test connection outlives tests, and
    what it remembers having asked with them; their kept statements go with each test's rollback)."""
    connection.ensure_connection()
    connection.asked_texts.clear()


def kept_statements() -> list[tuple[str, int]]:
    """The statements this connection keeps prepared, each with how many times its kept plan ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def names(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return [item["name"] for item in response.json()["results"]]


def runs_of(word: str) -> list[int]:
    """How many times each kept statement searching for `word` ran its plan."""
    return [runs for text, runs in kept_statements() if f"'{word}'" in text]


def test_a_search_asked_again_runs_the_plan_postgresql_kept(client) -> None:
    ModelFactory(name="Lantern Festival", download_count=5)
    ModelFactory(name="Paper Lantern", download_count=9)
    ModelFactory(name="Harbour at dusk", download_count=7)
    first = names(client, "/api/models/?query=lantern&limit=20")
    assert runs_of("lantern") == []  # asked once: not kept
    second = names(client, "/api/models/?query=lantern&limit=20")
    with CaptureQueriesContext(connection) as queries:
        third = names(client, "/api/models/?query=lantern&limit=20")
    assert first == second == third == ["Paper Lantern", "Lantern Festival"]
    assert runs_of("lantern") == [2]  # kept the second time, its plan run again the third
    # Logged and counted as any query, with its text (sent again by its name alone).
    assert len(queries) == 1
    assert "'lantern'" in queries[0]["sql"]


def test_a_model_added_after_a_search_is_found_by_the_kept_plan(client) -> None:
    ModelFactory(name="Lantern Festival", download_count=5)
    for _ in range(2):
        assert names(client, "/api/models/?query=lantern&limit=20") == ["Lantern Festival"]
    ModelFactory(name="Paper Lantern", download_count=9)
    assert names(client, "/api/models/?query=lantern&limit=20") == ["Paper Lantern", "Lantern Festival"]
    assert runs_of("lantern") == [2]  # the plan is kept, never the rows


def test_a_list_page_is_kept_too_and_answers_as_the_catalog_changes(client) -> None:
    ModelFactory(name="Harbour at dusk", download_count=7)
    for _ in range(2):
        assert names(client, "/api/models/?limit=20") == ["Harbour at dusk"]
    ModelFactory(name="Paper Lantern", download_count=9)
    assert names(client, "/api/models/?limit=20") == ["Paper Lantern", "Harbour at dusk"]
    assert [runs for _, runs in kept_statements()] == [2]


def test_a_page_after_a_cursor_asked_again_is_kept(client) -> None:
    for n, downloads in enumerate([9, 7, 5]):
        ModelFactory(name=f"Harbour {n}", slug=f"harbour-{n}", download_count=downloads)
    following = client.get("/api/models/?limit=1").json()["next"]
    assert following
    connection.asked_texts.clear()
    pages = [names(client, following) for _ in range(3)]
    assert pages == [["Harbour 1"]] * 3
    assert [runs for text, runs in kept_statements() if "LIMIT 2" in text] == [2]


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

    for _ in range(3):  # run, then kept, then its kept plan run
        assert names(client, f"/api/models/?query={quote(words)}&limit=20") == [f"Model {words}"]
    assert Model.objects.count() == 2


def test_no_more_than_prepared_max_statements_are_kept_per_connection(client) -> None:
    for n in range(PREPARED_MAX + 6):
        ModelFactory(name=f"Lantern {n}", slug=f"lantern-{n}")
    for n in range(PREPARED_MAX + 6):
        for _ in range(2):
            assert names(client, f"/api/models/?query=lantern+{n}&limit=20")[0] == f"Lantern {n}"
    # psycopg lets the oldest go when it keeps one more, and deallocates it after its next query.
    assert len(kept_statements()) <= PREPARED_MAX + 1
    assert len(kept_statements()) == PREPARED_MAX


def test_nothing_is_prepared_with_kept_plans_off(client, settings) -> None:
    settings.DATABASE_KEEP_PLANS = False
    ModelFactory(name="Lantern Festival", download_count=5)
    for _ in range(3):
        assert names(client, "/api/models/?query=lantern&limit=20") == ["Lantern Festival"]
        assert names(client, "/api/models/?limit=20") == ["Lantern Festival"]
    assert kept_statements() == []
