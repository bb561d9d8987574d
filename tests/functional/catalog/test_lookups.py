"""`__any_of`: the batched ingest's "which of these ids does the catalog have", on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from catalog.models import Model, SourceRecord
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def test_any_of_finds_the_rows_with_one_of_the_values() -> None:
    a, b, c = ModelFactory(civitai_id=11), ModelFactory(civitai_id=12), ModelFactory(civitai_id=13)
    found = Model.objects.filter(civitai_id__any_of={11, 12, 99, None}).order_by("civitai_id")
    assert list(found) == [a, b]
    assert not Model.objects.filter(civitai_id__any_of=[]).exists()
    assert list(Model.objects.filter(pk__any_of=Model.objects.filter(civitai_id=13).values("pk"))) == [c]


def test_any_of_compares_text_and_expressions() -> None:
    model = ModelFactory(name="Aurora")
    SourceRecord.objects.create(model=model, provider="civitai", external_id="abc", url="https://x/abc")
    assert list(SourceRecord.objects.filter(external_id__any_of=["abc", "zzz"])) == [model.sources.get()]
    lowered = Model.objects.annotate(lname=Lower("name")).filter(lname__any_of={"aurora"})
    assert list(lowered) == [model]


@pytest.mark.postgres
def test_any_of_sends_the_values_as_one_array_on_postgresql() -> None:
    ModelFactory(civitai_id=5)
    ids = list(range(1, 6001))
    with CaptureQueriesContext(connection) as queries:
        assert Model.objects.filter(civitai_id__any_of=ids).count() == 1
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert '"civitai_id" = ANY(' in sql and "IN (" not in sql
