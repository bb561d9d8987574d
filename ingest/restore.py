"""Restoring what the catalog's own export carries beyond a model's record: curation, sources, mirror state."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from catalog.models import (
    Image,
    Model,
    ModelVersion,
    SourceRecord,
)
from catalog.services import (
    catalog_changed,
)

logger = logging.getLogger(__name__)

RESTORED_IMAGE_FIELDS = {
    "original": "original", "thumbnail": "thumbnail", "mirrorStatus": "mirror_status",
    "mirrorError": "mirror_error", "mirrorAttempts": "mirror_attempts", "mirroredAt": "mirrored_at",
}  # fmt: skip


@transaction.atomic
def model_restore_extras(model_id: int, extras: dict[str, Any]) -> None:
    """What the catalog's own export carries beyond the record: curation flags and notes, every source the model
    came from, and its images' mirror state (the media files themselves are backed up with MEDIA_ROOT)."""
    curation = {
        field_name: extras[key]
        for key, field_name in (("hidden", "hidden"), ("featured", "featured"), ("adminNotes", "admin_notes"))
        if key in extras
    }
    if any(curation.values()):
        Model.objects.filter(pk=model_id).update(**curation)
    model = Model(pk=model_id)
    for source in extras.get("sources") or []:
        fetched = source.get("fetchedAt")
        SourceRecord.objects.update_or_create(
            provider=source["provider"],
            external_id=source["externalId"],
            defaults={
                "model": model,
                "url": (source.get("url") or "")[:2048],
                "fetched_at": datetime.fromisoformat(fetched) if fetched else None,
                "last_error": source.get("lastError") or "",
            },
        )
    if not extras.get("images"):
        transaction.on_commit(catalog_changed)
        return
    images = {
        (position, image.position): image
        for position, version in enumerate(
            ModelVersion.objects.filter(model_id=model_id).order_by("position").prefetch_related("images")
        )
        for image in version.images.all()
    }
    changed = []
    for key, state in (extras.get("images") or {}).items():
        version_position, _, image_position = key.partition("/")
        image = images.get((int(version_position), int(image_position)))
        if image is None:
            continue
        for name, field_name in RESTORED_IMAGE_FIELDS.items():
            if name in state:
                value = state[name]
                if field_name == "mirrored_at" and value:
                    value = datetime.fromisoformat(value)
                setattr(image, field_name, value)
        changed.append(image)
    if changed:
        Image.objects.bulk_update(changed, list(RESTORED_IMAGE_FIELDS.values()))
    transaction.on_commit(catalog_changed)
