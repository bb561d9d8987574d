"""The catalog's data model, in Civitai's vocabulary: model → version → file / image, with tags and creators.

Values a source controls (model type, base model, file kind, format, precision, scan results) are stored as
the source's own strings: a new value from Civitai never breaks ingest. The choices below are the values known
today, for forms and filters, not a validation list.

Hashes are stored upper-case (Civitai's spelling) and a check constraint holds them to their format; a
case-insensitive lookup upper-cases its input and uses the plain B-tree index on the column.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.text import slugify

from catalog.choices import Availability, IngestRunStatus, MirrorStatus, ModelType, Provider

HASH_FORMATS = {
    # field: (Civitai hash name, regex of the stored upper-case value)
    "hash_sha256": ("SHA256", r"^[0-9A-F]{64}$"),
    "hash_autov1": ("AutoV1", r"^[0-9A-F]{8}$"),
    "hash_autov2": ("AutoV2", r"^[0-9A-F]{10}$"),
    # AutoV3 is 12 hex in 2025+ payloads and the full 64 hex in 2023-12/2024 ones (FORMATS.md §1.5).
    "hash_autov3": ("AutoV3", r"^([0-9A-F]{12}|[0-9A-F]{64})$"),
    "hash_crc32": ("CRC32", r"^[0-9A-F]{8}$"),
    "hash_blake3": ("BLAKE3", r"^[0-9A-F]{64}$"),
}
HASH_FIELD_BY_NAME = {name.lower(): field for field, (name, _) in HASH_FORMATS.items()}


def civitai_hashes(values: Mapping[str, str | None]) -> dict[str, str]:
    """A file's hashes keyed by Civitai's names, present ones only, from its hash columns (a row or an instance's
    values)."""
    return {name: values[field] for field, (name, _) in HASH_FORMATS.items() if values[field]}


class TimestampedModel(models.Model):
    """Adds when the row was created and last changed here (not at the source)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Creator(TimestampedModel):
    """A person or organisation that publishes models (a Civitai user, a HuggingFace author)."""

    provider = models.CharField(max_length=32, choices=Provider.choices, default=Provider.CIVITAI)
    username = models.CharField(max_length=255)
    image_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), "provider", name="creator_unique_provider_username"),
            models.CheckConstraint(condition=~Q(username=""), name="creator_username_not_empty"),
        ]

    def __str__(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return creator_url(self.username)


class Tag(TimestampedModel):
    """A model tag. Names are unique case-insensitively; a tag may contain a comma."""

    name = models.CharField(max_length=255)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tag_unique_name_ci"),
            models.CheckConstraint(condition=~Q(name=""), name="tag_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:tag", kwargs={"name": self.name})


def model_url(pk: int, slug: str) -> str:
    """A model card's URL."""
    return reverse("catalog:model_detail", kwargs={"pk": pk, "slug": slug})


def creator_url(username: str) -> str:
    """A creator's page."""
    return reverse("catalog:creator", kwargs={"username": username})


# The columns every sort index of Model carries beside its keys (Model.Meta.indexes).
SORT_INDEX_INCLUDE = ("name_lower", "hidden", "nsfw")


class ModelQuerySet(models.QuerySet):
    """Reads shared by pages, API and admin."""

    def visible(self) -> ModelQuerySet:
        """Models the public may see: not hidden by curation."""
        return self.filter(hidden=False)


class Model(TimestampedModel):
    """One model: a Civitai model or a HuggingFace repo, with its versions."""

    name = models.CharField(max_length=255)
    # The name in lower case, kept by the database (a stored generated column). Searches compare with it and
    # the sort indexes carry it (SORT_INDEX_INCLUDE), so walking an index for names holding a word reads it
    # there instead of lower-casing each name it passes: PostgreSQL's lower() goes through the C library's
    # wide characters, which was a tenth of an API search's time in the database.
    name_lower = models.GeneratedField(
        expression=Lower("name"), output_field=models.TextField(), db_persist=True
    )
    slug = models.SlugField(max_length=255, allow_unicode=True, blank=True, db_index=False)  # never looked up
    type = models.CharField(max_length=64, default=ModelType.OTHER)
    description = models.TextField(blank=True, help_text="Sanitized HTML.")
    creator = models.ForeignKey(
        Creator, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")

    # Identity at the providers. A re-ingest finds the model by these (see ingest.writer).
    civitai_id = models.BigIntegerField(null=True, blank=True, unique=True)
    hf_repo_id = models.CharField(max_length=255, null=True, blank=True, unique=True)

    nsfw = models.BooleanField(default=False, db_index=True)
    nsfw_level = models.PositiveIntegerField(default=0, help_text="Civitai browsing-level bitmask.")
    poi = models.BooleanField(default=False, help_text="Depicts a real person (person of interest).")
    minor = models.BooleanField(default=False)

    # Licence permissions. allowCommercialUse is a set of Image / RentCivit / Rent / Sell at Civitai. NULL is
    # unknown: no source stated it (a HuggingFace repo, a mirror page), and it is never shown as granted.
    allow_no_credit = models.BooleanField(null=True, blank=True, default=None)
    allow_derivatives = models.BooleanField(null=True, blank=True, default=None)
    allow_different_license = models.BooleanField(null=True, blank=True, default=None)
    allow_commercial_image = models.BooleanField(null=True, blank=True, default=None)
    allow_commercial_rent_civit = models.BooleanField(null=True, blank=True, default=None)
    allow_commercial_rent = models.BooleanField(null=True, blank=True, default=None)
    allow_commercial_sell = models.BooleanField(null=True, blank=True, default=None)
    license = models.CharField(max_length=255, blank=True, help_text="Licence name (HuggingFace).")

    # Stats at the source, as last fetched.
    download_count = models.BigIntegerField(default=0)
    favorite_count = models.BigIntegerField(default=0)
    thumbs_up_count = models.BigIntegerField(default=0)
    thumbs_down_count = models.BigIntegerField(default=0)
    comment_count = models.BigIntegerField(default=0)
    rating_count = models.BigIntegerField(default=0)
    rating = models.FloatField(default=0)
    tipped_amount_count = models.BigIntegerField(default=0)
    image_count = models.PositiveIntegerField(default=0, help_text="Sample images over all versions.")

    availability = models.CharField(max_length=16, choices=Availability.choices, default=Availability.ACTIVE)
    source_availability = models.CharField(
        max_length=32, blank=True, help_text="The source's own word (Public, EarlyAccess, ...)."
    )
    search_text = models.TextField(
        blank=True,
        editable=False,
        help_text="What search reads: name, creator, tags, trigger words, file names and description text.",
    )
    search_vector = SearchVectorField(
        null=True,
        editable=False,
        help_text="search_text as a 'simple' tsvector, kept by a PostgreSQL trigger (unused on SQLite).",
    )
    published_at = models.DateTimeField(null=True, blank=True, help_text="First version published.")
    last_version_at = models.DateTimeField(null=True, blank=True, help_text="Newest version updated.")

    # Curation.
    hidden = models.BooleanField(default=False, db_index=True, help_text="Never shown on pages or the API.")
    featured = models.BooleanField(default=False, db_index=True)
    admin_notes = models.TextField(blank=True)

    objects = ModelQuerySet.as_manager()

    class Meta:
        ordering = ["-download_count", "-id"]
        indexes = [
            # Each sort's index carries the lower-case name, hidden and nsfw (SORT_INDEX_INCLUDE): a search's
            # "name holds it" part walks the index of its order until a page of names holding the words is
            # found, reading the names and flags from the index alone (catalog/search.py), and so does a list without NSFW models (the pages' default). Only PostgreSQL
            # keeps them.
            models.Index(
                fields=["-download_count", "-id"], name="model_downloads_idx", include=SORT_INDEX_INCLUDE
            ),
            models.Index(
                fields=["-favorite_count", "-id"], name="model_favorites_idx", include=SORT_INDEX_INCLUDE
            ),
            models.Index(fields=["-rating", "-id"], name="model_rating_idx", include=SORT_INDEX_INCLUDE),
            models.Index(fields=["-image_count", "-id"], name="model_images_idx", include=SORT_INDEX_INCLUDE),
            # The date sorts (unknown dates last) have their indexes in the PostgreSQL-only migration: SQLite
            # cannot say NULLS LAST in an index, and PostgreSQL serves the sort only from one that says it.
            models.Index(fields=["name", "id"], name="model_name_idx"),
            models.Index(fields=["name_lower"], name="model_name_lower_idx"),
            # Equality only: declared here, not with db_index, so PostgreSQL is not also given a LIKE-prefix
            # (varchar_pattern_ops) copy of each, which nothing asks and every insert pays for.
            models.Index(fields=["type"], name="model_type_idx"),
            models.Index(fields=["availability"], name="model_availability_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="model_name_not_empty"),
            models.CheckConstraint(condition=Q(rating__gte=0) & Q(rating__lte=5), name="model_rating_0_5"),
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values), name="model_availability_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:255] or "model"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return model_url(self.pk, self.slug or "model")

    @property
    def allow_commercial_use(self) -> list[str] | None:
        """Civitai's allowCommercialUse set, in Civitai's order; None when no source stated it."""
        flags = [
            ("Image", self.allow_commercial_image),
            ("RentCivit", self.allow_commercial_rent_civit),
            ("Rent", self.allow_commercial_rent),
            ("Sell", self.allow_commercial_sell),
        ]
        if all(allowed is None for _, allowed in flags):
            return None
        return [name for name, allowed in flags if allowed]

    @property
    def downloads_last_30_days(self) -> bool:
        """Whether download_count is HuggingFace's (the last 30 days) rather than Civitai's (all time)."""
        return bool(self.hf_repo_id) and not self.civitai_id

    @property
    def source_url(self) -> str:
        """The model's page at its source, if it has one."""
        if self.civitai_id:
            return f"{settings.CIVITAI_BASE_URL}/models/{self.civitai_id}"
        if self.hf_repo_id:
            return f"{settings.HF_ENDPOINT}/{self.hf_repo_id}"
        return ""


class MergedModel(models.Model):
    """A model a curator merged into another: its old card URL and its provider ids lead to the survivor."""

    id = models.BigIntegerField(primary_key=True, help_text="The merged model's id (its old card URL).")
    survivor = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="merged_from")
    name = models.CharField(max_length=255)
    civitai_id = models.BigIntegerField(null=True, blank=True, unique=True)
    hf_repo_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk}) → #{self.survivor_id}"


