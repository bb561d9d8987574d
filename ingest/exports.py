"""The catalog's export: every model as one JSON line, in Civitai's shape plus the catalog's own fields.

`ingest` reads the file back (ingest/parsers/export.py): into an empty database it gives the same catalog.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from django.db.models import Prefetch

from catalog.civitai_json import model_json
from catalog.models import HASH_FORMATS, Model, SourceRecord
from catalog.selectors import FILE_ROW, IMAGE_ROW, VERSION_ROW, models_with_everything
from ingest.apply import COMMERCIAL_FLAGS, FILE_FIELDS, IMAGE_FIELDS, MODEL_FIELDS, VERSION_FIELDS
from ingest.parsers.export import EXPORT_VERSION
from ingest.records import CreatorRecord, FileRecord, ImageRecord, ModelRecord, VersionRecord

CHUNK = 500
PROVIDER_ORDER = {"civitai": 0, "huggingface": 1, "mirror": 2}


def model_record(model: Model) -> ModelRecord:
    """The record that, written into an empty catalog, gives this model back (the writer's input, reversed)."""
    sources = sorted(model.sources.all(), key=lambda s: (PROVIDER_ORDER.get(s.provider, 9), s.pk))
    primary = sources[0] if sources else None
    versions = []
    for version in model.versions.all():
        values = {name: getattr(version, name) for name in VERSION_FIELDS}
        values["trained_words"] = tuple(version.trained_words or ())
        files = tuple(
            FileRecord(
                **{name: getattr(f, name) for name in FILE_FIELDS},
                hashes={h: getattr(f, h) for h in HASH_FORMATS if getattr(f, h)},
            )
            for f in version.files.all()
        )
        images = tuple(
            ImageRecord(**{name: getattr(i, name) for name in IMAGE_FIELDS}) for i in version.images.all()
        )
        versions.append(
            VersionRecord(**values, files=files, images=images, files_complete=True, images_complete=True)
        )
    creator = None
    if model.creator_id:
        creator = CreatorRecord(
            username=model.creator.username,
            provider=model.creator.provider,
            image_url=model.creator.image_url,
        )
    return ModelRecord(
        provider=primary.provider if primary else "export",
        source_key=primary.external_id if primary else f"model-{model.pk}",
        source_url=primary.url if primary else "",
        **{name: getattr(model, name) for name in MODEL_FIELDS},
        creator=creator,
        tags=tuple(sorted(t.name for t in model.tags.all())),
        allow_commercial_use=None
        if model.allow_commercial_use is None
        else frozenset(word for word, flag in COMMERCIAL_FLAGS.items() if getattr(model, flag)),
        versions=tuple(versions),
        versions_complete=True,
    )


def model_extras(model: Model) -> dict[str, Any]:
    """What curation and mirroring added to a model, beyond its record."""
    images = {}
    for v_index, version in enumerate(model.versions.all()):
        for i_index, image in enumerate(version.images.all()):
            if image.mirror_status != "pending" or image.thumbnail:
                images[f"{v_index}/{i_index}"] = {
                    "original": image.original.name,
                    "thumbnail": image.thumbnail.name,
                    "mirrorStatus": image.mirror_status,
                    "mirrorError": image.mirror_error,
                    "mirrorAttempts": image.mirror_attempts,
                    "mirroredAt": image.mirrored_at.isoformat() if image.mirrored_at else None,
                }
    return {
        "hidden": model.hidden,
        "featured": model.featured,
        "adminNotes": model.admin_notes,
        "sources": [
            {
                "provider": s.provider,
                "externalId": s.external_id,
                "url": s.url,
                "fetchedAt": s.fetched_at.isoformat() if s.fetched_at else None,
                "lastError": s.last_error,
            }
            for s in model.sources.all()
        ],
        "images": images,
    }


def export_line(model: Model) -> dict[str, Any]:
    return {
        **civitai_json(model),
        "catalog": {
            "exportVersion": EXPORT_VERSION,
            "id": model.pk,
            "record": _plain(model_record(model)),
            "extras": model_extras(model),
        },
    }


def civitai_json(model: Model) -> dict[str, Any]:
    """The model in Civitai's shape, from the instances the export has already read."""
    versions = [
        {
            **_row(version, VERSION_ROW),
            "files": [_row(f, FILE_ROW) for f in version.files.all()],
            "images": [_row(i, IMAGE_ROW) for i in version.images.all()],
        }
        for version in model.versions.all()
    ]
    return model_json(model, [t.name for t in model.tags.all()], versions)


def _row(instance: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {column: getattr(instance, column) for column in columns}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def catalog_models() -> Iterator[Model]:
    """Every model, hidden ones included, with everything it holds, a chunk at a time."""
    qs = models_with_everything(Model.objects.order_by("pk")).prefetch_related(
        Prefetch("sources", queryset=SourceRecord.objects.order_by("pk"))
    )
    yield from qs.iterator(chunk_size=CHUNK)


def catalog_export(out: IO[str], *, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole catalog as JSON Lines; returns how many models."""
    count = 0
    for model in catalog_models():
        out.write(json.dumps(export_line(model), ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
        if progress:
            progress(count)
    return count
