"""The catalog's rows in Civitai's JSON shapes (FORMATS.md §1.3-1.6): what /api/v1/ answers and what the
catalog's export writes.

Ids are Civitai's where a row came from Civitai (mirror pages included: their version ids are Civitai's). A row
the catalog knows only from elsewhere (a mirror page with no model id, a HuggingFace repo) answers under the
negative of its catalog id, which can never collide with a Civitai id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from catalog.models import Availability, Model, civitai_hashes
from catalog.selectors import model_parts

MODES = {Availability.ARCHIVED: "Archived", Availability.TAKEN_DOWN: "TakenDown"}
NSFW_WORDS = {0: "None", 1: "None", 2: "Soft", 4: "Mature", 8: "X", 16: "X", 32: "X"}


def public_id(civitai_id: int | None, pk: int) -> int:
    return civitai_id if civitai_id else -pk


def iso(value: datetime | None) -> str | None:
    """Civitai's date spelling: UTC, milliseconds, Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def image_json(image: dict[str, Any]) -> dict[str, Any]:
    """An image row (selectors.IMAGE_ROW) as Civitai shows it."""
    meta: dict[str, Any] | None = None
    seed = image["seed"]
    columns = {
        "prompt": image["prompt"],
        "negativePrompt": image["negative_prompt"],
        "sampler": image["sampler"],
        "steps": image["steps"],
        "cfgScale": image["cfg_scale"],
        "seed": int(seed) if seed.lstrip("-").isdecimal() else None,
        "Size": image["size"],
        "Model": image["model_name"],
        "Model hash": image["model_hash"],
    }
    present = {k: v for k, v in columns.items() if v not in ("", None)}
    if present or image["meta"]:
        meta = {**(image["meta"] or {}), **present}
    return {
        "id": image["civitai_id"] or -image["id"],
        "url": image["url"],
        "nsfw": NSFW_WORDS.get(image["nsfw_level"], "X"),
        "nsfwLevel": image["nsfw_level"],
        "width": image["width"],
        "height": image["height"],
        "hash": image["blurhash"] or None,
        "type": image["media_type"] or "image",
        "meta": meta,
    }


def file_json(file: dict[str, Any]) -> dict[str, Any]:
    """A file row (selectors.FILE_ROW) as Civitai shows it."""
    size = file["size_bytes"]
    return {
        "id": file["civitai_id"] or -file["id"],
        "name": file["name"],
        "sizeKB": size / 1024 if size is not None else None,
        "type": file["kind"] or "Model",
        "metadata": {
            "fp": file["precision"] or None,
            "size": file["size_type"] or None,
            "format": file["format"] or None,
        },
        "pickleScanResult": file["pickle_scan_result"] or "Pending",
        "pickleScanMessage": file["pickle_scan_message"] or None,
        "virusScanResult": file["virus_scan_result"] or "Pending",
        "virusScanMessage": file["virus_scan_message"] or None,
        "scannedAt": iso(file["scanned_at"]),
        "hashes": civitai_hashes(file),
        "downloadUrl": file["download_url"] or None,
        "primary": file["is_primary"],
    }


def version_json(version: dict[str, Any], model_id: int) -> dict[str, Any]:
    """A version row with its files and images (selectors.version_rows) as Civitai shows it; `model_id` is the
    model's public id."""
    return {
        "id": public_id(version["civitai_id"], version["id"]),
        "modelId": model_id,
        "name": version["name"],
        "createdAt": iso(version["source_created_at"]),
        "updatedAt": iso(version["source_updated_at"]),
        "publishedAt": iso(version["published_at"]),
        "trainedWords": list(version["trained_words"] or []),
        "baseModel": version["base_model"] or "Other",
        "baseModelType": version["base_model_type"] or None,
        "earlyAccessTimeFrame": version["early_access_days"] or 0,
        "description": version["description"] or None,
        "stats": {
            "downloadCount": version["download_count"],
            "ratingCount": version["rating_count"],
            "rating": version["rating"],
            "thumbsUpCount": version["thumbs_up_count"],
            "thumbsDownCount": version["thumbs_down_count"],
        },
        "files": [file_json(f) for f in version["files"]],
        "images": [image_json(i) for i in version["images"]],
        "downloadUrl": version["download_url"] or None,
    }


def model_json(model: Model, tags: list[str], versions: list[dict[str, Any]]) -> dict[str, Any]:
    """A model with its tag names and version rows (selectors.model_parts) as Civitai shows it."""
    model_id = public_id(model.civitai_id, model.pk)
    data: dict[str, Any] = {
        "id": model_id,
        "name": model.name,
        "description": model.description or None,
        "type": model.type,
        "poi": model.poi,
        "nsfw": model.nsfw,
        "nsfwLevel": model.nsfw_level,
        "allowNoCredit": model.allow_no_credit,
        "allowCommercialUse": model.allow_commercial_use,
        "allowDerivatives": model.allow_derivatives,
        "allowDifferentLicense": model.allow_different_license,
        "stats": {
            "downloadCount": model.download_count,
            "favoriteCount": model.favorite_count,
            "thumbsUpCount": model.thumbs_up_count,
            "thumbsDownCount": model.thumbs_down_count,
            "commentCount": model.comment_count,
            "ratingCount": model.rating_count,
            "rating": model.rating,
            "tippedAmountCount": model.tipped_amount_count,
        },
        "tags": tags,
        "mode": MODES.get(model.availability),
        "modelVersions": [version_json(v, model_id) for v in versions],
    }
    if model.creator is not None:
        data["creator"] = {"username": model.creator.username, "image": model.creator.image_url or None}
    return data


def models_json(models: list[Model]) -> list[dict[str, Any]]:
    """Models as Civitai shows them, their tags and versions read in four queries for all of them."""
    parts = model_parts([m.pk for m in models])
    return [model_json(m, *parts[m.pk]) for m in models]
