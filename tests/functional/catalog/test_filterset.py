"""The model list's FilterSet copies its filters cheaply (catalog/filters.py): each FilterSet still has filters
of its own, bound to it (weakly), and the class's filters are left as they were."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from catalog.filters import ModelFilterSet
from catalog.models import Model
from tests.factories import ModelFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_each_filterset_has_its_own_filters_bound_to_it() -> None:
    ink = ModelFactory(name="Inkwash", type="LORA", download_count=5)
    ink.tags.add(TagFactory(name="ink"))
    ModelFactory(name="Photon", type="Checkpoint", download_count=9)
    first = ModelFilterSet(QueryDict("query=inkwash&tag=ink"), queryset=Model.objects.all())
    second = ModelFilterSet(QueryDict("type=Checkpoint"), queryset=Model.objects.all())
    assert first.is_valid() and second.is_valid()
    # Made one after the other, evaluated the other way round: each reads its own parameters.
    assert [m.name for m in second.qs] == ["Photon"]
    assert [m.name for m in first.qs] == ["Inkwash"]
    for filterset in (first, second):
        for name, filter_ in filterset.filters.items():
            # Its parent is this FilterSet, held weakly.
            assert filter_.parent.filters is filterset.filters, name
            assert filter_ is not ModelFilterSet.base_filters[name]
            if filter_.method is not None:
                assert filter_.filter.f is filter_, name  # the method filter calls its own FilterSet
    assert all(not hasattr(f, "parent") for f in ModelFilterSet.base_filters.values())
    assert first.form is not second.form and type(first.form) is type(second.form)
    # Nothing else holds a FilterSet: it goes with its last reference, not with a garbage collection.
    query_filter = first.filters["query"]
    del first
    with pytest.raises(ReferenceError):
        getattr(query_filter.parent, "filters")  # noqa: B009 (the proxy raises on access)


def test_a_bad_parameter_is_still_an_error_naming_it() -> None:
    filterset = ModelFilterSet(QueryDict("nsfw=perhaps&sort=sideways"), queryset=Model.objects.all())
    assert not filterset.is_valid()
    assert set(filterset.errors) == {"nsfw", "sort"}
    assert "perhaps" in filterset.errors["nsfw"][0]


@pytest.mark.parametrize("name", ["tag", "exclude_tag", "type", "base_model"])
def test_an_overlong_value_is_refused_saying_how_long_and_showing_only_its_start(client, name) -> None:
    tag = TagFactory(name="t" * 255)  # the longest a value may be
    ModelFactory(name="Longtagged").tags.add(tag)
    answer = client.get("/api/models/", {name: ["ok", "x" * 300]})
    assert answer.status_code == 400
    message = answer.json()[name][0]
    assert message == f"At most 255 characters a value; this one has 300: {'x' * 40!r}…"
    page = client.get("/", {name: "y" * 256})
    assert page.status_code == 400
    assert "At most 255 characters a value; this one has 256" in page.content.decode()
    if name == "tag":
        found = client.get("/api/models/", {"tag": "t" * 255}).json()["results"]
        assert [m["name"] for m in found] == ["Longtagged"]


def test_the_listed_models_are_built_when_first_read_and_a_queryset_set_later_is_kept() -> None:
    ModelFactory(name="Shown")
    ModelFactory(name="Curated away", hidden=True)
    filterset = ModelFilterSet(QueryDict(""))
    assert [m.name for m in filterset.queryset] == ["Shown"]  # the visible models, as lists show them
    filterset.queryset = Model.objects.all()
    assert sorted(m.name for m in filterset.queryset) == ["Curated away", "Shown"]


def test_a_renamed_model_is_found_by_its_new_name_however_it_was_renamed(client) -> None:
    """The search compares with Model.name_lower, which the database keeps from the name: a rename by the ORM's
    save, by a queryset update (as the admin's bulk actions and ingest's batched writer do) and by SQL alike."""
    saved, updated, by_sql = (ModelFactory(name=f"Old name {i}") for i in range(3))
    saved.name = "Glacier Mix"
    saved.save()
    Model.objects.filter(pk=updated.pk).update(name="Glacier Dream")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_model SET name = %s WHERE id = %s", ["GLACIER Tide", by_sql.pk])

    assert sorted(Model.objects.values_list("name_lower", flat=True)) == [
        "glacier dream",
        "glacier mix",
        "glacier tide",
    ]
    for path in ["/api/models/?query=glacier", "/api/models/?query=GLACIER&sort=downloads"]:
        answer = client.get(path)
        assert answer.status_code == 200, answer.content
        assert sorted(m["name"] for m in answer.json()["results"]) == [
            "GLACIER Tide",
            "Glacier Dream",
            "Glacier Mix",
        ]
    answer = client.get("/api/models/?query=glacier mix")
    assert [m["name"] for m in answer.json()["results"]] == ["Glacier Mix"]
    assert client.get("/api/models/?query=old name").json()["results"] == []
