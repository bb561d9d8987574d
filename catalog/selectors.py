"""Reads that pages, the API and admin share."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from catalog.hashes import files_with_hash
from catalog.models import (
    HASH_FORMATS,
    CatalogVersion,
    Creator,
    Image,
    IngestRun,
    MergedModel,
    Model,
    ModelFile,
    ModelVersion,
    SourceRecord,
    Tag,
)

T = TypeVar("T")


def model_cards(models: list[Model]) -> list[Model]:
    """Gives each model what its card in a list shows besides its own columns: `card_version`, its newest version
    as a row ({"base_model": ...}, None without versions), with that version's first image as a row in "cover"
    (None without images). Two queries of plain rows for the whole list."""
    if not models:
        return models
    by_model: dict[int, dict] = {}
    newest = ModelVersion.objects.filter(position=0, model_id__in=[m.pk for m in models]).order_by("-id")
    for version in newest.values("id", "model_id", "base_model"):
        version["cover"] = None
        by_model.setdefault(version["model_id"], version)
    by_id = {version["id"]: version for version in by_model.values()}
    covers = Image.objects.filter(position=0, version_id__in=list(by_id)).order_by("id")
    for image in covers.values("version_id", "url", "thumbnail", "blurhash"):
        if by_id[image["version_id"]]["cover"] is None:
            by_id[image["version_id"]]["cover"] = image
    for model in models:
        model.card_version = by_model.get(model.pk)
    return models


def models_brief(qs: QuerySet[Model]) -> QuerySet[Model]:
    """Models as lists show them: with their creator, without the long text (description, search text, notes)."""
    return qs.select_related("creator").defer("description", *NOT_SHOWN)


def models_with_everything(qs: QuerySet[Model]) -> QuerySet[Model]:
    """Models with their versions (newest first), their files and images, tags and creator, every column, in a
    fixed number of queries."""
    versions = ModelVersion.objects.order_by("position", "-id").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.order_by("position", "id")),
        Prefetch("images", queryset=Image.objects.order_by("position", "id")),
    )
    return qs.select_related("creator").prefetch_related("tags", Prefetch("versions", queryset=versions))


# What pages and the API never show: the text only search and curation read.
NOT_SHOWN = ("search_text", "search_vector", "name_lower", "admin_notes")


def models_described(qs: QuerySet[Model]) -> QuerySet[Model]:
    """Models with their creator and description, without the columns no answer shows."""
    return qs.select_related("creator").defer(*NOT_SHOWN)


# The columns of a version, a file and an image that answers show, as plain rows (version_rows).
VERSION_ROW = (
    "id", "model_id", "civitai_id", "name", "description", "base_model", "base_model_type", "trained_words",
    "source_created_at", "source_updated_at", "published_at", "early_access_days", "download_url",
    "download_count", "rating_count", "rating", "thumbs_up_count", "thumbs_down_count",
)  # fmt: skip
FILE_ROW = (
    "id", "version_id", "civitai_id", "name", "kind", "format", "precision", "size_type", "size_bytes",
    "download_url", "is_primary", "pickle_scan_result", "pickle_scan_message", "virus_scan_result",
    "virus_scan_message", "scanned_at", *HASH_FORMATS,
)  # fmt: skip
IMAGE_ROW = (
    "id", "version_id", "civitai_id", "url", "media_type", "width", "height", "nsfw_level", "blurhash", "position",
    "prompt", "negative_prompt", "sampler", "steps", "cfg_scale", "seed", "size", "model_name", "model_hash", "meta",
    "original", "thumbnail", "mirror_status",
)  # fmt: skip


def version_rows(versions: QuerySet[ModelVersion], *extra: str) -> list[dict]:
    """Versions as plain rows (column: value), in the queryset's order, each with its "files" and "images" (by
    position) as rows too, in three queries: plain rows, for answers that show hundreds of them (a Civitai-shaped
    page of 20 models holds ~450)."""
    return with_files_and_images(list(versions.values(*VERSION_ROW, *extra)))


def with_files_and_images(rows: list[dict]) -> list[dict]:
    """Version rows (VERSION_ROW), each given its "files" and "images" (by position) as rows too, in two queries
    for all of them."""
    by_id: dict[int, dict] = {}
    for row in rows:
        row["files"], row["images"] = [], []
        by_id[row["id"]] = row
    files = ModelFile.objects.filter(version_id__in=list(by_id)).order_by("position", "id")
    for file in files.values(*FILE_ROW):
        by_id[file["version_id"]]["files"].append(file)
    images = Image.objects.filter(version_id__in=list(by_id)).order_by("position", "id")
    for image in images.values(*IMAGE_ROW):
        by_id[image["version_id"]]["images"].append(image)
    return rows


def model_parts(model_ids: list[int], *version_extra: str) -> dict[int, tuple[list[str], list[dict]]]:
    """Each model's tag names (by name) and its versions as version_rows (newest first; with the columns
    `version_extra` besides), in four queries."""
    parts: dict[int, tuple[list[str], list[dict]]] = {pk: ([], []) for pk in model_ids}
    if not parts:
        return parts
    tags = Model.tags.through.objects.filter(model_id__in=model_ids).order_by("tag__name", "tag_id")
    for model_id, name in tags.values_list("model_id", "tag__name"):
        parts[model_id][0].append(name)
    versions = ModelVersion.objects.filter(model_id__in=model_ids).order_by("model_id", "position", "-id")
    for version in with_files_and_images(list(versions.values(*VERSION_ROW, *version_extra))):
        parts[version["model_id"]][1].append(version)
    return parts


def model_detail(pk: int) -> Model:
    """One visible model with its creator and description (its card's header): model_parts gives the rest.
    Raises Http404 when no visible model has this id."""
    if not 0 < pk <= MAX_ID:  # an id no row can have (and beyond bigint PostgreSQL would compare as numeric)
        raise Http404(f"No model {pk}")
    model = models_described(Model.objects.visible()).filter(pk=pk).first()
    if model is None:
        raise Http404(f"No model {pk}")
    return model


def merged_into(*, pk: int | None = None, civitai_id: int | None = None) -> Model | None:
    """The visible model a merged one (by its old id or its Civitai id) was folded into, or None."""
    if not 0 < (pk if pk is not None else civitai_id or 0) <= MAX_ID:
        return None
    merged = MergedModel.objects.filter(
        **({"pk": pk} if pk is not None else {"civitai_id": civitai_id}), survivor__hidden=False
    ).select_related("survivor")
    row = merged.first()
    return row.survivor if row else None


MAX_ID = 2**63 - 1


def files_with_hash_rows(value: str) -> list[dict]:
    """Files of visible models with this hash (any kind), as FILE_ROW rows with their "version__model_id", by id,
    100 at most."""
    files = ModelFile.objects.filter(files_with_hash(value.strip().upper()), version__model__hidden=False)
    return list(files.order_by("pk").values(*FILE_ROW, "version__model_id")[:100])


def files_by_hashes(hashes: list[str]) -> dict[str, list[ModelFile]]:
    """Files of visible models by any of their hashes, in one query: {HASH: [files]} for every hash asked."""
    wanted = [h.strip().upper() for h in hashes]
    condition = Q(pk__in=[])
    for field in HASH_FORMATS:
        condition |= Q(**{f"{field}__in": wanted})
    results: dict[str, list[ModelFile]] = {h: [] for h in wanted}
    files = ModelFile.objects.filter(condition, version__model__hidden=False).select_related("version")
    for file in files.order_by("pk"):
        for value in {getattr(file, field) for field in HASH_FORMATS} & set(wanted):
            results[value].append(file)
    return results


FACETS_TIMEOUT = 60 * 60


def catalog_version() -> int:
    """A number that changes whenever the catalog does (ingest, curation, from any process): cache keys include
    it. Read from the database (CatalogVersion), so a change made by another process is seen at once."""
    return CatalogVersion.objects.values_list("version", flat=True).first() or 0


FEATURED_ON_A_PAGE = 6
# How long a process trusts its answer to "does the catalog feature any model?". With Redis the catalog version
# is shared and moves on with every write, so the answer is never stale; with the local-memory cache each web
# process has its own version, and a model featured through another process shows within this.
FEATURED_CHECK_SECONDS = 60


def models_featured(qs: QuerySet[Model]) -> list[Model]:
    """The featured models among these, most downloaded first, for a list's first page. Whether the catalog
    features any model at all is kept per catalog version (every write, a curator's included, moves it on): most
    catalogs feature none, and their pages then ask no query for it, which took a list page at 100,000 models
    a seventh of its time."""
    key = f"catalog:features-any:{catalog_version()}"
    features_any = cache.get(key)
    if features_any is None:
        features_any = Model.objects.visible().filter(featured=True).exists()
        cache.set(key, features_any, timeout=FEATURED_CHECK_SECONDS)
    if not features_any:
        return []
    return list(qs.filter(featured=True).order_by("-download_count")[:FEATURED_ON_A_PAGE])


FACETS_COUNTING_SECONDS = 30


def model_facets(
    models: Callable[[], QuerySet[Model]], *, key: str
) -> tuple[dict[str, list[tuple[str, int]]], bool]:
    """Counts beside each filter value, over the models the other filters leave (`models()`, asked only when they
    are counted: building a search's queryset took the ORM about a millisecond, on every page whose counts were
    kept), and whether they are current (kept_counts: until the catalog changes, then one request counts
    afresh)."""
    return kept_counts(f"facets:{hashlib.sha256(key.encode()).hexdigest()}", lambda: _facet_counts(models()))


def kept_counts(cache_key: str, count: Callable[[], T]) -> tuple[T, bool]:
    """What `count()` gives, kept in the cache under `cache_key` until the catalog changes, and whether it is
    current. After a change one request counts afresh while the others get the counts from before it (and
    False), instead of all counting at once: at 100,000 models a count takes up to a second, and an ingest
    changes the catalog every few seconds."""
    version = catalog_version()
    kept = cache.get(cache_key)
    counting_key = f"{cache_key}:counting"
    if kept is not None:
        kept_version, counts = kept
        if kept_version == version:
            return counts, True
        if not cache.add(counting_key, 1, FACETS_COUNTING_SECONDS):
            return counts, False  # another request is counting them afresh
    try:
        counts = count()
        cache.set(cache_key, (version, counts), FACETS_TIMEOUT)
    finally:
        if kept is not None:
            cache.delete(counting_key)
    return counts, True


def tags_counted() -> tuple[list[tuple[str, int]], bool]:
    """Every tag's name and how many visible models carry it, most first (then by name), and whether the counts
    are current: kept until the catalog changes (kept_counts; counting every tag's models reads them all)."""
    return kept_counts(
        "catalog:tags-counted",
        lambda: list(
            Tag.objects.annotate(model_count=Count("models", filter=Q(models__hidden=False)))
            .order_by("-model_count", "name")
            .values_list("name", "model_count")
        ),
    )


def creators_counted() -> tuple[list[tuple[str, str, int]], bool]:
    """Every creator's username, image URL and how many visible models they made, most first (then by name),
    and whether the counts are current (kept as tags_counted's)."""
    return kept_counts(
        "catalog:creators-counted",
        lambda: list(
            Creator.objects.annotate(model_count=Count("models", filter=Q(models__hidden=False)))
            .order_by("-model_count", "username")
            .values_list("username", "image_url", "model_count")
        ),
    )


def base_models_counted() -> tuple[list[tuple[str, int]], bool]:
    """Every base model and how many visible models have a version on it, most first (then by name), and whether
    the counts are current (kept_counts)."""
    return kept_counts(
        "catalog:base-models-counted",
        lambda: list(
            ModelVersion.objects.filter(model__hidden=False)
            .exclude(base_model="")
            .values_list("base_model")
            .annotate(n=Count("model_id", distinct=True))
            .order_by("-n", "base_model")
        ),
    )


LICENCE_FILTERS = {
    "commercial": Q(allow_commercial_image=True) | Q(allow_commercial_rent_civit=True) | Q(allow_commercial_rent=True)
    | Q(allow_commercial_sell=True),
    "no_credit": Q(allow_no_credit=True),
    "derivatives": Q(allow_derivatives=True),
}  # fmt: skip


def _facet_counts(qs: QuerySet[Model]) -> dict[str, list[tuple[str, int]]]:
    ids = qs.order_by().values("pk")
    licence = qs.order_by().aggregate(**{name: Count("pk", filter=q) for name, q in LICENCE_FILTERS.items()})
    return {
        "type": _pairs(qs.order_by().values_list("type").annotate(n=Count("pk")).order_by("-n", "type")),
        "base_model": _pairs(
            ModelVersion.objects.filter(model_id__in=ids)
            .exclude(base_model="")
            .values_list("base_model")
            .annotate(n=Count("model_id", distinct=True))
            .order_by("-n", "base_model")[:20]
        ),
        "tag": _pairs(
            Model.tags.through.objects.filter(model_id__in=ids)
            .values_list("tag__name")
            .annotate(n=Count("model_id"))
            .order_by("-n", "tag__name")[:25]
        ),
        "provider": _pairs(
            SourceRecord.objects.filter(model_id__in=ids)
            .values_list("provider")
            .annotate(n=Count("model_id", distinct=True))
            .order_by("-n", "provider")
        ),
        "availability": _pairs(
            qs.order_by().values_list("availability").annotate(n=Count("pk")).order_by("-n", "availability")
        ),
        "licence": [(name, licence[name]) for name in LICENCE_FILTERS],
    }


def _pairs(rows) -> list[tuple[str, int]]:
    return [(value, n) for value, n in rows]


def catalog_stats() -> tuple[dict, bool]:
    """Counts by type and base model, and totals, for the stats page, and whether the counts are current: they
    are kept until the catalog changes (kept_counts; at 100,000 models they take half a second)."""
    return kept_counts("catalog:stats", _catalog_counts)


def ingest_runs_recent(limit: int = 10) -> list[IngestRun]:
    """The latest ingest runs, newest first (for staff: their sources and errors are not for the public)."""
    return list(IngestRun.objects.order_by("-queued_at")[:limit])


def _catalog_counts() -> dict:
    return {
        "models": Model.objects.visible().count(),
        "versions": ModelVersion.objects.filter(model__hidden=False).count(),
        "files": ModelFile.objects.filter(version__model__hidden=False).count(),
        "images": Image.objects.filter(version__model__hidden=False).count(),
        "by_type": _pairs(
            Model.objects.visible().values_list("type").annotate(n=Count("pk")).order_by("-n", "type")
        ),
        "by_base_model": _pairs(
            ModelVersion.objects.filter(model__hidden=False)
            .exclude(base_model="")
            .values_list("base_model")
            .annotate(n=Count("model_id", distinct=True))
            .order_by("-n", "base_model")
        ),
    }
