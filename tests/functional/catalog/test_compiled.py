"""Queries on a list of ids compiled once and run with each new list (catalog/compiled.py): the rows must be the
ones the ORM's queryset gives for the same ids, columns converted the same way, on either database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.compiled import IdsQuery
from catalog.hashes import files_with_hash
from catalog.models import HASH_FORMATS, Image, ModelFile, ModelVersion
from catalog.selectors import FILE_ROW, IMAGE_ROW, VERSION_ROW, files_with_hash_rows
from ingest.parsers.documents import parse_document
from ingest.writer import model_upsert
from tests.conftest import CORPUS
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog() -> None:
    for path in sorted((CORPUS / "mirror-pages").glob("*.json"))[:10]:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            model_upsert(record)


def test_rows_are_the_querysets_for_every_list_of_ids(catalog) -> None:
    built: list[list[int]] = []

    def images(ids):
        built.append(ids)
        return (
            Image.objects.filter(position__lt=3, version__id__any_of=ids).order_by("-id").values(*IMAGE_ROW)
        )

    query = IdsQuery(images)
    version_ids = list(ModelVersion.objects.order_by("pk").values_list("pk", flat=True))
    assert len(version_ids) >= 10
    lists = [version_ids, version_ids[:1], version_ids[3:7], [version_ids[2], 10**12], [10**12], []]
    for ids in lists:
        rows = query(ids)
        built_before = len(built)
        expected = list(images(ids)) if ids else []
        del built[built_before:]
        assert rows == expected, ids
    everything = query(version_ids)
    assert len(everything) > 20
    assert any(
        isinstance(row["meta"], dict) and row["meta"] for row in everything
    )  # JSON decoded, as the ORM does
    assert {row["version_id"] for row in query(version_ids[3:7])} <= set(version_ids[3:7])
    if connection.vendor == "postgresql":
        assert len(built) == 1  # compiled once, with stand-in ids; then only run
    else:
        assert len(built) == len([ids for ids in lists if ids]) + 2  # built for each call, as before


def test_each_call_is_one_query_and_none_for_no_ids(catalog) -> None:
    query = IdsQuery(lambda ids: ModelVersion.objects.filter(model__id__any_of=ids).values(*VERSION_ROW))
    model_ids = list(ModelVersion.objects.values_list("model_id", flat=True).distinct())
    query(model_ids)
    with CaptureQueriesContext(connection) as queries:
        rows = query(model_ids[:2])
        assert query([]) == []
    assert len(queries) == 1
    assert {row["model_id"] for row in rows} == set(model_ids[:2])
    assert all(row["source_created_at"] is None or row["source_created_at"].tzinfo for row in rows)


def test_a_query_that_spells_the_ids_one_parameter_each_is_built_each_time(catalog) -> None:
    calls = []

    def versions(ids):
        calls.append(ids)
        return ModelVersion.objects.filter(model_id__in=ids).order_by("id").values("id", "base_model")

    query = IdsQuery(versions)
    ids = list(ModelVersion.objects.values_list("model_id", flat=True).distinct())
    for some in (ids, ids[:3], ids[1:2]):
        assert query(some) == list(
            ModelVersion.objects.filter(model_id__in=some).order_by("id").values("id", "base_model")
        )
    assert (
        len(calls) >= 3
    )  # `IN (%s, %s, ...)`: the list cannot be put back in the kept SQL, so nothing is kept


def test_hash_lookups_are_the_querysets_for_every_kind_of_hash(catalog) -> None:
    def orm(value: str) -> list[dict]:
        files = ModelFile.objects.filter(files_with_hash(value), version__model__hidden=False).order_by("pk")
        return list(files.values(*FILE_ROW, "version__model_id")[:100])

    asked = 0
    for file in ModelFile.objects.order_by("pk")[:40]:
        for field in HASH_FORMATS:
            value = getattr(file, field)
            if value:
                rows = files_with_hash_rows(value.lower())
                assert rows == orm(value) and file.pk in {row["id"] for row in rows}, (field, value)
                asked += 1
    assert asked >= 40
    for nothing in ("0" * 64, "ABCDEF012", "0" * 8, "0" * 12):  # unknown hashes, and a length no hash has
        assert files_with_hash_rows(nothing) == orm(nothing) == []


def test_json_columns_read_as_the_orm_reads_them(catalog) -> None:
    version = ModelVersion.objects.order_by("pk").first()
    metas = [
        {"seed": 2**70, "low": -(2**63) - 1, "edge": 2**64 - 1, "text": "seed 12345678901234567890 in words"},
        {"cfg": 7.0, "tiny": 1e-07, "huge": 1.5e300, "neg": -0.0, "list": [1, [2, {"x": None}]], "ok": True},
        {"prompt": '日本語, émoji 🎨, \u2028, \\backslash\\ "quoted"', "": "empty key"},
        {},
    ]
    made = [ImageFactory(version=version, meta=meta, position=50 + i) for i, meta in enumerate(metas)]
    query = IdsQuery(
        lambda ids: Image.objects.filter(version__id__any_of=ids, position__gte=50)
        .order_by("position")
        .values("id", "meta")
    )
    rows = query([version.pk])
    expected = list(
        Image.objects.filter(version__id__any_of=[version.pk], position__gte=50)
        .order_by("position")
        .values("id", "meta")
    )
    assert rows == expected and [row["id"] for row in rows] == [image.pk for image in made]
    # jsonb keeps numbers as numerics (1.5e300 comes back as an integer, -0.0 as 0.0), the ORM and this alike.
    assert [rows[i]["meta"] for i in (0, 2, 3)] == [metas[i] for i in (0, 2, 3)]
    assert type(rows[0]["meta"]["seed"]) is int and rows[0]["meta"]["low"] == -(2**63) - 1


def _searchable(names_and_texts: list[tuple[str, str]]) -> None:
    from catalog.models import Model
    from catalog.services import model_search_text_refresh
    from tests.factories import ModelFactory

    for i, (name, text) in enumerate(names_and_texts):
        ModelFactory(
            name=name, description=f"<p>{text}</p>", download_count=(i * 37) % 11
        )  # ties on downloads
    for model in Model.objects.all():
        model_search_text_refresh(model)


def _seen(page) -> list[tuple]:
    return [
        (
            m.pk,
            m.tier,
            m.relevance,
            m.creator.username if m.creator else None,
            sorted(m.get_deferred_fields()),
        )
        for m in page.rows
    ]


def test_a_search_page_read_by_compiled_sql_is_the_querysets_for_every_word(catalog, monkeypatch) -> None:
    """Words with what LIKE and full text treat specially (%, _, a backslash, quotes, a minus), cases, accents, an
    exact name: each first page read with a key (SQL kept once, the words put in) is what building the queryset
    gives, row for row, tier, relevance, creator and deferred columns alike, and so is its cursor."""
    from catalog import filters
    from catalog.filters import ModelFilterSet, search_page

    _searchable(
        [
            ("Nebula", "sky"), ("nebula style", "a nebula sky"), ("Galaxy", "nebula"), ("50% off_cut", "percent"),
            ("50 percent", "half off"), ("back\\slash", "slash"), ("Große Äpfel", "straße"), ("O'Brien", "quote"),
            ("Nebula-Lite", "not -nebula"),
        ]
    )  # fmt: skip
    built = []
    build = filters._search_rows
    monkeypatch.setattr(filters, "_search_rows", lambda *a: built.append(a[1]) or build(*a))
    base = ModelFilterSet({}).unsearched
    words = ["nebula", "NEBULA", "Nebula", "nebula style", "50%", "off_cut", "_", "%", "back\\slash", "\\",
             "große", "GROSSE", "o'brien", '"half off"', "-nebula", "nebula -sky", "sky", "realistic", "zz"]  # fmt: skip
    found = 0
    for word in words:
        compiled = search_page(base, word, None, 3, key=("test",))
        orm = search_page(base, word, None, 3)
        assert _seen(compiled) == _seen(orm), word
        assert compiled.next_cursor == orm.next_cursor, word
        found += bool(compiled.rows)
    assert found >= 12
    if connection.vendor == "postgresql":
        # compiled once for the key with the stand-in words, and once with two letters (the bigram asked too)
        assert built.count("Zq9StandIn") == 1 and built.count("Zq") == 1
        assert len(built) == 2 + len(words)  # each ORM read built its own
    else:
        assert "Zq9StandIn" not in built and len(built) == 2 * len(words)  # SQLite: built each time

    with CaptureQueriesContext(connection) as queries:
        page = search_page(base, "nebula", None, 3, key=("test",))
    assert len(queries) == 1 and [m.name for m in page.rows] == [
        "Nebula",
        "Nebula-Lite",
        "nebula style",
    ]  # by downloads: 10, 4


def test_a_search_key_names_every_filter_and_a_tag_by_its_ids(catalog) -> None:
    from catalog.filters import ModelFilterSet
    from catalog.models import Model, Tag

    def key(params, **kwargs):
        filterset = ModelFilterSet(params, **kwargs)
        assert filterset.is_valid(), filterset.errors
        return filterset.search_key()

    assert key({"query": "x"}) == ()
    assert key({"query": "x", "nsfw": "false", "availability": ["active"]}) == (
        ("nsfw", False),
        ("availability", ("active",)),
    )
    assert key({"query": "x", "nsfw": "true"}) != key({"query": "x", "nsfw": "false"})
    assert key({"type": ["LORA", "Checkpoint"], "base_model": ["SDXL 1.0"], "creator": "someone"}) == (
        ("type", ("LORA", "Checkpoint")),
        ("base_model", ("SDXL 1.0",)),
        ("creator", "someone"),
    )
    tag = Tag.objects.create(name="Zq Vapor")
    assert key({"tag": ["zq vapor"], "exclude_tag": ["nope"]}) == (
        ("tag", ((tag.pk,),)),
        ("exclude_tag", ((),)),
    )
    tag.delete()
    again = Tag.objects.create(name="zq vapor")
    assert key({"tag": ["ZQ VAPOR"]}) == (("tag", ((again.pk,),)),)  # the ids the tag has now: a new key
    assert (
        key({"query": "x"}, queryset=Model.objects.all()) is None
    )  # not its own models: nothing to name them


def test_compiled_models_keep_the_keys_used_last(catalog) -> None:
    from catalog.compiled import CompiledModels
    from catalog.models import Model

    built = []

    def build(name):
        built.append(name)
        return Model.objects.select_related("creator").filter(name__gte=name).order_by("name")

    query = CompiledModels(lambda name: (name,), ("Zq9StandIn",), limit=2)
    first = query("a", build, "M")
    assert [m.pk for m in first] == [m.pk for m in build("M")] and first and first[0].creator
    del built[-1]
    for key, name in [("a", "N"), ("b", "N"), ("a", "O"), ("c", "O"), ("b", "P"), ("a", "P")]:
        assert [m.pk for m in query(key, build, name)] == [m.pk for m in build(name)], (key, name)
        del built[-1]
    if connection.vendor == "postgresql":
        # Compiled: a, b, (a kept, used after b), c (b forgotten: used least lately), b (a forgotten), a.
        assert built == ["Zq9StandIn"] * 5
    else:
        assert built == ["M", "N", "N", "O", "O", "P", "P"]


@pytest.mark.parametrize("sort", ["downloads", "newest", "oldest", "name", "rating", "updated"])
@pytest.mark.parametrize("query", ["", "nebula"])
def test_first_pages_read_by_compiled_sql_are_the_querysets_and_their_cursors_go_on(
    client, sort, query
) -> None:
    """A first page in each sort, searched and not: the rows of the queryset built as before, and its cursor leads
    through every other model once, on the page and in the API alike. Half the models have no publication date or
    rating: they come last."""
    from datetime import UTC, datetime, timedelta

    from catalog.filters import SORTS, ModelFilterSet
    from catalog.models import Model
    from catalog.pagination import keyset_page
    from catalog.selectors import models_brief

    start = datetime(2024, 1, 1, tzinfo=UTC)
    _searchable(
        [(f"{'Nebula' if i % 3 else 'Star'} {i}", "sky nebula" if i % 2 else "sea") for i in range(14)]
    )
    for i, model in enumerate(Model.objects.order_by("pk")):
        if i % 2:
            model.published_at = model.last_version_at = start + timedelta(days=i % 5)
            model.rating = (i % 4) + 0.5
            model.save()
    params = {"sort": sort, "nsfw": "false", **({"query": query} if query else {})}

    compiled = ModelFilterSet(params)
    assert compiled.is_valid() and compiled.search_key() == (("nsfw", False),)
    built = ModelFilterSet(params, queryset=models_brief(Model.objects.visible()))
    assert built.is_valid() and built.search_key() is None
    for _ in range(2):  # compiled, then kept
        page = ModelFilterSet(params).page(None, 4)
        expected = keyset_page(built.qs, SORTS[sort], None, 4)
        assert [m.pk for m in page.rows] == [m.pk for m in expected.rows] and len(page.rows) == 4
        assert page.next_cursor == expected.next_cursor

    if not query:  # every page after the first: read by SQL compiled once, the rows of the queryset built
        cursor, pages = ModelFilterSet(params).page(None, 4).next_cursor, 0
        while cursor:
            page = ModelFilterSet(params).page(cursor, 4)
            expected = keyset_page(built.qs, SORTS[sort], cursor, 4)
            assert [m.pk for m in page.rows] == [m.pk for m in expected.rows] and page.rows, (sort, pages)
            assert page.next_cursor == expected.next_cursor
            cursor, pages = page.next_cursor, pages + 1
        assert pages == 3  # 14 models, 4 a page: 4 on the first, then 4, 4 and 2

    seen, url = [], f"/?{'query=' + query + '&' if query else ''}sort={sort}"
    while url:
        response = client.get(url)
        seen += [m.pk for m in response.context["page"].rows]
        cursor = response.context["page"].next_cursor
        url = f"/?{'query=' + query + '&' if query else ''}sort={sort}&cursor={cursor}" if cursor else None
    assert sorted(seen) == sorted(m.pk for m in built.qs) and len(seen) == len(set(seen))

    api_seen, url = [], f"/api/models/?limit=4&sort={sort}" + (f"&query={query}" if query else "")
    while url:
        body = client.get(url).json()
        assert body["previous"] is None
        api_seen += [m["id"] for m in body["results"]]
        url = body["next"]
    assert api_seen == seen  # the API pages as the page does (it read "None" as a date before: a 500)


def test_a_civitai_search_read_by_compiled_sql_answers_as_the_built_one(catalog, client, monkeypatch) -> None:
    """The Civitai search's first page (filters.SEARCHES, keyed by its fixed parameters): the same answer as
    building the query each time, for words LIKE and full text treat specially and in each sort; compiled once
    per key on PostgreSQL. A parameter that is not fixed (a tag) is built each time."""
    from catalog.api import civitai

    _searchable(
        [("Nebula", "sky"), ("nebula style", "a nebula sky"), ("Galaxy", "nebula"), ("50% off_cut", "percent"),
         ("back\\slash", "slash"), ("O'Brien", "quote"), ("Nebula-Lite", "not -nebula"), ("XL Dream", "xl")]
    )  # fmt: skip
    built = []
    searched_in_order = civitai.searched_in_order
    monkeypatch.setattr(
        civitai,
        "searched_in_order",
        lambda qs, words, *a: built.append(words) or searched_in_order(qs, words, *a),
    )
    words = [
        "nebula",
        "NEBULA",
        "50%",
        "off_cut",
        "_",
        "back\\slash",
        "o'brien",
        "-nebula",
        "xl",
        "zz",
        " sky ",
    ]
    answers = {}
    for sort in ("Highest Rated", "Most Downloaded", "Newest"):
        for word in words:
            params = {"query": word, "sort": sort, "limit": 2, "nsfw": "false"}
            answers[sort, word] = client.get("/api/v1/models", params).json()
    if connection.vendor == "postgresql":
        # once per sort, then kept; two letters ("xl", "zz") their own SQL once per sort
        assert built == ["Zq9StandIn", "Zq"] * 3
    else:
        assert len(built) == 3 * len(words)
    assert sum(bool(answer["items"]) for answer in answers.values()) >= 20

    monkeypatch.setattr(civitai, "FIXED_PARAMS", frozenset())  # no key: every search built as it comes
    for (sort, word), answer in answers.items():
        params = {"query": word, "sort": sort, "limit": 2, "nsfw": "false"}
        assert client.get("/api/v1/models", params).json() == answer, (sort, word)
    assert "Zq9StandIn" not in built[6:] and "Zq" not in built[6:]
    before = len(built)
    assert client.get("/api/v1/models", {"query": "nebula", "tag": "sky"}).status_code == 200
    assert built[before:] == ["nebula"]


@pytest.mark.postgres
def test_a_first_page_read_by_compiled_sql_builds_no_queryset(catalog, monkeypatch) -> None:
    """The FilterSet's models are built only to compile a page's SQL: a search or a list whose SQL is kept
    reads its page without them (the API search: 0.1 ms of its 3.5)."""
    from collections import OrderedDict

    from django.http import QueryDict

    from catalog import filters
    from catalog.filters import ModelFilterSet

    for kept in (filters.SEARCHES.words, filters.SEARCHES.two_letters, filters._LISTS):  # no SQL kept before
        monkeypatch.setattr(kept, "_compiled", OrderedDict())
    built = []
    brief = filters.models_brief
    monkeypatch.setattr(filters, "models_brief", lambda qs: built.append(1) or brief(qs))
    for params in ["query=anime", "query=anime&sort=newest", "sort=rating"]:
        pages = []
        for _ in range(2):
            filterset = ModelFilterSet(QueryDict(params))
            assert filterset.is_valid(), filterset.errors
            pages.append([m.pk for m in filterset.page(None, 5).rows])
        assert pages[0] == pages[1] and pages[0], params
        assert len(built) == 1, params  # the first page compiled its SQL; the second built nothing
        built.clear()


@pytest.mark.postgres
@pytest.mark.parametrize("sort", ["downloads", "rating", "newest", "name"])
def test_a_page_after_a_cursor_read_by_compiled_sql_builds_no_queryset(catalog, monkeypatch, sort) -> None:
    """A page deep in a list (a cursor of each type of value: a count, a rating, a date, a name) compiles its
    SQL once; the next request for a page after a cursor, another position included, builds no queryset."""
    from django.http import QueryDict

    from catalog import selectors
    from catalog.filters import ModelFilterSet

    first = ModelFilterSet(QueryDict(f"sort={sort}"))
    assert first.is_valid()
    cursors, page = [], first.page(None, 2)
    while page.next_cursor and len(cursors) < 3:
        cursors.append(page.next_cursor)
        page = ModelFilterSet(QueryDict(f"sort={sort}")).page(page.next_cursor, 2)
    assert len(cursors) == 3

    built = []
    brief = selectors.models_brief
    monkeypatch.setattr(selectors, "models_brief", lambda qs: built.append(1) or brief(qs))
    pages = []
    for cursor in cursors:
        filterset = ModelFilterSet(QueryDict(f"sort={sort}"))
        assert filterset.is_valid()
        pages.append([m.pk for m in filterset.page(cursor, 2).rows])
    assert built == []  # compiled while the cursors were collected: kept since
    assert len({pk for rows in pages for pk in rows}) == 6


FILTERED = [
    "type=Checkpoint",
    "type=Checkpoint&type=LORA&sort=newest",
    "base_model=SD+1.5",
    "tag=anime",
    "tag=anime&tag=character",
    "exclude_tag=anime&sort=name",
    "type=LORA&base_model=SD+1.5&tag=anime&sort=rating",
    "creator=nobody-at-all",
    "tag=no-such-tag",
]


@pytest.mark.parametrize("params", FILTERED)
def test_filtered_lists_read_by_compiled_sql_are_the_querysets(params, monkeypatch) -> None:
    """A filtered list's pages, first and after each cursor, read with SQL kept under its filters' values: the
    rows of the queryset built as before. A tag made again under a new id is read under a new key, not with the
    SQL of the old id."""
    from django.http import QueryDict

    from catalog.filters import SORTS, ModelFilterSet
    from catalog.models import Model, Tag
    from catalog.pagination import keyset_page
    from catalog.selectors import models_brief

    def page_rows():
        rows, cursor = [], None
        while True:
            filterset = ModelFilterSet(QueryDict(params))
            assert filterset.is_valid(), filterset.errors
            page = filterset.page(cursor, 3)
            rows.append([m.pk for m in page.rows])
            if not page.next_cursor:
                return rows
            cursor = page.next_cursor

    def expected_rows():
        built = ModelFilterSet(QueryDict(params), queryset=models_brief(Model.objects.visible()))
        assert built.is_valid() and built.search_key() is None
        sort = SORTS[QueryDict(params).get("sort", "downloads")]
        rows, cursor = [], None
        while True:
            page = keyset_page(built.qs, sort, cursor, 3)
            rows.append([m.pk for m in page.rows])
            if not page.next_cursor:
                return rows
            cursor = page.next_cursor

    from tests.factories import ModelVersionFactory

    _searchable([(f"Model {i}", "sky") for i in range(10)])
    models = list(Model.objects.order_by("pk"))
    anime, character = Tag.objects.create(name="Anime"), Tag.objects.create(name="character")
    for i, model in enumerate(models):
        model.type = "Checkpoint" if i % 2 else "LORA"
        model.download_count = 100 - i * 7 % 13
        model.save()
        if i % 3:
            model.tags.add(anime)
        if i % 4 == 1:
            model.tags.add(character)
        ModelVersionFactory(model=model, base_model="SD 1.5" if i % 5 else "SDXL 1.0")

    for _ in range(2):  # compiled, then kept
        assert page_rows() == expected_rows()
    if connection.vendor == "postgresql" and "no-such" not in params:  # (no such tag: no SQL to keep)
        from catalog import selectors

        built = []
        brief = selectors.models_brief
        monkeypatch.setattr(selectors, "models_brief", lambda qs: built.append(1) or brief(qs))
        filterset = ModelFilterSet(QueryDict(params))
        assert filterset.is_valid() and filterset.page(None, 3).rows is not None
        assert built == []  # its first page read by the SQL kept: no queryset built
        monkeypatch.undo()
    assert (sum(map(len, expected_rows())) > 0) == ("nobody" not in params and "no-such" not in params)

    anime.delete()  # made again: its models found by its new id, not the kept SQL's
    anime = Tag.objects.create(name="anime")
    for model in models[:4]:
        model.tags.add(anime)
    assert page_rows() == expected_rows()