class CatalogVersion(models.Model):
    """One row: a number every write to the catalog moves on. Kept answers and counts are keyed by it, and it
    lives in the database so that every process (a web worker, a `manage.py ingest` beside it) sees a change."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="catalog_version_one_row")]

    def __str__(self) -> str:
        return f"catalog version {self.version}"


class ModelVersion(TimestampedModel):
    """One version of a model: a base model, trigger words, files and sample images."""

    # Indexed by version_model_position_idx, which starts with it.
    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="versions", db_index=False)
    civitai_id = models.BigIntegerField(null=True, blank=True, unique=True)
    hf_sha = models.CharField(max_length=40, blank=True, help_text="HuggingFace commit of this revision.")
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, help_text="Sanitized HTML.")
    base_model = models.CharField(max_length=64, blank=True)
    base_model_type = models.CharField(max_length=32, blank=True)
    trained_words = models.JSONField(default=list, blank=True, help_text="Trigger words.")
    status = models.CharField(max_length=32, blank=True)
    nsfw_level = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0, help_text="0 is the newest version.")
    source_created_at = models.DateTimeField(null=True, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    early_access_days = models.PositiveIntegerField(null=True, blank=True)
    early_access_ends_at = models.DateTimeField(null=True, blank=True)
    download_url = models.URLField(max_length=2048, blank=True)
    air = models.CharField(max_length=255, blank=True, help_text="Civitai's AI resource name (urn:air:...).")

    download_count = models.BigIntegerField(default=0)
    rating_count = models.BigIntegerField(default=0)
    rating = models.FloatField(default=0)
    thumbs_up_count = models.BigIntegerField(default=0)
    thumbs_down_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["model_id", "position", "-id"]
        indexes = [
            models.Index(fields=["model", "position"], name="version_model_position_idx"),
            models.Index(fields=["base_model"], name="version_base_model_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "hf_sha"], condition=~Q(hf_sha=""), name="version_unique_model_hf_sha"
            ),
            models.CheckConstraint(condition=Q(rating__gte=0) & Q(rating__lte=5), name="version_rating_0_5"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} — {self.name}" if self.name.strip() else self.model.name


def _hash_constraints() -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__regex": pattern}),
            name=f"file_{field}_format",
        )
        for field, (_, pattern) in HASH_FORMATS.items()
    ]


class ModelFile(TimestampedModel):
    """A downloadable file of a version (the model weights, a pruned copy, a VAE, a config...)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="files")
    civitai_id = models.BigIntegerField(null=True, blank=True, unique=True)
    name = models.CharField(max_length=512)
    kind = models.CharField(max_length=64, blank=True, help_text="Model, Pruned Model, VAE, Config, ...")
    format = models.CharField(max_length=32, blank=True, help_text="SafeTensor, PickleTensor, ...")
    precision = models.CharField(max_length=16, blank=True, help_text="fp16, fp32, bf16, ...")
    size_type = models.CharField(max_length=16, blank=True, help_text="full or pruned.")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    download_url = models.URLField(max_length=2048, blank=True)
    is_primary = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    pickle_scan_result = models.CharField(max_length=16, blank=True)
    pickle_scan_message = models.TextField(blank=True)
    virus_scan_result = models.CharField(max_length=16, blank=True)
    virus_scan_message = models.TextField(blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    hash_sha256 = models.CharField("SHA256", max_length=64, null=True, blank=True)
    hash_autov1 = models.CharField("AutoV1", max_length=8, null=True, blank=True)
    hash_autov2 = models.CharField("AutoV2", max_length=10, null=True, blank=True)
    hash_autov3 = models.CharField("AutoV3", max_length=64, null=True, blank=True)
    hash_crc32 = models.CharField("CRC32", max_length=8, null=True, blank=True)
    hash_blake3 = models.CharField("BLAKE3", max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            *_hash_constraints(),
            models.CheckConstraint(
                condition=Q(size_bytes__isnull=True) | Q(size_bytes__gte=0), name="file_size_not_negative"
            ),
        ]
        # Hash lookups are exact matches on upper-case values: one btree each, no LIKE-prefix copy.
        indexes = [models.Index(fields=[field], name=f"file_{field}_idx") for field in HASH_FORMATS]

    def __str__(self) -> str:
        return self.name

    @property
    def hashes(self) -> dict[str, str]:
        """The file's hashes keyed by Civitai's names, present ones only."""
        return civitai_hashes({field: getattr(self, field) for field in HASH_FORMATS})


class Image(TimestampedModel):
    """A sample image of a version, with its generation metadata and, once mirrored, a local copy."""

    # Indexed by image_version_position_idx, which starts with it.
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="images", db_index=False)
    civitai_id = models.BigIntegerField(null=True, blank=True, unique=True)
    url = models.URLField(max_length=2048, help_text="The image at its source.")
    media_type = models.CharField(max_length=16, default="image")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    nsfw_level = models.PositiveIntegerField(default=0, help_text="1 PG, 2 PG-13, 4 R, 8 X, 16 XXX.")
    blurhash = models.CharField(max_length=128, blank=True)
    position = models.PositiveIntegerField(default=0)

    # Generation metadata: the usual fields, and everything else as the source sent it.
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    sampler = models.CharField(max_length=128, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True)
    cfg_scale = models.FloatField(null=True, blank=True)
    seed = models.CharField(max_length=32, blank=True, help_text="Text: seeds can exceed 2^53.")
    size = models.CharField(max_length=32, blank=True, help_text="Generation size, e.g. 512x768.")
    model_name = models.CharField(max_length=255, blank=True)
    model_hash = models.CharField(max_length=64, blank=True)
    meta = models.JSONField(default=dict, blank=True, help_text="The rest of the generation metadata.")

    # The local mirror.
    original = models.FileField(upload_to="images/original/", max_length=512, blank=True)
    thumbnail = models.FileField(upload_to="images/thumbnail/", max_length=512, blank=True)
    mirror_status = models.CharField(
        max_length=16, choices=MirrorStatus.choices, default=MirrorStatus.PENDING
    )
    mirror_error = models.TextField(blank=True)
    mirror_attempts = models.PositiveIntegerField(default=0)
    mirrored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version_id", "position", "id"]
        indexes = [
            models.Index(fields=["version", "position"], name="image_version_position_idx"),
            models.Index(fields=["mirror_status"], name="image_mirror_status_idx"),
        ]

    def __str__(self) -> str:
        return self.url


