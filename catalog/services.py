"""Curation: the writes admins make. (Ingest writes through ingest.services.model_upsert.)"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from catalog.models import Model, ModelVersion, SourceRecord


def catalog_changed() -> None:
    """Say the catalog changed, so cached facet counts are computed afresh."""
    from catalog.selectors import CATALOG_VERSION_KEY, catalog_version

    catalog_version()
    try:
        cache.incr(CATALOG_VERSION_KEY)
    except ValueError:  # evicted between the two calls
        cache.add(CATALOG_VERSION_KEY, 1, timeout=None)


def models_set_hidden(*, models: QuerySet[Model], hidden: bool) -> int:
    """Hide models from every page and the API, or show them again. Returns how many changed."""
    changed = models.exclude(hidden=hidden).update(hidden=hidden)
    catalog_changed()
    return changed


def models_set_featured(*, models: QuerySet[Model], featured: bool) -> int:
    """Feature models (shown first on the home page), or stop featuring them. Returns how many changed."""
    changed = models.exclude(featured=featured).update(featured=featured)
    catalog_changed()
    return changed


@transaction.atomic
def model_merge(*, target: Model, duplicates: Iterable[Model]) -> Model:
    """Fold duplicates of one model into `target`: their versions, sources, tags and provider ids move to it,
    curation flags and notes are kept, and the duplicates are deleted."""
    target = Model.objects.select_for_update().get(pk=target.pk)
    for other in (
        Model.objects.select_for_update().filter(pk__in=[d.pk for d in duplicates]).exclude(pk=target.pk)
    ):
        offset = target.versions.count()
        for version in other.versions.order_by("position"):
            version.model = target
            version.position += offset
            version.save(update_fields=["model", "position", "updated_at"])
        SourceRecord.objects.filter(model=other).update(model=target)
        target.tags.add(*other.tags.all())
        provider_ids = {}
        for field in ("civitai_id", "hf_repo_id"):
            if getattr(other, field) and not getattr(target, field):
                provider_ids[field] = getattr(other, field)
        target.hidden = target.hidden or other.hidden
        target.featured = target.featured or other.featured
        if other.admin_notes:
            target.admin_notes = "\n\n".join(n for n in (target.admin_notes, other.admin_notes) if n)
        if not target.creator_id and other.creator_id:
            target.creator_id = other.creator_id
        other.delete()  # its provider ids are unique: free them before the target takes them
        for field, value in provider_ids.items():
            setattr(target, field, value)
    target.image_count = sum(v.images.count() for v in ModelVersion.objects.filter(model=target))
    target.save()
    transaction.on_commit(catalog_changed)
    return target
