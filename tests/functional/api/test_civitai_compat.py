"""The Civitai v1-compatible surface against the real responses in ../shared/corpus: for every field the catalog
stores, our answer carries the same key with the same value."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from catalog.sanitize import sanitize_html
from ingest.parsers.common import (
    commercial_use,
    image_id_from_url,
    normalise_hashes,
    nsfw_level,
    parse_datetime,
)
from ingest.parsers.documents import parse_document
from ingest.writer import model_upsert
from tests.conftest import CORPUS
from tests.factories import ModelFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db

TWINS = sorted((CORPUS / "mirror-pages").glob("*.json"))
MODEL_FILES = [*TWINS, CORPUS / "civitai" / "api" / "model_1102_synthwavepunk_2023-02.json"]
VERSION_FILES = [
    CORPUS / "civitai" / "api" / "model-version_242807_2024-03.json",
    CORPUS / "civitai" / "api" / "model-version_1318_2022-12.json",
]


def ingest(path: Path) -> dict:
    for _, record in parse_document(path.read_bytes(), name=path.name):
        model_upsert(record)
    return json.loads(path.read_text()) if path.suffix == ".json" else {}


def date(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def html(value: str | None) -> str | None:
    return sanitize_html(value or "") or None


def same_model(ours: dict, theirs: dict) -> None:
    for key in (
        "id",
        "name",
        "type",
        "poi",
        "nsfw",
        "allowNoCredit",
        "allowDerivatives",
        "allowDifferentLicense",
    ):
        if key in theirs:
            assert ours[key] == (theirs[key].strip() if key == "name" else theirs[key]), key
    assert ours["description"] == html(theirs.get("description"))
    assert set(ours["allowCommercialUse"]) == commercial_use(theirs["allowCommercialUse"], "x", "x")
    for key, value in theirs.get("stats", {}).items():
        assert ours["stats"][key] == value, f"stats.{key}"
    if theirs.get("creator"):
        assert ours["creator"] == {
            "username": theirs["creator"]["username"],
            "image": theirs["creator"]["image"],
        }
    names = [t["name"] if isinstance(t, dict) else t for t in theirs.get("tags", [])]
    assert sorted(ours["tags"]) == sorted(dict.fromkeys(names))  # the catalog keeps tags as a set
    assert [v["id"] for v in ours["modelVersions"]] == [v["id"] for v in theirs["modelVersions"]]
    for mine, source in zip(ours["modelVersions"], theirs["modelVersions"], strict=True):
        same_version(mine, source, model_id=theirs["id"])


def same_version(ours: dict, theirs: dict, *, model_id: int) -> None:
    assert ours["id"] == theirs["id"]
    assert ours["modelId"] == theirs.get("modelId", model_id)
    assert ours["name"] == theirs["name"].strip()  # names are stored trimmed
    for key in ("trainedWords", "baseModel", "baseModelType", "downloadUrl"):
        if key in theirs:
            assert ours[key] == theirs[key], key
    for key in ("createdAt", "updatedAt", "publishedAt"):
        if key in theirs:
            assert date(ours[key]) == date(theirs[key]), key
    assert ours["earlyAccessTimeFrame"] == (theirs.get("earlyAccessTimeFrame") or 0)
    assert ours["description"] == html(theirs.get("description"))
    for key, value in theirs.get("stats", {}).items():
        assert ours["stats"][key] == value, f"stats.{key}"
    assert [f["name"] for f in ours["files"]] == [f["name"] for f in theirs["files"]]
    for mine, source in zip(ours["files"], theirs["files"], strict=True):
        same_file(mine, source)
    assert [i["url"] for i in ours["images"]] == [i["url"] for i in theirs["images"]]
    for mine, source in zip(ours["images"], theirs["images"], strict=True):
        same_image(mine, source)


def same_file(ours: dict, theirs: dict) -> None:
    for key in (
        "id",
        "name",
        "type",
        "pickleScanResult",
        "pickleScanMessage",
        "virusScanResult",
        "downloadUrl",
    ):
        if key in theirs:
            assert ours[key] == theirs[key], key
    if "virusScanMessage" in theirs:
        assert ours["virusScanMessage"] == theirs["virusScanMessage"]
    assert abs(ours["sizeKB"] - theirs["sizeKB"]) < 1 / 1024  # stored as whole bytes
    assert ours["metadata"] == {k: theirs["metadata"].get(k) for k in ("fp", "size", "format")}
    assert date(ours["scannedAt"]) == date(theirs.get("scannedAt"))
    assert ours["hashes"] == {
        {"hash_sha256": "SHA256", "hash_autov1": "AutoV1", "hash_autov2": "AutoV2", "hash_autov3": "AutoV3",
         "hash_crc32": "CRC32", "hash_blake3": "BLAKE3"}[field]: value
        for field, value in normalise_hashes(theirs["hashes"]).items()
    }  # fmt: skip
    assert ours["primary"] == bool(theirs.get("primary"))


def same_image(ours: dict, theirs: dict) -> None:
    assert ours["id"] == (theirs.get("id") or image_id_from_url(theirs["url"]))
    for key in ("url", "width", "height", "hash", "type"):
        if key in theirs:
            assert ours[key] == theirs[key], key
    if isinstance(theirs.get("nsfw"), str):
        assert ours["nsfw"] == theirs["nsfw"]
    assert ours["nsfwLevel"] == (nsfw_level(theirs.get("nsfwLevel")) or nsfw_level(theirs.get("nsfw")) or 0)
    assert ours["meta"] == theirs.get("meta")


@pytest.mark.parametrize("path", MODEL_FILES, ids=[p.stem[:40] for p in MODEL_FILES])
def test_models_answer_as_the_source_did(client, path: Path) -> None:
    theirs = ingest(path)
    response = client.get(f"/api/v1/models/{theirs['id']}")
    assert response.status_code == 200
    same_model(response.json(), theirs)
    # The list answers the same object.
    listed = client.get("/api/v1/models", {"ids": str(theirs["id"]), "nsfw": "true"}).json()["items"]
    assert listed == [response.json()]


@pytest.mark.parametrize("path", VERSION_FILES, ids=[p.stem for p in VERSION_FILES])
def test_model_versions_answer_as_the_source_did(client, path: Path) -> None:
    theirs = ingest(path)
    ours = client.get(f"/api/v1/model-versions/{theirs['id']}").json()
    same_version(ours, theirs, model_id=theirs["modelId"])
    assert ours["model"] == {k: theirs["model"].get(k) for k in ("name", "type", "nsfw", "poi")} | {
        "mode": None
    }
    for file in theirs["files"]:
        for value in normalise_hashes(file["hashes"]).values():
            by_hash = client.get(f"/api/v1/model-versions/by-hash/{value.lower()}")
            assert by_hash.status_code == 200 and by_hash.json()["id"] == theirs["id"]


def test_tags_and_creators_lists_answer_in_civitai_shape(client) -> None:
    ingest(TWINS[0])
    tags = client.get("/api/v1/tags", {"limit": 2}).json()
    assert set(tags["metadata"]) >= {"totalItems", "currentPage", "pageSize", "totalPages"}
    assert set(tags["items"][0]) == {"name", "modelCount", "link"}
    assert tags["items"][0]["modelCount"] == 1
    creators = client.get("/api/v1/creators").json()
    assert set(creators["items"][0]) == {"username", "modelCount", "link", "image"}
    assert creators["items"][0]["link"].endswith(
        f"/api/v1/models?username={creators['items'][0]['username']}"
    )


def test_tags_and_creators_are_counted_by_visible_models_and_kept_until_the_catalog_changes(client) -> None:
    """Most models first, then by name; hidden models are not counted; `query` matches any part in any case;
    pages of `limit`. The counts are kept until the catalog changes, then counted afresh."""
    from catalog.models import Model
    from catalog.services import models_set_hidden
    from tests.factories import CreatorFactory, TagFactory

    anime, style, ink = TagFactory(name="anime"), TagFactory(name="Animal Style"), TagFactory(name="ink")
    ana, bo = (
        CreatorFactory(username="Ana", image_url="https://img.example/ana.png"),
        CreatorFactory(username="bo"),
    )
    for n, (creator, tags) in enumerate(
        [(ana, [anime, style]), (ana, [anime]), (bo, [anime, ink]), (bo, [ink]), (bo, [style])]
    ):
        ModelFactory(name=f"Model {n}", creator=creator, hidden=n == 4).tags.add(*tags)

    def tags(**params) -> list:
        body = client.get("/api/v1/tags", params).json()
        return [(item["name"], item["modelCount"]) for item in body["items"]], body["metadata"]

    assert tags()[0] == [("anime", 3), ("ink", 2), ("Animal Style", 1)]
    assert tags(query="ANIM")[0] == [("anime", 3), ("Animal Style", 1)]
    page, metadata = tags(limit=2, page=2)
    assert page == [("Animal Style", 1)]
    assert metadata["totalItems"] == 3 and metadata["totalPages"] == 2 and "prevPage" in metadata
    creators = client.get("/api/v1/creators", {"query": "a"}).json()["items"]
    assert [(c["username"], c["modelCount"], c["image"]) for c in creators] == [
        ("Ana", 2, "https://img.example/ana.png")
    ]

    models_set_hidden(models=Model.objects.filter(name="Model 0"), hidden=True)
    assert tags()[0] == [("anime", 2), ("ink", 2), ("Animal Style", 0)]
    assert [c["modelCount"] for c in client.get("/api/v1/creators").json()["items"]] == [2, 1]


def test_mirror_only_model_answers_under_the_id_its_versions_report(client) -> None:
    page = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.md"
    ingest(page)
    version = client.get("/api/v1/model-versions/57040").json()
    assert version["modelId"] < 0  # no Civitai model id is known: the catalog's own, negated
    model = client.get(f"/api/v1/models/{version['modelId']}").json()
    assert model["name"] == "Moto Rider"
    assert [v["id"] for v in model["modelVersions"]] == [57040]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/models/987654", "No model with id 987654"),
        ("/api/v1/model-versions/987654", "Model not found"),
        ("/api/v1/model-versions/by-hash/ABCDEF0123", "Model not found"),
        ("/api/v1/model-versions/by-hash/not-hex", "Model not found"),
    ],
)
def test_unknown_ids_get_civitai_404(client, url: str, message: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"error": message}


def test_models_list_parameters(client) -> None:
    lora = ModelFactory(type="LORA", name="Inkwash", download_count=50, nsfw=False, allow_no_credit=False)
    ModelVersionFactory(model=lora, base_model="SD 1.5")
    ckpt = ModelFactory(type="Checkpoint", name="Aurora", download_count=900, nsfw=True)
    ModelVersionFactory(model=ckpt, base_model="SDXL 1.0")
    ModelFactory(type="LORA", name="Hidden", hidden=True)

    def ids(**params) -> list[int]:
        response = client.get("/api/v1/models", params)
        assert response.status_code == 200, response.content
        return [m["id"] for m in response.json()["items"]]

    assert ids(sort="Most Downloaded", nsfw="true") == [ckpt.civitai_id, lora.civitai_id]
    assert ids(types="LORA") == [lora.civitai_id]
    assert ids(types=["LORA", "Checkpoint"], sort="Most Downloaded", nsfw="true") == [
        ckpt.civitai_id,
        lora.civitai_id,
    ]
    assert ids(baseModels="SDXL 1.0", nsfw="true") == [ckpt.civitai_id]
    assert ids(nsfw="false") == [lora.civitai_id]
    assert ids() == [lora.civitai_id]  # nsfw absent: safe for work only, as on Civitai
    assert ids(allowNoCredit="false") == [lora.civitai_id]
    assert ids(query="aurora", nsfw="true") == [ckpt.civitai_id]
    assert ids(ids=f"{lora.civitai_id}") == [lora.civitai_id]
    assert ids(username=lora.creator.username) == [lora.civitai_id]


def test_models_list_pages_and_cursors_reach_every_model_once(client) -> None:
    made = {ModelFactory(download_count=n % 3).civitai_id for n in range(7)}
    first = client.get("/api/v1/models", {"limit": 3, "sort": "Most Downloaded"}).json()
    assert first["metadata"]["totalItems"] == 7
    assert first["metadata"]["totalPages"] == 3
    assert first["metadata"]["currentPage"] == 1
    seen = [m["id"] for m in first["items"]]
    cursor = first["metadata"]["nextCursor"]
    while cursor:
        page = client.get("/api/v1/models", {"limit": 3, "sort": "Most Downloaded", "cursor": cursor}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["metadata"].get("nextCursor")
    assert sorted(seen) == sorted(made)
    assert len(seen) == 7
    page2 = client.get("/api/v1/models", {"limit": 3, "sort": "Most Downloaded", "page": 2}).json()
    assert [m["id"] for m in page2["items"]] == seen[3:6]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "500"}, "limit: must be between 0 and 100"),
        ({"limit": "ten"}, "limit: expected a whole number"),
        ({"sort": "Best"}, "sort: one of"),
        ({"period": "Century"}, "period: one of"),
        ({"nsfw": "maybe"}, "nsfw: expected true or false"),
        ({"allowCommercialUse": "Lots"}, "allowCommercialUse: one of"),
        ({"cursor": "!!!"}, "cursor: not a cursor"),
        ({"query": "x", "page": "2"}, "Cannot use page param with query search"),
        ({"bogus": "1"}, "unknown parameter 'bogus'"),
    ],
)
def test_bad_parameters_get_400_naming_them(client, params, message) -> None:
    response = client.get("/api/v1/models", params)
    assert response.status_code == 400
    assert message in response.json()["error"]
