"""Reads that pages, the API and admin share."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import HASH_FORMATS, Image, IngestRun, Model, ModelFile, ModelVersion, SourceRecord


def model_cards(qs: QuerySet[Model]) -> QuerySet[Model]:
    """What a card in the list shows of each model: creator, newest version's base model, its cover image."""
    covers = Image.objects.filter(position=0).only(
        "id", "version_id", "thumbnail", "blurhash", "url", "nsfw_level", "width", "height"
    )
    first_versions = ModelVersion.objects.filter(position=0).only("id", "model_id", "base_model")
    return models_brief(qs).prefetch_related(
        Prefetch("versions", queryset=first_versions.prefetch_related(Prefetch("images", queryset=covers)))
    )


def models_brief(qs: QuerySet[Model]) -> QuerySet[Model]:
    """Models as lists show them: with their creator, without the long text (description, search text, notes)."""
    return qs.select_related("creator").defer("description", "search_text", "search_vector", "admin_notes")


def models_with_everything(qs: QuerySet[Model]) -> QuerySet[Model]:
    """Models with their versions (newest first), their files and images, tags and creator, in a fixed number of
    queries."""
    versions = ModelVersion.objects.order_by("position", "-id").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.select_related("version").order_by("position", "id")),
        Prefetch("images", queryset=Image.objects.order_by("position", "id")),
    )
    return qs.select_related("creator").prefetch_related("tags", Prefetch("versions", queryset=versions))


def model_detail_queryset() -> QuerySet[Model]:
    """Visible models with everything a card or a detail answer shows."""
    return models_with_everything(Model.objects.visible())


def model_detail(pk: int) -> Model:
    """One visible model, with everything its card shows."""
    return get_object_or_404(model_detail_queryset(), pk=pk)


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


CATALOG_VERSION_KEY = "catalog:version"
FACETS_TIMEOUT = 60 * 60


def catalog_version() -> int:
    """A number that changes whenever the catalog does (ingest, curation): cache keys include it."""
    version = cache.get(CATALOG_VERSION_KEY)
    if version is None:
        # It starts from the clock, not from 1: a cache that restarted empty must not give out a version that
        # answers kept by the web processes were computed under.
        version = time.time_ns() // 1000
        cache.add(CATALOG_VERSION_KEY, version, timeout=None)
    return version


def catalog_version_shared() -> int | None:
    """The catalog's version as the shared cache holds it, or None when the cache does not answer (Redis down):
    then nobody can say whether the catalog changed, and kept answers must not be used."""
    version = cache.get(CATALOG_VERSION_KEY)
    if version is None:
        catalog_version()
        version = cache.get(CATALOG_VERSION_KEY)
    return version


def model_facets(qs: QuerySet[Model], *, key: str) -> dict[str, list[tuple[str, int]]]:
    """Counts beside each filter value, over the models the other filters leave; cached until the catalog changes."""
    cache_key = f"facets:{catalog_version()}:{hashlib.sha256(key.encode()).hexdigest()}"
    facets = cache.get(cache_key)
    if facets is not None:
        return facets
    ids = qs.order_by().values("pk")
    licence = qs.order_by().aggregate(
        commercial=Count("pk", filter=Q(allow_commercial_image=True) | Q(allow_commercial_rent_civit=True)
                         | Q(allow_commercial_rent=True) | Q(allow_commercial_sell=True)),
        no_credit=Count("pk", filter=Q(allow_no_credit=True)),
        derivatives=Count("pk", filter=Q(allow_derivatives=True)),
    )  # fmt: skip
    facets = {
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
            .order_by("-n")
        ),
        "availability": _pairs(
            qs.order_by().values_list("availability").annotate(n=Count("pk")).order_by("-n")
        ),
        "licence": [(name, licence[name]) for name in ("commercial", "no_credit", "derivatives")],
    }
    cache.set(cache_key, facets, FACETS_TIMEOUT)
    return facets


def _pairs(rows) -> list[tuple[str, int]]:
    return [(value, n) for value, n in rows]


def catalog_stats() -> dict:
    """Counts by type and base model, totals, and the latest ingest runs, for the stats page."""
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
        "runs": list(IngestRun.objects.order_by("-queued_at")[:10]),
    }
