"""The API's detail and hash-lookup answers are written out from rows (catalog/api/serializers.py: model_data,
file_data): each must be what DRF's ModelSerializer and FileSerializer give for the same model or file, byte for
byte once rendered, for real models and odd ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient, APIRequestFactory

from catalog.api.serializers import FileSerializer, ModelSerializer
from catalog.models import Image, Model, ModelFile
from catalog.selectors import models_with_everything
from ingest.parsers.documents import parse_document
from ingest.writer import model_upsert
from tests.conftest import CORPUS
from tests.factories import ImageFactory, ModelFactory, ModelFileFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db

SOURCES = [
    *sorted((CORPUS / "mirror-pages").glob("*.json"))[:12],
    CORPUS / "civitai" / "api" / "model_1102_synthwavepunk_2023-02.json",
]


def drf_json(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def models() -> list[Model]:
    for path in SOURCES:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            model_upsert(record)
    odd = ModelFactory(creator=None, civitai_id=None, hf_repo_id="someone/repo", published_at=None,
                       name="Ünïcode <b>name</b>", slug="ünïcode-name", license="openrail")  # fmt: skip
    version = ModelVersionFactory(model=odd, name="", trained_words=[], published_at=None, early_access_days=None,
                                  hf_sha="0123456789abcdef0123456789abcdef01234567")  # fmt: skip
    ModelFileFactory(
        version=version, size_bytes=None, scanned_at=datetime(2024, 2, 29, 23, 59, 59, 5, tzinfo=UTC)
    )
    ImageFactory(version=version, steps=None, cfg_scale=None, width=None, height=None, meta={"Clip skip": 2},
                 thumbnail="images/thumbnail/a b.webp", original="images/original/a b.png",
                 mirror_status="mirrored")  # fmt: skip
    ModelFactory(name="No versions at all")
    return list(Model.objects.order_by("pk"))


def test_detail_answers_are_what_drf_gives(models) -> None:
    assert len(models) >= 10
    assert Image.objects.exclude(thumbnail="").exists() and Image.objects.filter(thumbnail="").exists()
    request = APIRequestFactory().get("/", HTTP_HOST="testserver")
    api = APIClient()
    for model in models_with_everything(Model.objects.order_by("pk")):
        expected = drf_json(ModelSerializer(model, context={"request": request}).data)
        response = api.get(f"/api/models/{model.pk}/")
        assert response.status_code == 200
        assert response.content == expected, model.name
    odd = api.get(f"/api/models/{models[-2].pk}/").json()
    assert odd["creator"] is None and odd["license"] == "openrail"
    image = odd["versions"][0]["images"][0]
    assert image["thumbnail_url"] == "http://testserver/media/images/thumbnail/a%20b.webp"
    assert image["mirror_status"] == "mirrored" and image["meta"] == {"Clip skip": 2}
    assert odd["versions"][0]["files"][0]["scanned_at"] == "2024-02-29T23:59:59.000005Z"
    assert api.get(f"/api/models/{models[-1].pk}/").json()["versions"] == []


def test_version_answers_are_what_drf_gives(models) -> None:
    """The version list, paged to the end, and each version's detail: VersionSerializer's answers."""
    from catalog.api.serializers import VersionSerializer
    from catalog.models import ModelVersion

    request = APIRequestFactory().get("/", HTTP_HOST="testserver")
    api = APIClient()
    versions = ModelVersion.objects.filter(model__hidden=False).prefetch_related("files", "images")
    expected = {
        v.pk: json.loads(drf_json(VersionSerializer(v, context={"request": request}).data)) for v in versions
    }
    assert len(expected) >= 10 and any(item["images"] for item in expected.values())
    seen, url = [], "/api/versions/?limit=4"
    while url:
        assert len(seen) <= len(expected), "the cursor went round"
        body = api.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert seen == sorted(expected.values(), key=lambda item: -item["id"])
    for pk, item in expected.items():
        response = api.get(f"/api/versions/{pk}/")
        assert response.content == drf_json(item), pk
    for pk in ("0", str(2**63), "abc"):
        assert api.get(f"/api/versions/{pk}/").status_code == 404
    hidden = ModelVersionFactory(model=ModelFactory(hidden=True))
    assert api.get(f"/api/versions/{hidden.pk}/").status_code == 404
    assert api.get("/api/versions/", {"model": hidden.model_id}).json()["results"] == []


def test_hash_lookups_answer_what_drf_gives(models) -> None:
    api = APIClient()
    files = list(ModelFile.objects.select_related("version").exclude(hash_sha256=None).order_by("pk")[:15])
    assert files
    for file in files:
        for value in (file.hash_sha256, file.hash_sha256.lower(), file.hash_autov2):
            if not value:
                continue
            same = ModelFile.objects.select_related("version").filter(pk__in=[
                f.pk for f in ModelFile.objects.all() if value.upper() in (f.hash_sha256, f.hash_autov2)
            ]).order_by("pk")  # fmt: skip
            response = api.get(f"/api/files/by-hash/{value}/")
            assert response.status_code == 200
            assert response.content == drf_json(FileSerializer(list(same), many=True).data)
            assert json.loads(response.content)[0]["model"] == file.version.model_id
    missing = api.get("/api/files/by-hash/0123456789/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No file has the hash 0123456789."}


def test_answers_in_another_time_zone_are_what_drf_gives(models, settings) -> None:
    from catalog.api.serializers import ModelBriefSerializer

    settings.TIME_ZONE = (
        "Asia/Kolkata"  # answers' timestamps are written in the current time zone, as DRF does
    )
    request = APIRequestFactory().get("/", HTTP_HOST="testserver")
    api = APIClient()
    model = next(m for m in models_with_everything(Model.objects.order_by("pk")) if m.published_at)
    detail = api.get(f"/api/models/{model.pk}/")
    assert detail.content == drf_json(ModelSerializer(model, context={"request": request}).data)
    assert detail.json()["published_at"].endswith("+05:30")
    listed = api.get("/api/models/?sort=oldest&limit=100").json()["results"]
    everything = list(Model.objects.select_related("creator").filter(pk__in=[m["id"] for m in listed]))
    drf = {m.pk: serializers_drf(ModelBriefSerializer(), m) for m in everything}
    assert listed and all(item == drf[item["id"]] for item in listed)


def serializers_drf(serializer, model: Model) -> dict:
    from rest_framework import serializers

    return json.loads(drf_json(serializers.ModelSerializer.to_representation(serializer, model)))
