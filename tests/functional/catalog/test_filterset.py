"""The model list's FilterSet (catalog/filters.py): its errors, its default models, and search by the name."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from catalog.filters import ModelFilterSet
from catalog.models import Model
from tests.factories import ModelFactory, TagFactory

pytestmark = pytest.mark.django_db


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


def test_by_default_the_visible_models_are_filtered_and_a_queryset_given_is_taken() -> None:
    ModelFactory(name="Shown")
    ModelFactory(name="Curated away", hidden=True)
    assert [m.name for m in ModelFilterSet(QueryDict("")).qs] == ["Shown"]
    everything = ModelFilterSet(QueryDict(""), queryset=Model.objects.all())
    assert sorted(m.name for m in everything.qs) == ["Curated away", "Shown"]


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
