"""Serializers of the catalog's own API (/api/)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Creator, Image, IngestRun, Model, ModelFile, ModelVersion, Tag


class CreatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Creator
        fields = ["id", "username", "provider", "image_url"]


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class FileSerializer(serializers.ModelSerializer):
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


class ModelBriefSerializer(serializers.ModelSerializer):
    """What a list shows of a model: no versions."""

    creator = serializers.CharField(source="creator.username", default=None, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    allow_commercial_use = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Model
        fields = [
            "id", "name", "slug", "type", "creator", "civitai_id", "hf_repo_id", "nsfw", "nsfw_level", "poi",
            "allow_no_credit", "allow_derivatives", "allow_different_license", "allow_commercial_use",
            "download_count", "favorite_count", "thumbs_up_count", "comment_count", "rating_count", "rating",
            "image_count", "availability", "featured", "published_at", "last_version_at", "url",
        ]  # fmt: skip

    def to_representation(self, model: Model) -> dict:
        """What DRF's field-by-field serializing gives, written out (tests/functional/api/test_brief_serializer.py
        holds them equal): 100 models in 5.4 ms instead of 14.4, measured in-process."""
        date = self.fields["published_at"].to_representation
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
            "published_at": date(model.published_at) if model.published_at else None,
            "last_version_at": date(model.last_version_at) if model.last_version_at else None,
            "url": model.get_absolute_url(),
        }


class ModelSerializer(ModelBriefSerializer):
    """A model with its versions, their files and images, its tags and creator."""

    creator = CreatorSerializer(read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    versions = VersionSerializer(many=True, read_only=True)
    source_url = serializers.CharField(read_only=True)

    to_representation = serializers.ModelSerializer.to_representation

    class Meta(ModelBriefSerializer.Meta):
        fields = [
            *ModelBriefSerializer.Meta.fields,
            "description",
            "tags",
            "license",
            "source_url",
            "versions",
        ]


class IngestRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = IngestRun
        fields = [
            "id", "kind", "sources", "status", "created_count", "updated_count", "unchanged_count", "failed_count",
            "errors", "attempts", "notes", "queued_at", "started_at", "finished_at",
        ]  # fmt: skip


class IngestRequestSerializer(serializers.Serializer):
    """POST /api/ingest: what to ingest."""

    sources = serializers.ListField(
        child=serializers.CharField(max_length=2048, allow_blank=False), min_length=1, max_length=1000
    )
    type = serializers.CharField(max_length=64, required=False, allow_blank=True)


class HashLookupSerializer(serializers.Serializer):
    """POST /api/files/by-hash: up to 1,000 hashes of any kind."""

    hashes = serializers.ListField(
        child=serializers.RegexField(r"^[0-9A-Fa-f]{8,64}$", max_length=64), min_length=1, max_length=1000
    )