class SourceRecord(models.Model):
    """Where a model came from: one row per (provider, external key), with when and what was fetched.

    A model may have several (a Civitai API response and a mirror page of the same model).
    """

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="sources")
    provider = models.CharField(max_length=32, choices=Provider.choices)
    external_id = models.CharField(
        max_length=512, help_text="Civitai model id, HuggingFace repo id, or a mirror page's identity."
    )
    url = models.CharField(max_length=2048, blank=True, help_text="The URL or file it was read from.")
    payload_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of what was read (the raw item and the parsers' code, or the parsed record): an item "
        "with a hash some source keeps is unchanged and is not parsed again.",
    )
    fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["provider", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="source_unique_provider_external_id"
            ),
        ]
        indexes = [models.Index(fields=["payload_hash"], name="source_payload_hash_idx")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id}"


class IngestRun(models.Model):
    """One ingest, crawl or sync: what was asked, how it went, and each failure with its input."""

    kind = models.CharField(max_length=32, default="ingest", help_text="ingest, crawl, sync, resync.")
    sources = models.JSONField(default=list, help_text="What was asked for: URLs, ids, file names.")
    model_type = models.CharField(
        max_length=64, blank=True, help_text="Type for mirror pages that name none."
    )
    local_files = models.BooleanField(
        default=False,
        help_text="Its sources may name files and folders on the server: only runs started by manage.py ingest "
        "at the server. Runs asked for through the API or the admin read URLs, ids and uploads only.",
    )
    status = models.CharField(
        max_length=16, choices=IngestRunStatus.choices, default=IngestRunStatus.QUEUED, db_index=True
    )
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text='[{"input": ..., "message": ...}]')
    warnings = models.JSONField(
        default=list,
        blank=True,
        help_text='What was dropped from models that were kept: [{"input": ..., "message": ...}]',
    )
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a worker started this run.")
    notes = models.TextField(blank=True, help_text="What happened beyond the counts (restarts, ...).")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
