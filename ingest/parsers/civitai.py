"""Civitai REST API v1 payloads of every era (2022-2026) into records. See ../shared/corpus/FORMATS.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.sanitize import sanitize_html
from ingest.errors import ParseError
from ingest.parsers.common import (
    Obj,
    clean_text,
    commercial_use,
    http_url,
    image_id_from_url,
    image_url_problem,
    normalise_hashes,
    nsfw_level,
    seed_text,
    to_float,
    to_int,
)
from ingest.records import CreatorRecord, FileRecord, ImageRecord, ModelRecord, TagRecord, VersionRecord

MODES = {"archived": "archived", "takendown": "taken_down"}
MAX_TEXT = 200_000


def civitai_model_url(base_url: str, model_id: int) -> str:
    return f"{base_url.rstrip('/')}/models/{model_id}"


def civitai_parse_model(data: Any, *, source: str, base_url: str = "https://civitai.com") -> ModelRecord:
    """One Civitai model object (a `/models` list item or a `/models/{id}` response)."""
    obj = Obj(data, source, "")
    model_id = obj.int("id", required=True)
    name = obj.text("name", required=True, max_length=1000)
    if not name:
        raise obj.error("name", "empty")
    mode = (obj.str("mode") or "").replace("_", "").lower()
    versions = tuple(civitai_parse_version(v) for v in obj.objs("modelVersions"))
    stats = obj.obj("stats") or Obj({}, source, "stats")
    creator = obj.obj("creator")
    commercial = commercial_use(obj.raw("allowCommercialUse"), source, "allowCommercialUse")
    return ModelRecord(
        provider="civitai",
        source_key=str(model_id),
        source_url=civitai_model_url(base_url, model_id),
        civitai_id=model_id,
        name=name,
        type=_type(obj),
        description=sanitize_html(obj.str("description", max_length=MAX_TEXT) or ""),
        creator=_creator(creator),
        tags=_tags(obj),
        nsfw=_model_nsfw(obj),
        nsfw_level=obj.int("nsfwLevel") if isinstance(obj.raw("nsfwLevel"), int) else None,
        poi=obj.bool("poi"),
        minor=obj.bool("minor"),
        allow_no_credit=obj.bool("allowNoCredit"),
        allow_derivatives=obj.bool("allowDerivatives"),
        allow_different_license=obj.bool("allowDifferentLicense"),
        allow_commercial_use=commercial,
        download_count=stats.int("downloadCount"),
        favorite_count=stats.int("favoriteCount"),
        thumbs_up_count=stats.int("thumbsUpCount"),
        thumbs_down_count=stats.int("thumbsDownCount"),
        comment_count=stats.int("commentCount"),
        rating_count=stats.int("ratingCount"),
        rating=_rating(stats),
        tipped_amount_count=stats.int("tippedAmountCount"),
        availability=MODES.get(mode, "active"),
        source_availability=obj.text("availability", max_length=32),
        versions=versions,
        versions_complete=True,
    )


def civitai_parse_version_payload(
    data: Any, *, source: str, base_url: str = "https://civitai.com"
) -> ModelRecord:
    """A `/model-versions/{id}` (or by-hash) response, or a `.civitai.info` file: one version and a model stub."""
    obj = Obj(data, source, "")
    version = civitai_parse_version(obj)
    model_id = obj.int("modelId", required=True)
    stub = obj.obj("model")
    if stub is None:
        raise obj.error("model", "missing: a model-version payload names its model")
    name = stub.text("name", required=True, max_length=1000)
    if not name:
        raise stub.error("name", "empty")
    mode = (stub.str("mode") or "").replace("_", "").lower()
    return ModelRecord(
        provider="civitai",
        source_key=str(model_id),
        source_url=civitai_model_url(base_url, model_id),
        civitai_id=model_id,
        name=name,
        type=_type(stub),
        nsfw=_model_nsfw(stub),
        poi=stub.bool("poi"),
        minor=stub.bool("minor"),
        availability=MODES.get(mode) if mode else None,
        # A `.civitai.info` written by Civitai Helper may carry the creator beside the version.
        creator=_creator(obj.obj("creator")),
        versions=(version,),
        versions_complete=False,
    )


def civitai_parse_version(obj: Obj) -> VersionRecord:
    """One ModelVersion object."""
    version_id = obj.int("id", required=True)
    stats = obj.obj("stats") or Obj({}, obj.source, obj._name("stats"))
    files = tuple(_file(f, i) for i, f in enumerate(obj.objs("files")))
    images, warnings = [], []
    for img in obj.objs("images"):
        problem = image_url_problem(img.str("url", required=True, max_length=2048))
        if problem:
            warnings.append(f"{img._name('url')}: dropped the image: {problem}")
        else:
            images.append(_image(img))
    early_days = obj.int("earlyAccessTimeFrame")
    return VersionRecord(
        civitai_id=version_id,
        name=obj.text("name", max_length=1000) or "",
        description=sanitize_html(obj.str("description", max_length=MAX_TEXT) or ""),
        base_model=obj.text("baseModel", max_length=64),
        base_model_type=obj.text("baseModelType", max_length=32),
        trained_words=tuple(w for w in (obj.str_list("trainedWords") or ()) if w),
        status=obj.text("status", max_length=32),
        nsfw_level=nsfw_level(obj.raw("nsfwLevel")),
        source_created_at=obj.datetime("createdAt"),
        source_updated_at=obj.datetime("updatedAt"),
        published_at=obj.datetime("publishedAt"),
        early_access_days=early_days if early_days and early_days > 0 else None,
        early_access_ends_at=obj.datetime("earlyAccessEndsAt"),
        download_url=http_url(obj.str("downloadUrl")),
        air=obj.text("air", max_length=255),
        download_count=stats.int("downloadCount"),
        rating_count=stats.int("ratingCount"),
        rating=_rating(stats),
        thumbs_up_count=stats.int("thumbsUpCount"),
        thumbs_down_count=stats.int("thumbsDownCount"),
        files=files,
        images=tuple(images),
        files_complete=True,
        images_complete=True,
        warnings=tuple(warnings),
    )


def _type(obj: Obj) -> str | None:
    value = obj.text("type", max_length=64)
    return value or None


def _model_nsfw(obj: Obj) -> bool | None:
    raw = obj.raw("nsfw")
    if raw is None:
        level = obj.raw("nsfwLevel")
        return bool(level & ~3) if isinstance(level, int) and not isinstance(level, bool) else None
    if isinstance(raw, bool):
        return raw
    level = nsfw_level(raw)
    if level is None:
        raise obj.error("nsfw", f"unknown value {raw!r:.40}")
    return level >= 4


def _rating(stats: Obj) -> float | None:
    rating = stats.float("rating")
    if rating is None:
        return None
    return min(max(rating, 0.0), 5.0)


def _creator(creator: Obj | None) -> CreatorRecord | None:
    if creator is None:
        return None
    username = creator.text("username", max_length=255)
    if not username:
        return None
    return CreatorRecord(username=username, image_url=http_url(creator.str("image")))


def _tags(obj: Obj) -> tuple[str, ...] | None:
    raw = obj.list("tags")
    if raw is None:
        return None
    tags: list[str] = []
    for i, tag in enumerate(raw):
        # 2022-era payloads carried tags as objects: [{"name": "anime"}].
        if isinstance(tag, dict):
            tag = tag.get("name")
        if not isinstance(tag, str):
            raise ParseError(obj.source, f"expected a tag name, got {type(tag).__name__}", f"tags[{i}]")
        tag = clean_text(tag)[:255]
        if tag and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tuple(tags)


def _file(obj: Obj, position: int) -> FileRecord:
    name = obj.text("name", required=True, max_length=512)
    if not name:
        raise obj.error("name", "empty")
    meta = obj.obj("metadata") or Obj({}, obj.source, obj._name("metadata"))
    size_kb = obj.float("sizeKB")
    return FileRecord(
        name=name,
        civitai_id=obj.int("id"),
        download_url=http_url(obj.str("downloadUrl")) or "",
        kind=obj.text("type", max_length=64),
        format=meta.text("format", max_length=32),
        precision=meta.text("fp", max_length=16),
        size_type=meta.text("size", max_length=16),
        size_bytes=round(size_kb * 1024) if size_kb is not None and size_kb >= 0 else None,
        is_primary=obj.bool("primary"),
        pickle_scan_result=obj.text("pickleScanResult", max_length=16),
        pickle_scan_message=obj.text("pickleScanMessage", max_length=MAX_TEXT),
        virus_scan_result=obj.text("virusScanResult", max_length=16),
        virus_scan_message=obj.text("virusScanMessage", max_length=MAX_TEXT),
        scanned_at=obj.datetime("scannedAt"),
        hashes=normalise_hashes(obj.raw("hashes")),
    )


def _image(obj: Obj) -> ImageRecord:
    url = http_url(obj.str("url", required=True, max_length=2048))
    if url is None:
        raise obj.error("url", "not an http(s) URL")
    image_id = obj.int("id") or image_id_from_url(url)
    level = nsfw_level(obj.raw("nsfwLevel"))
    if level is None:
        level = nsfw_level(obj.raw("nsfw"))
    meta_raw = obj.raw("meta")
    columns: dict[str, Any] = {}
    rest: dict[str, Any] | None = None
    if isinstance(meta_raw, dict):
        rest = {key: value for key, value in meta_raw.items() if key not in META_COLUMNS}
        for key, (column, read) in META_COLUMNS.items():
            value = meta_raw.get(key)
            if value is not None:
                columns[column] = read(value)
                if columns[column] is None:
                    rest[key] = value  # keep what could not be read as its column
    width, height = obj.raw("width"), obj.raw("height")
    return ImageRecord(
        url=url,
        civitai_id=image_id,
        media_type=obj.text("type", max_length=16),
        width=_dimension(width),
        height=_dimension(height),
        nsfw_level=level,
        blurhash=(obj.text("hash", max_length=128) or None),
        meta=rest,
        **columns,
    )


def _dimension(value: Any) -> int | None:
    number = to_int(value)
    return number if number is not None and 0 < number < 1_000_000 else None


# A generation metadata value of a column is text, a number or nothing: a list or an object stays in Image.meta.
_SCALARS = frozenset({str, int, float})


def _meta_steps(value: Any) -> int | None:
    steps = to_int(value)
    return steps if steps is not None and 0 <= steps < 100_000 else None


def _meta_prompt(value: Any) -> str | None:
    # Prompts are kept as written (people copy them back into their tools); only NUL, which no database text
    # column takes, goes.
    return str(value).replace("\x00", "")[:MAX_TEXT] if type(value) in _SCALARS else None


def _meta_text(limit: int) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        return clean_text(str(value))[:limit] if type(value) in _SCALARS else None

    return read


# Generation metadata keys lifted into their own columns, each with its reader (None: not readable as the
# column, so the value stays in Image.meta); everything else stays in Image.meta.
META_COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "prompt": ("prompt", _meta_prompt),
    "negativePrompt": ("negative_prompt", _meta_prompt),
    "sampler": ("sampler", _meta_text(128)),
    "steps": ("steps", _meta_steps),
    "cfgScale": ("cfg_scale", to_float),
    "seed": ("seed", seed_text),
    "Size": ("size", _meta_text(32)),
    "Model": ("model_name", _meta_text(255)),
    "Model hash": ("model_hash", _meta_text(64)),
}


def civitai_parse_creator(data: Any, *, source: str) -> CreatorRecord:
    """An item of `/creators`."""
    obj = Obj(data, source, "")
    username = obj.text("username", required=True, max_length=255)
    if not username:
        raise obj.error("username", "empty")
    return CreatorRecord(username=username, image_url=http_url(obj.str("image")))


def civitai_parse_tag(data: Any, *, source: str) -> TagRecord:
    """An item of `/tags`."""
    obj = Obj(data, source, "")
    name = (obj.text("name", required=True, max_length=1000) or "")[:255]
    if not name:
        raise obj.error("name", "empty")
    return TagRecord(name=name)


def civitai_parse_gallery_image(data: Any, *, source: str) -> ImageRecord:
    """An item of `/images`: it names no version the catalog can place it under, so the writer only updates an
    image the catalog already has (adding the generation metadata that model lists leave out)."""
    return _image(Obj(data, source, ""))
