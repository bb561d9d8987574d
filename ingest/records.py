"""Plain records that parsers return and the writer takes: no ORM, no settings.

A field that is None was not carried by the payload: the writer leaves what the catalog already has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CreatorRecord:
    """A creator as a source names it."""

    username: str
    provider: str = "civitai"
    image_url: str | None = None


@dataclass(frozen=True)
class TagRecord:
    """A tag from Civitai's /tags list."""

    name: str


@dataclass(frozen=True)
class FileRecord:
    """One downloadable file of a version."""

    name: str
    download_url: str = ""
    civitai_id: int | None = None
    kind: str | None = None
    format: str | None = None
    precision: str | None = None
    size_type: str | None = None
    size_bytes: int | None = None
    is_primary: bool | None = None
    pickle_scan_result: str | None = None
    pickle_scan_message: str | None = None
    virus_scan_result: str | None = None
    virus_scan_message: str | None = None
    scanned_at: datetime | None = None
    # Model field name -> upper-case hex, only well-formed hashes (see catalog.models.HASH_FORMATS).
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageRecord:
    """One sample image with its generation metadata."""

    url: str
    civitai_id: int | None = None
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    nsfw_level: int | None = None
    blurhash: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    sampler: str | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    seed: str | None = None
    size: str | None = None
    model_name: str | None = None
    model_hash: str | None = None
    meta: dict | None = None


@dataclass(frozen=True)
class VersionRecord:
    """One version of a model."""

    civitai_id: int | None = None
    hf_sha: str | None = None
    name: str | None = None
    description: str | None = None
    base_model: str | None = None
    base_model_type: str | None = None
    trained_words: tuple[str, ...] | None = None
    status: str | None = None
    nsfw_level: int | None = None
    source_created_at: datetime | None = None
    source_updated_at: datetime | None = None
    published_at: datetime | None = None
    early_access_days: int | None = None
    early_access_ends_at: datetime | None = None
    download_url: str | None = None
    air: str | None = None
    download_count: int | None = None
    rating_count: int | None = None
    rating: float | None = None
    thumbs_up_count: int | None = None
    thumbs_down_count: int | None = None
    files: tuple[FileRecord, ...] = ()
    images: tuple[ImageRecord, ...] = ()
    # True when the payload lists every file / image of the version, so ones missing from it are gone.
    files_complete: bool = False
    images_complete: bool = False
    # What the parser dropped from a version it kept, each naming the field ("modelVersions[0].images[2].url:
    # dropped the image: not a public address: 10.0.0.1"): the run records them as warnings.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelRecord:
    """One model as one source describes it."""

    provider: str
    source_key: str  # the source's identity for this model (SourceRecord.external_id)
    name: str
    source_url: str = ""
    civitai_id: int | None = None
    hf_repo_id: str | None = None
    type: str | None = None
    description: str | None = None
    creator: CreatorRecord | None = None
    tags: tuple[str, ...] | None = None
    nsfw: bool | None = None
    nsfw_level: int | None = None
    poi: bool | None = None
    minor: bool | None = None
    allow_no_credit: bool | None = None
    allow_derivatives: bool | None = None
    allow_different_license: bool | None = None
    allow_commercial_use: frozenset[str] | None = None
    license: str | None = None
    download_count: int | None = None
    favorite_count: int | None = None
    thumbs_up_count: int | None = None
    thumbs_down_count: int | None = None
    comment_count: int | None = None
    rating_count: int | None = None
    rating: float | None = None
    tipped_amount_count: int | None = None
    availability: str | None = None
    source_availability: str | None = None
    versions: tuple[VersionRecord, ...] = ()
    # True when the payload lists every published version (a model object), not one (a model-version object).
    versions_complete: bool = False

    def payload_hash(self) -> str:
        """A stable SHA-256 of everything the record carries: equal hashes mean nothing changed."""
        return hashlib.sha256(json.dumps(self, sort_keys=True, default=_json_default).encode()).hexdigest()


def _json_default(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return value.__dict__  # the encoder walks it (asdict would deep-copy the whole record first)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


@dataclass(frozen=True)
class RestoreRecord:
    """A model read back from the catalog's own export: the record to write, and what curation added to it
    (flags and notes, every source it came from, its images' mirror state)."""

    record: ModelRecord
    extras: dict = field(default_factory=dict)
