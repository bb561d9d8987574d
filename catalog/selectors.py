"""Reads that pages, the API and admin share."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import HASH_FORMATS, Image, Model, ModelFile, ModelVersion


def model_cards(qs: QuerySet[Model]) -> QuerySet[Model]:
    """What a card in the list shows of each model: creator, newest version's base model, its cover image."""
    covers = Image.objects.filter(position=0).only(
        "id", "version_id", "thumbnail", "blurhash", "url", "nsfw_level", "width", "height"
    )
    first_versions = ModelVersion.objects.filter(position=0).only("id", "model_id", "base_model")
    return qs.select_related("creator").prefetch_related(
        Prefetch("versions", queryset=first_versions.prefetch_related(Prefetch("images", queryset=covers)))
    )


def model_detail_queryset() -> QuerySet[Model]:
    """Visible models with their versions (newest first), their files and images, tags and creator."""
    versions = ModelVersion.objects.order_by("position", "-id").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.select_related("version").order_by("position", "id")),
        Prefetch("images", queryset=Image.objects.order_by("position", "id")),
    )
    return (
        Model.objects.visible()
        .select_related("creator")
        .prefetch_related("tags", Prefetch("versions", queryset=versions))
    )


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
