"""What the catalog sets up in PostgreSQL for search: the planner's statistics, the priced text match, the
bigrams and the lower-case name."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Model
from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_search_vector_keeps_statistics_of_four_thousand_words() -> None:
    """Migrations 0006 and 0010: rare words are guessed rare, and searched through the full-text index; the list
    of kept words is short enough to read quickly at every search's planning."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'catalog_model'::regclass "
            "AND attname = 'search_vector'"
        )
        assert cursor.fetchone()[0] == 400


def test_priced_text_match_holds_for_every_vector_none_included() -> None:
    """The PostgreSQL-only migration's priced match, put beside full-text matches (search.text_matching), leaves out no row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT catalog_priced_text_match(NULL), catalog_priced_text_match(''::tsvector), "
            "catalog_priced_text_match(to_tsvector('simple', 'anime lora'))"
        )
        assert cursor.fetchone() == (True, True, True)


def test_the_bigrams_of_a_name_are_its_distinct_two_letter_pieces() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT catalog_bigrams('sdxl'), catalog_bigrams('aaaa'), catalog_bigrams('a'), catalog_bigrams(''), "
            "catalog_bigrams('große'), catalog_bigrams(NULL)"
        )
        got = cursor.fetchone()
    assert [sorted(g) if g is not None else None for g in got] == [
        ["dx", "sd", "xl"],
        ["aa"],
        [],
        [],
        ["gr", "oß", "ro", "ße"],
        None,
    ]


NAMES = ["Juggernaut XL", "SDXL base", "xl", "Pixel art", "Axle", "50% off", "a_b test", "back\\slash", "Große",
         "ÄÖ mix", "plain", "Hexl", "x l", "LX"]  # fmt: skip


def test_two_letters_find_by_the_bigram_index_the_names_holding_them() -> None:
    """A search of two letters asks the bigram index beside its LIKE: the same models as holding them in Python,
    for pairs with LIKE's special characters too; and a rare pair is read from the index, not by walking the
    downloads index through the catalog."""
    from catalog.search import search_models

    Model.objects.bulk_create(
        [Model(name=name, slug=f"m{i}", download_count=i, civitai_id=900_000 + i) for i, name in enumerate(NAMES)]
        + [Model(name=f"Filler model {i}", slug=f"f{i}", download_count=i, civitai_id=800_000 + i)
           for i in range(3000)]
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_model")
    names = NAMES + [f"Filler model {i}" for i in range(3000)]
    for pair in ["xl", "XL", "0%", "% ", "_b", "a_", "\\s", "ße", "äö", " x l", "lx", "qq", "el", "r 1"]:
        found = set(search_models(Model.objects.all(), pair).values_list("name", flat=True))
        assert found == {name for name in names if pair.strip().lower() in name.lower()}, pair
    page = search_models(Model.objects.all(), "xl").order_by("-download_count", "-id").values("pk")[:21]
    with connection.cursor() as cursor:
        sql, params = page.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "model_name_bigram_idx" in plan, plan


def test_the_lower_case_name_is_the_databases_lower_of_any_name() -> None:
    """Model.name_lower is PostgreSQL's lower(name) (a generated column), letters beyond ASCII included, and a search
    in any case finds the name by it."""
    from catalog.search import search_models

    model = ModelFactory(name="Große ÄRGER Mix")
    Model.objects.filter(pk=model.pk).update(name="ÉCLAIR Ångström")
    model.refresh_from_db()
    assert model.name_lower == "éclair ångström"
    assert list(search_models(Model.objects.all(), "ångSTRÖM").values_list("pk", flat=True)) == [model.pk]
    assert list(search_models(Model.objects.all(), "éclair ångström").values_list("pk", flat=True)) == [
        model.pk
    ]


def test_a_search_reads_lower_case_names_from_the_sort_index_without_lower_casing_them() -> None:
    """The "name holds it" tier walks the downloads index and tests the lower-case name it carries (INCLUDE): no
    lower() per name it passes."""
    from catalog.search import _relevance_rows

    Model.objects.bulk_create(
        [
            Model(name=f"Model {i} merge", slug=f"m{i}", download_count=i, civitai_id=700_000 + i)
            for i in range(2000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_model")
    rows = _relevance_rows(Model.objects.filter(hidden=False), "Merge", None, 20)
    with connection.cursor() as cursor:
        sql, params = rows.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "using model_downloads_idx" in plan, plan
    assert "(name_lower ~~ '%merge%'::text)" in plan, plan
    assert "lower(" not in plan.lower().replace("name_lower", ""), plan
    assert [m.name for m in rows][:3] == ["Model 1999 merge", "Model 1998 merge", "Model 1997 merge"]
