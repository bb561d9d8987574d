"""Serializers of the catalog's own API (/api/)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework import serializers

from catalog.models import Creator, Image, Model, ModelFile, ModelVersion, Tag, civitai_hashes


class OptionalURLField(serializers.URLField):
    """A URL the catalog may not have: null when absent (the database keeps an empty string), never an empty
    string where the schema promises a URI."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class CreatorSerializer(serializers.ModelSerializer):
    image_url = OptionalURLField()

    class Meta:
        model = Creator
        fields = ["id", "username", "provider", "image_url"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class FileSerializer(serializers.ModelSerializer):
    download_url = OptionalURLField()
    hashes = serializers.DictField(child=serializers.CharField(), read_only=True)
    version = serializers.IntegerField(source="version_id", read_only=True)
    model = serializers.IntegerField(source="version.model_id", read_only=True)

    class Meta:
        model = ModelFile
        fields = [
            "id", "version", "model", "civitai_id", "name", "kind", "format", "precision", "size_type", "size_bytes",
            "download_url", "is_primary", "pickle_scan_result", "virus_scan_result", "scanned_at", "hashes",
        ]  # fmt: skip


class ImageSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version_id", read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    original_url = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "id", "version", "civitai_id", "url", "media_type", "width", "height", "nsfw_level", "blurhash",
            "position", "prompt", "negative_prompt", "sampler", "steps", "cfg_scale", "seed", "size", "model_name",
            "model_hash", "meta", "thumbnail_url", "original_url", "mirror_status",
        ]  # fmt: skip

    def get_thumbnail_url(self, image: Image) -> str | None:
        return self._url(image.thumbnail)

    def get_original_url(self, image: Image) -> str | None:
        return self._url(image.original)

    def _url(self, field) -> str | None:
        if not field:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(field.url) if request else field.url


class VersionSerializer(serializers.ModelSerializer):
    download_url = OptionalURLField()
    files = FileSerializer(many=True, read_only=True)
    images = ImageSerializer(many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id", "model", "civitai_id", "hf_sha", "name", "description", "base_model", "base_model_type",
            "trained_words", "position", "published_at", "source_created_at", "source_updated_at",
            "early_access_days", "download_url", "download_count", "rating_count", "rating", "thumbs_up_count",
            "files", "images",
        ]  # fmt: skip


class BriefListSerializer(serializers.ListSerializer):
    """A list of brief models, asking once whether answers are in UTC."""

    def to_representation(self, data) -> list[dict]:
        return models_brief_data(data)


class ModelBriefSerializer(serializers.ModelSerializer):
    """What a list shows of a model: no versions."""

    creator = serializers.CharField(source="creator.username", default=None, read_only=True)
    # Unicode slugs (万象熔炉-anything-v5ink): a SlugField's `^[-\w]+$` reads as ASCII in JSON Schema.
    slug = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    allow_commercial_use = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Model
        list_serializer_class = BriefListSerializer
        fields = [
            "id", "name", "slug", "type", "creator", "civitai_id", "hf_repo_id", "nsfw", "nsfw_level", "poi",
            "allow_no_credit", "allow_derivatives", "allow_different_license", "allow_commercial_use",
            "download_count", "favorite_count", "thumbs_up_count", "comment_count", "rating_count", "rating",
            "image_count", "availability", "featured", "published_at", "last_version_at", "url",
        ]  # fmt: skip

    def to_representation(self, model: Model) -> dict:
        """What DRF's field-by-field serializing gives, written out (tests/functional/api/test_brief_serializer.py
        holds them equal)."""
        return model_brief_data(model, in_utc())


