"""Nothing lost: `manage.py export` then `manage.py ingest` into an empty catalog gives the same catalog."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Image, Model
from catalog.services import models_set_featured, models_set_hidden
from ingest.pipeline import ingest_run_execute
from ingest.runs import ingest_run_create
from tests.catalog_state import snapshot, wipe

pytestmark = pytest.mark.django_db


def _without_catalog_ids(value, *, every_id: bool = False):
    """Leave out the catalog's own row ids, which a restore renumbers: every "id" of the catalog's API (its
    provider ids are fields of their own), and the negative ids Civitai's shape gives rows Civitai never named."""
    if isinstance(value, dict):
        return {
            k: _without_catalog_ids(v, every_id=every_id)
            for k, v in value.items()
            if not (k in ("id", "modelId", "model", "version") and isinstance(v, int) and (every_id or v < 0))
            and k != "url"
        }
    if isinstance(value, list):
        return [_without_catalog_ids(v, every_id=every_id) for v in value]
    return value


def _first_difference(a, b, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r:.200} != {b!r:.200}"


def api_answers(client) -> dict:
    """What API clients see of every visible model: Civitai's shape and the catalog's own detail."""
    answers = {}
    for model in Model.objects.visible().order_by("civitai_id", "hf_repo_id", "name"):
        key = f"{model.civitai_id}|{model.hf_repo_id}|{model.name}"
        v1 = client.get(f"/api/v1/models/{model.civitai_id or -model.pk}")
        own = client.get(f"/api/models/{model.pk}/")
        assert v1.status_code == own.status_code == 200
        answers[key] = {
            "v1": _without_catalog_ids(v1.json()),
            "own": _without_catalog_ids(own.json(), every_id=True),
        }
    return answers


def test_export_then_ingest_into_an_empty_catalog_gives_back_the_same_catalog(
    corpus_sources: list[str], tmp_path: Path, client
) -> None:
    run = ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources, local_files=True))
    assert run.failed_count == 0, run.errors
    first, second, third = Model.objects.order_by("pk")[:3]
    models_set_hidden(models=Model.objects.filter(pk=first.pk), hidden=True)
    models_set_featured(models=Model.objects.filter(pk=second.pk), featured=True)
    Model.objects.filter(pk=third.pk).update(admin_notes="Checked by hand: the v2 file is the one to use.")
    image = Image.objects.filter(version__model=second).order_by("pk").first()
    Image.objects.filter(pk=image.pk).update(
        mirror_status="mirrored",
        original="images/original/restored.jpeg",
        thumbnail="images/thumbnail/restored.webp",
        mirrored_at=timezone.now(),
    )
    before, answers_before = snapshot(), api_answers(client)
    path = tmp_path / "catalog.jsonl.gz"

    call_command("export", str(path))

    lines = gzip.decompress(path.read_bytes()).splitlines()
    assert len(lines) == len(before) > 300
    sample = json.loads(lines[0])
    assert {"id", "name", "modelVersions", "stats", "catalog"} <= set(sample)  # Civitai's shape, plus ours

    wipe()
    assert Model.objects.count() == 0
    call_command("ingest", str(path), "--no-progress")

    after = snapshot()
    assert len(after) == len(before)
    for a, b in zip(after, before, strict=True):
        assert a == b, a["name"]
    answers_after = api_answers(client)
    for key, answer in answers_before.items():
        assert answers_after[key] == answer, (key, _first_difference(answers_after[key], answer))
    assert Model.objects.get(hidden=True).name == first.name
    assert Model.objects.get(featured=True).name == second.name


def test_a_damaged_export_line_is_a_clear_error_and_the_rest_go_in(corpus_sources, tmp_path: Path) -> None:
    ingest_run_execute(ingest_run_create(kind="cli", sources=corpus_sources[1:2], local_files=True))
    path = tmp_path / "catalog.jsonl"
    call_command("export", str(path))
    lines = path.read_text().splitlines()
    broken = json.loads(lines[0])
    broken["catalog"]["record"]["versions"][0]["colour"] = "blue"
    path.write_text("\n".join([json.dumps(broken), *lines[1:]]) + "\n")
    wipe()

    run = ingest_run_execute(ingest_run_create(kind="cli", sources=[str(path)], local_files=True))

    assert run.failed_count == 1
    assert run.errors[0]["input"] == f"{path}:1"
    assert "unknown field 'colour'" in run.errors[0]["message"]
    assert "catalog.record.versions[0]" in run.errors[0]["message"]
    assert run.created_count == len(lines) - 1
