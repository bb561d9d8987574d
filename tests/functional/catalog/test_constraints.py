"""Constraints live in the database: duplicates of provider ids and malformed hashes are refused there."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Model, ModelFile, SourceRecord, Tag
from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_duplicate_provider_ids_are_refused_by_the_database() -> None:
    model = ModelFactory(civitai_id=1069, hf_repo_id="owner/repo")
    version = ModelVersionFactory(civitai_id=1044)
    file = ModelFileFactory(civitai_id=77)
    image = ImageFactory(civitai_id=88)
    # bulk_create skips Python validation: what refuses these is the database.
    refused(lambda: Model.objects.bulk_create([Model(name="Twin", civitai_id=1069)]))
    refused(lambda: Model.objects.bulk_create([Model(name="Twin", hf_repo_id="owner/repo")]))
    refused(lambda: ModelVersionFactory(civitai_id=version.civitai_id))
    refused(lambda: ModelFileFactory(civitai_id=file.civitai_id))
    refused(lambda: ImageFactory(civitai_id=image.civitai_id))
    SourceRecord.objects.create(model=model, provider="civitai", external_id="1069")
    refused(lambda: SourceRecord.objects.create(model=ModelFactory(), provider="civitai", external_id="1069"))
    # The same external id under another provider is another source.
    SourceRecord.objects.create(model=model, provider="mirror", external_id="1069")


def test_tags_are_unique_case_insensitively() -> None:
    Tag.objects.create(name="Anime")
    refused(lambda: Tag.objects.create(name="anime"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hash_sha256", "abc"),
        ("hash_autov2", "07ca2dc341"),
        ("hash_autov3", "ABCDEF"),
        ("hash_crc32", "XYZ12345"),
    ],
)
def test_malformed_hashes_are_refused(field: str, value: str) -> None:
    refused(lambda: ModelFileFactory(**{field: value}))


def test_well_formed_hashes_are_kept() -> None:
    file = ModelFileFactory(hash_autov3="813EA5FB1C67", hash_autov1="DE2F2560", hash_blake3="A" * 64)
    assert ModelFile.objects.get(pk=file.pk).hashes["AutoV3"] == "813EA5FB1C67"


def test_deleting_a_creator_keeps_its_models() -> None:
    model = ModelFactory()
    model.creator.delete()
    model.refresh_from_db()
    assert model.creator is None
