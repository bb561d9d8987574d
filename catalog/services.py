"""Curation: the writes admins make. (Ingest writes through ingest.writer.)"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Max, Min, QuerySet

from catalog.models import CatalogVersion, Image, MergedModel, Model, ModelFile, ModelVersion, SourceRecord


def catalog_changed() -> None:
    """Say the catalog changed, so cached counts are computed afresh in every process. Writers call it once their
    transaction commits (`transaction.on_commit(catalog_changed)`). A new catalog has no row yet: version 0."""
    if not CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1):
        CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 1})


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


# Counts at the source: when the same model came from several sources, the largest is the latest word.
MERGED_COUNTS = (
    "download_count", "favorite_count", "thumbs_up_count", "thumbs_down_count", "comment_count",
    "tipped_amount_count",
)  # fmt: skip


def model_merge_plan(*, target: Model, duplicates: Iterable[Model]) -> dict:
    """What merging `duplicates` into `target` would move, and why a curator should look twice (types or base
    models that differ), for the admin's confirmation page. Reads only."""
    duplicates = [d for d in duplicates if d.pk != target.pk]
    models = [target, *duplicates]
    base_models = {
        m.pk: sorted(set(m.versions.exclude(base_model="").values_list("base_model", flat=True)))
        for m in models
    }
    warnings = []
    if len({m.type for m in models}) > 1:
        warnings.append("Their types differ: " + ", ".join(f"{m.name} is {m.type}" for m in models) + ".")
    if len({tuple(b) for b in base_models.values()}) > 1:
        warnings.append(
            "Their base models differ: "
            + "; ".join(f"{m.name}: {', '.join(base_models[m.pk]) or 'none'}" for m in models)
            + "."
        )
    moves = [
        {
            "model": d,
            "versions": d.versions.count(),
            "images": ModelVersion.objects.filter(model=d).aggregate(n=Count("images"))["n"],
            "sources": list(SourceRecord.objects.filter(model=d).values_list("provider", "external_id")),
            "tags": list(d.tags.values_list("name", flat=True)),
        }
        for d in duplicates
    ]
    return {"target": target, "moves": moves, "warnings": warnings}


@transaction.atomic
def model_merge(*, target: Model, duplicates: Iterable[Model]) -> Model:
    """Fold duplicates of one model into `target`: their versions, sources, tags and provider ids move to it,
    curation flags and notes are kept, its dates and counts are computed again, and each duplicate leaves a
    MergedModel row so that its card URL and its ids keep leading to `target`."""
    target = Model.objects.select_for_update().get(pk=target.pk)
    others = list(
        Model.objects.select_for_update().filter(pk__in=[d.pk for d in duplicates]).exclude(pk=target.pk)
    )
    for other in others:
        offset = target.versions.count()
        for version in other.versions.order_by("position"):
            version.model = target
            version.position += offset
            version.save(update_fields=["model", "position", "updated_at"])
        SourceRecord.objects.filter(model=other).update(model=target)
        MergedModel.objects.filter(survivor=other).update(survivor=target)  # merged before: follow on
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
        for field in MERGED_COUNTS:
            setattr(target, field, max(getattr(target, field), getattr(other, field)))
        if other.rating_count > target.rating_count:
            target.rating, target.rating_count = other.rating, other.rating_count
        merged = MergedModel(
            id=other.pk,
            survivor=target,
            name=other.name,
            civitai_id=None if provider_ids.get("civitai_id") else other.civitai_id,
            hf_repo_id=None if provider_ids.get("hf_repo_id") else other.hf_repo_id,
        )
        other.delete()  # its provider ids are unique: free them before the target or the merge row takes them
        merged.save()
        for field, value in provider_ids.items():
            setattr(target, field, value)
    target.save()
    model_aggregates_refresh(target)
    model_search_text_refresh(target)
    transaction.on_commit(catalog_changed)
    return target


def model_aggregates_refresh(model: Model) -> bool:
    """Fields derived from the versions, kept on the model so lists sort and filter without joins: the image
    count, first publication and last update. Says whether they changed."""
    dates = model.versions.aggregate(
        first=Min("published_at"), first_created=Min("source_created_at"), last=Max("source_updated_at")
    )
    values = {
        "image_count": Image.objects.filter(version__model=model).count(),
        "published_at": dates["first"] or dates["first_created"],
        "last_version_at": dates["last"] or dates["first"] or dates["first_created"],
    }
    changed = [name for name, value in values.items() if getattr(model, name) != value]
    for name in changed:
        setattr(model, name, values[name])
    if changed:
        model.save(update_fields=[*changed, "updated_at"])
    return bool(changed)
