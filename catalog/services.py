"""Curation: the writes admins make. (Ingest writes through ingest.services.model_upsert.)"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, QuerySet

from catalog.models import CatalogVersion, Model, ModelFile, ModelVersion, SourceRecord


def catalog_changed() -> None:
    """Say the catalog changed, so cached facet counts and kept answers (catalog/answer_cache.py) are computed
    afresh in every process. Writers call it once their transaction commits
    (`transaction.on_commit(catalog_changed)`)."""
    if not CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1):
        CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 2})


def model_search_text(model: Model) -> str:
    """What search reads for a model: its name, creator, tags, versions' names, base models and trigger words,
    file names, and the text of its description."""
    versions = list(
        model.versions.order_by("position", "-id").values_list("name", "base_model", "trained_words")
    )
    files = ModelFile.objects.filter(version__model=model).order_by(
        "version__position", "version_id", "position", "id"
    )
    return search_text_join(
        name=model.name,
        creator=model.creator.username if model.creator_id else "",
        tags=list(model.tags.values_list("name", flat=True)),
        versions=versions,
        file_names=list(files.values_list("name", flat=True)),
        description=model.description,
    )


# Tags that end a run of words: their text never joins the next block's ("…at https://a.com" + "SinkIn.ai …").
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|pre|hr|img|section|article|figure)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z!][^>]*>", re.DOTALL)


def html_words(markup: str) -> str:
    """The words of a description's HTML, for search (never shown): block tags as spaces, other tags dropped,
    entities decoded. Descriptions are sanitized when ingested, so there is no script to skip; this is a tenth
    of the cost of Django's strip_tags, which also glued the last word of a paragraph to the next one's first."""
    return html.unescape(_ANY_TAG.sub("", _BLOCK_TAG.sub(" ", markup or "")))


def search_text_join(
    *,
    name: str,
    creator: str,
    tags: list[str],
    versions: list[tuple[str, str, list | None]],
    file_names: list[str],
    description: str,
) -> str:
    """The search text from its parts (the ingest writer builds new models' text from their records)."""
    parts = [name, creator, *sorted(tags)]
    for version_name, base_model, words in versions:
        parts += [version_name, base_model, *(w for w in (words or []) if isinstance(w, str))]
    parts += file_names
    parts.append(html_words(description)[:20_000])
    return "\n".join(p for p in parts if p)


def model_search_text_refresh(model: Model) -> bool:
    """Recompute a model's search text (after ingest or an admin edit); say whether it changed."""
    text = model_search_text(model)
    if text == model.search_text:
        return False
    Model.objects.filter(pk=model.pk).update(search_text=text)
    model.search_text = text
    return True


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
    model_search_text_refresh(target)
    transaction.on_commit(catalog_changed)
    return target
