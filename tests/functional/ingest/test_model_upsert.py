"""The one writer: upserts keyed by provider ids, idempotent, merging a mirror page with its JSON twin."""

from __future__ import annotations

import copy

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Image, IngestRun, Model, ModelFile, ModelVersion, SourceRecord, Tag
from ingest.parsers.civitai import civitai_parse_model
from ingest.parsers.mirror import mirror_parse_page
from ingest.runs import CREATED, UNCHANGED, UPDATED
from ingest.writer import model_upsert
from tests.conftest import CORPUS, load_json

pytestmark = pytest.mark.django_db

MOTO = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider"
CYBER = CORPUS / "mirror-pages" / "Checkpoint.rank-00017.dl-110210.rating-4.95.CyberRealistic"


def at(stem, suffix: str):
    return stem.with_name(f"{stem.name}.{suffix}")


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Model, ModelVersion, ModelFile, Image, Tag, SourceRecord))


def test_ingest_writes_every_field() -> None:
    result = model_upsert(civitai_parse_model(load_json(at(MOTO, "json")), source="moto"))
    assert result.outcome == CREATED
    model = Model.objects.get(pk=result.model_id)
    assert (model.civitai_id, model.name, model.type, model.slug) == (
        52645,
        "Moto Rider",
        "Checkpoint",
        "moto-rider",
    )
    assert model.creator.username == "xiaoen0426"
    assert sorted(model.tags.values_list("name", flat=True)) == [
        "car",
        "girls",
        "motorcycle",
        "night",
        "vehicle",
    ]
    assert model.allow_commercial_use == []
    assert (model.download_count, model.favorite_count, model.rating) == (362, 134, 1.5)
    version = model.versions.get()
    assert (version.civitai_id, version.base_model, version.position) == (57040, "SD 2.1", 0)
    file = version.files.get()
    assert file.hash_autov2 == "07CA2DC341"
    assert file.is_primary
    assert model.image_count == version.images.count() > 0


def test_reingest_changes_nothing() -> None:
    record = civitai_parse_model(load_json(at(CYBER, "json")), source="cyber")
    model_upsert(record)
    before = counts()
    stamps = list(ModelVersion.objects.order_by("pk").values_list("updated_at", flat=True))
    model_stamp = Model.objects.get().updated_at
    again = model_upsert(civitai_parse_model(load_json(at(CYBER, "json")), source="cyber"))
    assert again.outcome == UNCHANGED
    assert counts() == before
    assert list(ModelVersion.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps
    assert Model.objects.get().updated_at == model_stamp


def test_newer_payload_updates_in_place() -> None:
    data = load_json(at(CYBER, "json"))
    model_upsert(civitai_parse_model(data, source="cyber"))
    before = counts()
    newer = copy.deepcopy(data)
    newer["stats"]["downloadCount"] += 1000
    newer["name"] = "CyberRealistic Renamed"
    newer["modelVersions"][0]["files"][0]["hashes"]["AutoV3"] = "ABCDEF012345"
    result = model_upsert(civitai_parse_model(newer, source="cyber"))
    assert result.outcome == UPDATED
    assert counts() == before
    model = Model.objects.get()
    assert model.name == "CyberRealistic Renamed"
    assert model.download_count == data["stats"]["downloadCount"] + 1000
    assert ModelFile.objects.filter(hash_autov3="ABCDEF012345").count() == 1


def test_mirror_page_and_its_twin_become_one_model_in_either_order() -> None:
    for first, second in [("json", "md"), ("md", "json")]:
        Model.objects.all().delete()
        for kind in (first, second):
            raw = at(CYBER, kind)
            if kind == "json":
                model_upsert(civitai_parse_model(load_json(raw), source=raw.name))
            else:
                model_upsert(mirror_parse_page(raw.read_bytes(), source=raw.name))
        assert Model.objects.count() == 1
        model = Model.objects.get()
        twin = load_json(at(CYBER, "json"))
        assert model.civitai_id == twin["id"]
        assert model.versions.count() == len(twin["modelVersions"])
        assert ModelFile.objects.count() == sum(len(v["files"]) for v in twin["modelVersions"])
        assert Image.objects.count() == sum(len(v["images"]) for v in twin["modelVersions"])
        assert set(model.sources.values_list("provider", flat=True)) == {"civitai", "mirror"}
        # What only the API knows survives the page.
        assert ModelFile.objects.filter(hash_sha256__isnull=False).count() == ModelFile.objects.count()


def test_mirror_page_without_versions_is_recognised_again() -> None:
    page = CORPUS / "mirror-pages" / "Checkpoint.rank-02311.dl-443.rating-0.oekakiMix.md"
    assert model_upsert(mirror_parse_page(page.read_bytes(), source=page.name)).outcome == CREATED
    assert model_upsert(mirror_parse_page(page.read_bytes(), source="copy.md")).outcome == UNCHANGED
    assert Model.objects.count() == 1
    assert Model.objects.get().type == "Checkpoint"


def test_page_with_no_type_anywhere_is_other() -> None:
    page = at(MOTO, "md")
    model_upsert(mirror_parse_page(page.read_bytes(), source="moto.md"))
    assert Model.objects.get().type == "Other"


def test_archived_model_keeps_its_files() -> None:
    data = load_json(at(MOTO, "json"))
    model_upsert(civitai_parse_model(data, source="moto"))
    archived = copy.deepcopy(data)
    archived["mode"] = "Archived"
    for version in archived["modelVersions"]:
        version["files"] = []
    model_upsert(civitai_parse_model(archived, source="moto"))
    model = Model.objects.get()
    assert model.availability == "archived"
    assert ModelFile.objects.filter(version__model=model).count() == 1


def test_ingest_command_on_the_corpus(capsys) -> None:
    call_command("ingest", str(CORPUS / "mirror-pages"), str(CORPUS / "civitai" / "api"), "--no-progress")
    out = capsys.readouterr().out
    run = IngestRun.objects.get()
    assert run.status == "succeeded"
    assert run.failed_count == 0
    assert run.created_count >= 25
    assert f"Ingest run #{run.pk}: {run.created_count} created" in out
    # 25 pages and their 25 twins are 25 models (the page with no versions too), plus the other responses'.
    assert Model.objects.filter(sources__provider="mirror").distinct().count() == 25
    assert Model.objects.filter(sources__provider="mirror", civitai_id__isnull=True).count() == 0
    assert Model.objects.filter(civitai_id=1102).exists()


def test_ingest_command_reports_failures_and_exits_non_zero(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": 5, "name": "x", "modelVersions": "nope"}')
    with pytest.raises(CommandError, match="1 input"):
        call_command("ingest", str(bad), "--no-progress")
    out = capsys.readouterr().out
    assert f"failed: {bad}: modelVersions: expected a list, got str" in out
    assert Model.objects.count() == 0
