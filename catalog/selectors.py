"""Reads that pages, the API and admin share."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Image, Model, ModelFile, ModelVersion


def model_list(*, type: str = "", tag: str = "", creator: str = "", query: str = "") -> QuerySet[Model]:
    """Visible models for the list page, with what a card shows, newest-downloaded first."""
    qs = Model.objects.visible().select_related("creator")
    if type:
        qs = qs.filter(type=type)
    if tag:
        qs = qs.filter(tags__name__iexact=tag)
    if creator:
        qs = qs.filter(creator__username__iexact=creator)
    if query:
        qs = qs.filter(name__icontains=query)
    covers = Image.objects.filter(position=0, version__position=0).only(
        "id", "version_id", "thumbnail", "blurhash", "url", "nsfw_level", "width", "height"
    )
    first_versions = ModelVersion.objects.filter(position=0).only("id", "model_id", "base_model")
    return qs.prefetch_related(
        Prefetch("versions", queryset=first_versions.prefetch_related(Prefetch("images", queryset=covers)))
    ).order_by("-featured", "-download_count", "-id")


def model_detail(pk: int) -> Model:
    """One visible model with its versions (newest first), their files and images, tags and creator."""
    versions = ModelVersion.objects.order_by("position").prefetch_related(
        Prefetch("files", queryset=ModelFile.objects.order_by("position", "id")),
        Prefetch("images", queryset=Image.objects.order_by("position", "id")),
    )
    return get_object_or_404(
        Model.objects.visible()
        .select_related("creator")
        .prefetch_related("tags", Prefetch("versions", queryset=versions)),
        pk=pk,
    )
