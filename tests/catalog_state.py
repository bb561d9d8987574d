"""The whole state of a catalog, to compare two catalogs (written two ways, or exported and read back)."""

from __future__ import annotations

import gzip
from pathlib import Path

from catalog.models import Creator, IngestRun, Model, SourceRecord, Tag

SKIP = {"id", "created_at", "updated_at", "creator", "model", "version"}


def _row(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name not in SKIP}


def snapshot() -> list[dict]:
    """Everything the catalog holds about each model, without ids and timestamps. Tag and creator names are
    compared in lower case: the first writer of a tag sets its case, and the batched writer may meet a
    differently cased spelling first."""
    models = []
    for model in Model.objects.order_by("civitai_id", "hf_repo_id", "name").prefetch_related("tags"):
        entry = _row(model)
        entry["creator"] = model.creator.username.lower() if model.creator_id else None
        entry["tags"] = sorted(t.name.lower() for t in model.tags.all())
        entry["search_text"] = sorted(model.search_text.lower().split("\n"))
        entry["sources"] = sorted(
            (s.provider, s.external_id, s.url) for s in SourceRecord.objects.filter(model=model)
        )
        entry["versions"] = [
            {
                **_row(v),
                "files": [_row(f) for f in v.files.order_by("position")],
                "images": [_row(i) for i in v.images.order_by("position")],
            }
            for v in model.versions.order_by("position")
        ]
        models.append(entry)
    return models


def corpus_lines(corpus: Path) -> list[bytes]:
    return gzip.decompress((corpus / "civitai" / "checkpoints-2023-07-04.jsonl.gz").read_bytes()).splitlines()


def wipe() -> None:
    for model_class in (Model, Creator, Tag, IngestRun):
        model_class.objects.all().delete()
