"""The list's brief serializer writes its answer out by hand (catalog/api/serializers.py): it must give what DRF's
field-by-field serializing of the same fields gives, for every model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework import serializers

from catalog.api.serializers import ModelBriefSerializer
from catalog.models import Availability, Model
from ingest.parsers.documents import parse_document
from ingest.writer import model_upsert
from tests.conftest import CORPUS
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def drf(model: Model) -> dict:
    return serializers.ModelSerializer.to_representation(ModelBriefSerializer(), model)


def test_brief_answers_are_what_drf_gives_for_real_and_odd_models() -> None:
    for path in sorted((CORPUS / "mirror-pages").glob("*.json"))[:20]:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            model_upsert(record)
    ModelFactory(creator=None, civitai_id=None, hf_repo_id="someone/repo", published_at=None, rating=4.25,
                 availability=Availability.TAKEN_DOWN, allow_commercial_image=False, allow_commercial_sell=False,
                 allow_commercial_rent_civit=True, allow_commercial_rent=True,
                 name="Ünïcode / name", slug="ünïcode-name")  # fmt: skip
    ModelFactory(published_at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC), featured=True)
    models = list(Model.objects.select_related("creator").order_by("pk"))
    assert len(models) >= 10
    for model in models:
        ours = ModelBriefSerializer(model).data
        assert ours == drf(model)
        assert list(ours) == list(drf(model))  # the same keys in the same order
    odd = ModelBriefSerializer(models[-2]).data
    assert (
        odd["creator"] is None
        and odd["published_at"] is None
        and odd["allow_commercial_use"] == ["RentCivit", "Rent"]
    )
    assert ModelBriefSerializer(models[-1]).data["published_at"] == "2024-02-29T23:59:59.123456Z"
