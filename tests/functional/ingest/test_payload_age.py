"""What the catalog holds stays right whatever order payloads come in: an older payload never rolls a model back,
versions stay newest first, a model gone from its source keeps its last good data, and one bad image URL costs
that image only."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from catalog.models import Availability, Image, IngestRun, Model
from ingest.parsers.civitai import civitai_parse_model
from ingest.pipeline import ingest_run_execute
from ingest.runs import ingest_run_create
from ingest.writer import model_upsert
from tests.conftest import CORPUS

pytestmark = pytest.mark.django_db

WONTON = CORPUS / "mirror-pages" / "Checkpoint.rank-00167.dl-12697.rating-4.96.Three_Delicacy_Wonton_Mix.json"


def _earlier(value: str | None, days: int) -> str | None:
    if value is None:
        return None
    return (datetime.fromisoformat(value.replace("Z", "+00:00")) - timedelta(days=days)).isoformat()


def newer_and_older() -> tuple[dict, dict]:
    """The real payload, and one of the same model a month before: another name, fewer downloads, other tags,
    without the newest version (V2) and with an early version (V0.9) the newer payload no longer lists."""
    newer = json.loads(WONTON.read_text())
    older = copy.deepcopy(newer)
    older["name"] = "Wonton Mix (old name)"
    older["stats"]["downloadCount"] = 100
    older["tags"] = ["anime"]
    older["modelVersions"] = older["modelVersions"][1:]
    early = copy.deepcopy(older["modelVersions"][-1])
    early.update(id=11111, name="V0.9", files=[], images=[], createdAt="2023-02-01T00:00:00.000Z")
    older["modelVersions"].append(early)
    for version in older["modelVersions"]:
        for key in ("createdAt", "updatedAt", "publishedAt"):
            if version is not early or key != "createdAt":
                version[key] = _earlier(version.get(key), 30)
    return newer, older


def ingest(payload: dict) -> None:
    model_upsert(civitai_parse_model(payload, source="test"))


def version_names(model: Model) -> list[str]:
    return list(model.versions.order_by("position").values_list("name", flat=True))


def test_an_older_payload_never_rolls_back_newer_values_but_adds_what_is_missing() -> None:
    newer, older = newer_and_older()
    ingest(newer)
    ingest(older)
    model = Model.objects.get(civitai_id=20330)
    assert model.name == "Three Delicacy Wonton (三餡馄饨Mix)"
    assert model.download_count == 12697
    assert sorted(model.tags.values_list("name", flat=True)) == sorted(newer["tags"])
    # The version only the older payload had is added, by its date: last. The newest stays first.
    assert version_names(model) == ["V2", "V1.3+Anime", "V1.2+MSG", "V1.1", "V1.0", "V0.9"]
    v2 = model.versions.get(name="V1.3+Anime")
    assert v2.source_updated_at.isoformat().startswith("2023-04-05T03:49:30")


def test_a_newer_payload_after_an_older_one_updates_and_orders_newest_first() -> None:
    newer, older = newer_and_older()
    ingest(older)
    ingest(newer)
    model = Model.objects.get(civitai_id=20330)
    assert (model.name, model.download_count) == ("Three Delicacy Wonton (三餡馄饨Mix)", 12697)
    assert sorted(model.tags.values_list("name", flat=True)) == sorted(newer["tags"])
    assert version_names(model) == ["V2", "V1.3+Anime", "V1.2+MSG", "V1.1", "V1.0", "V0.9"]


def test_a_taken_down_payload_keeps_every_last_good_value() -> None:
    newer, _ = newer_and_older()
    ingest(newer)
    held = Model.objects.get(civitai_id=20330)
    images = Image.objects.filter(version__model=held).count()
    gone = copy.deepcopy(newer)
    gone.update(mode="TakenDown", description=None, tags=[], name="Three Delicacy Wonton (三餡馄饨Mix)")
    gone["stats"] = {"downloadCount": 0, "favoriteCount": 0, "commentCount": 0, "ratingCount": 0, "rating": 0}
    for version in gone["modelVersions"]:
        version["images"] = []  # TakenDown: no images (FORMATS.md §1.3)
    ingest(gone)
    model = Model.objects.get(civitai_id=20330)
    assert model.availability == Availability.TAKEN_DOWN
    assert model.description == held.description and model.description.startswith("<p>")
    assert (model.download_count, model.favorite_count, model.rating) == (12697, 4404, 4.96)
    assert model.tags.count() == len(newer["tags"])
    assert Image.objects.filter(version__model=model).count() == images == 48
    # Archived: no files, and they are kept too.
    files = sum(v.files.count() for v in model.versions.all())
    archived = copy.deepcopy(gone)
    archived["mode"] = "Archived"
    for version in archived["modelVersions"]:
        version["files"] = []
    ingest(archived)
    model.refresh_from_db()
    assert model.availability == Availability.ARCHIVED
    assert sum(v.files.count() for v in model.versions.all()) == files == 10


@pytest.mark.parametrize("status", [404, 410])
def test_a_model_the_source_no_longer_has_is_marked_removed_by_manage_py_ingest(
    standin, settings, status
) -> None:
    newer, _ = newer_and_older()
    ingest(newer)
    standin.expect_request("/api/v1/models/20330").respond_with_json(
        {"error": "No model with id 20330"}, status
    )
    with pytest.raises(Exception, match="1 input"):
        call_command("ingest", f"{settings.CIVITAI_BASE_URL}/models/20330", "--no-progress")
    model = Model.objects.get(civitai_id=20330)
    assert model.availability == Availability.REMOVED
    assert model.name == "Three Delicacy Wonton (三餡馄饨Mix)"  # its data kept
    run = IngestRun.objects.get()
    assert run.errors[0]["message"] == f"Civitai has no model 20330 (HTTP {status})"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "not an http(s) URL: 'file:///etc/passwd'"),
        ("http://10.0.0.7/a/width=450/1.jpeg", "not a public address: 10.0.0.7"),
        ("http://127.0.0.1:8000/x.jpeg", "not a public address: 127.0.0.1"),
        ("http://[::1]/x.jpeg", "not a public address: ::1"),
        ("https://localhost/x.jpeg", "not a public host: 'localhost'"),
    ],
)
def test_an_unusable_image_url_drops_that_image_keeps_the_model_and_warns(tmp_path, url, reason) -> None:
    newer, _ = newer_and_older()
    newer["modelVersions"][0]["images"][3]["url"] = url
    path = tmp_path / "wonton.json"
    path.write_text(json.dumps(newer))
    run = ingest_run_execute(ingest_run_create(kind="ingest", sources=[str(path)], local_files=True))
    assert (run.created_count, run.failed_count, run.status) == (1, 0, "succeeded")
    model = Model.objects.get(civitai_id=20330)
    assert Image.objects.filter(version__model=model).count() == 47
    assert not Image.objects.filter(url=url).exists()
    assert run.warnings == [
        {"input": str(path), "message": f"modelVersions[0].images[3].url: dropped the image: {reason}"}
    ]