class ModelSerializer(ModelBriefSerializer):
    """A model with its versions, their files and images, its tags and creator."""

    creator = CreatorSerializer(read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    versions = VersionSerializer(many=True, read_only=True)
    source_url = serializers.CharField(read_only=True)

    to_representation = serializers.ModelSerializer.to_representation

    class Meta(ModelBriefSerializer.Meta):
        list_serializer_class = serializers.ListSerializer
        fields = [
            *ModelBriefSerializer.Meta.fields,
            "description",
            "tags",
            "license",
            "source_url",
            "versions",
        ]


class HashLookupSerializer(serializers.Serializer):
    """POST /api/files/by-hash: up to 1,000 hashes of any kind."""

    hashes = serializers.ListField(
        child=serializers.RegexField(r"^[0-9A-Fa-f]{8,64}$", max_length=64), min_length=1, max_length=1000
    )


# The answers of the API's hottest reads, written out: DRF builds every field of a ModelSerializer anew for each
# answer and then serializes field by field. Each function gives what its serializer
# above gives (tests/functional/api/test_brief_serializer.py and test_written_answers.py hold them equal).

_datetime = serializers.DateTimeField().to_representation


def in_utc() -> bool:
    """Whether answers are written in UTC (the current time zone, TIME_ZONE by default): asked once per answer."""
    return timezone.get_current_timezone_name() == "UTC"


def _when(value, utc: bool) -> str | None:
    """A timestamp as DRF's DateTimeField gives it. One in UTC, as the database gives them, is written at once
    when answers are in UTC (`utc`, from in_utc): DRF's way asks thread-local storage for the time zone and
    converts each timestamp, which took a quarter of a 100-model list's serializing."""
    if value is None:
        return None
    if utc and value.tzinfo is dt.UTC:
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _datetime(value)


def models_brief_data(models: Iterable[Model]) -> list[dict[str, Any]]:
    """Models as ModelBriefSerializer(models, many=True) gives them."""
    utc = in_utc()
    return [model_brief_data(model, utc) for model in models]


def model_brief_data(model: Model, utc: bool) -> dict[str, Any]:
    """A model as ModelBriefSerializer gives it (`utc`: in_utc())."""
    return {
        "id": model.pk,
        "name": model.name,
        "slug": model.slug,
        "type": model.type,
        "creator": model.creator.username if model.creator_id else None,
        "civitai_id": model.civitai_id,
        "hf_repo_id": model.hf_repo_id,
        "nsfw": model.nsfw,
        "nsfw_level": model.nsfw_level,
        "poi": model.poi,
        "allow_no_credit": model.allow_no_credit,
        "allow_derivatives": model.allow_derivatives,
        "allow_different_license": model.allow_different_license,
        "allow_commercial_use": model.allow_commercial_use,
        "download_count": model.download_count,
        "favorite_count": model.favorite_count,
        "thumbs_up_count": model.thumbs_up_count,
        "comment_count": model.comment_count,
        "rating_count": model.rating_count,
        "rating": model.rating,
        "image_count": model.image_count,
        "availability": model.availability,
        "featured": model.featured,
        "published_at": _when(model.published_at, utc),
        "last_version_at": _when(model.last_version_at, utc),
        "url": model.get_absolute_url(),
    }


def file_data(file: dict[str, Any], model_id: int, utc: bool) -> dict[str, Any]:
    """A file row (selectors.FILE_ROW) of a version of model `model_id`, as FileSerializer gives it."""
    return {
        "id": file["id"],
        "version": file["version_id"],
        "model": model_id,
        "civitai_id": file["civitai_id"],
        "name": file["name"],
        "kind": file["kind"],
        "format": file["format"],
        "precision": file["precision"],
        "size_type": file["size_type"],
        "size_bytes": file["size_bytes"],
        "download_url": file["download_url"] or None,
        "is_primary": file["is_primary"],
        "pickle_scan_result": file["pickle_scan_result"],
        "virus_scan_result": file["virus_scan_result"],
        "scanned_at": _when(file["scanned_at"], utc),
        "hashes": civitai_hashes(file),
    }


def _media(request, name: str) -> str | None:
    return request.build_absolute_uri(default_storage.url(name)) if name else None


def image_data(image: dict[str, Any], request) -> dict[str, Any]:
    """An image row (selectors.IMAGE_ROW) as ImageSerializer gives it."""
    return {
        "id": image["id"],
        "version": image["version_id"],
        "civitai_id": image["civitai_id"],
        "url": image["url"],
        "media_type": image["media_type"],
        "width": image["width"],
        "height": image["height"],
        "nsfw_level": image["nsfw_level"],
        "blurhash": image["blurhash"],
        "position": image["position"],
        "prompt": image["prompt"],
        "negative_prompt": image["negative_prompt"],
        "sampler": image["sampler"],
        "steps": image["steps"],
        "cfg_scale": image["cfg_scale"],
        "seed": image["seed"],
        "size": image["size"],
        "model_name": image["model_name"],
        "model_hash": image["model_hash"],
        "meta": image["meta"],
        "thumbnail_url": _media(request, image["thumbnail"]),
        "original_url": _media(request, image["original"]),
        "mirror_status": image["mirror_status"],
    }


# The columns a version row needs beyond selectors.VERSION_ROW for VersionSerializer's answer.
VERSION_EXTRA = ("hf_sha", "position")


def version_data(version: dict[str, Any], request, utc: bool) -> dict[str, Any]:
    """A version row with its files and images (selectors.version_rows with VERSION_EXTRA) as VersionSerializer
    gives it."""
    model_id = version["model_id"]
    return {
        "id": version["id"],
        "model": model_id,
        "civitai_id": version["civitai_id"],
        "hf_sha": version["hf_sha"],
        "name": version["name"],
        "description": version["description"],
        "base_model": version["base_model"],
        "base_model_type": version["base_model_type"],
        "trained_words": version["trained_words"],
        "position": version["position"],
        "published_at": _when(version["published_at"], utc),
        "source_created_at": _when(version["source_created_at"], utc),
        "source_updated_at": _when(version["source_updated_at"], utc),
        "early_access_days": version["early_access_days"],
        "download_url": version["download_url"] or None,
        "download_count": version["download_count"],
        "rating_count": version["rating_count"],
        "rating": version["rating"],
        "thumbs_up_count": version["thumbs_up_count"],
        "files": [file_data(f, model_id, utc) for f in version["files"]],
        "images": [image_data(i, request) for i in version["images"]],
    }


def model_data(model: Model, tags: list[str], versions: list[dict[str, Any]], request) -> dict[str, Any]:
    """A model (with its creator) with its tag names and version rows (selectors.model_parts) as ModelSerializer
    gives it."""
    creator = model.creator
    utc = in_utc()
    data = model_brief_data(model, utc)
    data["creator"] = (
        {
            "id": creator.pk,
            "username": creator.username,
            "provider": creator.provider,
            "image_url": creator.image_url or None,
        }
        if creator is not None
        else None
    )
    data.update(
        description=model.description,
        tags=tags,
        license=model.license,
        source_url=model.source_url,
        versions=[version_data(v, request, utc) for v in versions],
    )
    return data
