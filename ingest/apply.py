"""How a parsed record's values land on the catalog's rows: set, or only filled where the catalog has nothing
(an older payload), for a model, its creator, tags, versions, files and images. The writer (ingest/writer.py)
and the bulk insert of new models (ingest/inserts.py) both use these."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import (
    Availability,
    Creator,
    Image,
    Model,
    ModelFile,
    ModelVersion,
    Tag,
)
from ingest.records import (
    FileRecord,
    ImageRecord,
    ModelRecord,
    VersionRecord,
)

MODEL_FIELDS = [
    "name", "type", "description", "nsfw", "nsfw_level", "poi", "minor", "allow_no_credit", "allow_derivatives",
    "allow_different_license", "license", "download_count", "favorite_count", "thumbs_up_count",
    "thumbs_down_count", "comment_count", "rating_count", "rating", "tipped_amount_count", "availability",
    "source_availability", "civitai_id", "hf_repo_id",
]  # fmt: skip
VERSION_FIELDS = [
    f.name
    for f in fields(VersionRecord)
    if f.name not in ("files", "images", "files_complete", "images_complete", "warnings")
]
FILE_FIELDS = [f.name for f in fields(FileRecord) if f.name != "hashes"]
IMAGE_FIELDS = [f.name for f in fields(ImageRecord)]
COMMERCIAL_FLAGS = {
    "Image": "allow_commercial_image",
    "RentCivit": "allow_commercial_rent_civit",
    "Rent": "allow_commercial_rent",
    "Sell": "allow_commercial_sell",
}
GONE = {Availability.ARCHIVED, Availability.TAKEN_DOWN, Availability.REMOVED}


def creators_for(records: list[ModelRecord]) -> dict[tuple[str, str], Creator]:
    """(provider, lower-case username) -> the creator, creating the missing ones and taking new avatars."""
    wanted = {(r.creator.provider, r.creator.username.lower()): r.creator for r in records if r.creator}
    if not wanted:
        return {}

    def load() -> dict[tuple[str, str], Creator]:
        found = Creator.objects.annotate(lname=Lower("username")).filter(lname__any_of={k[1] for k in wanted})
        return {
            (c.provider, c.username.lower()): c for c in found if (c.provider, c.username.lower()) in wanted
        }

    creators = load()
    missing = [
        Creator(provider=c.provider, username=c.username, image_url=c.image_url or "")
        for key, c in wanted.items()
        if key not in creators
    ]
    if missing:
        Creator.objects.bulk_create(missing, ignore_conflicts=True)
        creators = load()
    changed = []
    for key, creator in creators.items():
        url = wanted[key].image_url
        if url and creator.image_url != url:
            creator.image_url = url
            changed.append(creator)
    if changed:
        Creator.objects.bulk_update(changed, ["image_url", "updated_at"])
    return creators


NO_DATE = datetime.min.replace(tzinfo=UTC)


def versions_newest_first(record: ModelRecord) -> list[VersionRecord]:
    """A new model's versions in the order model_upsert gives them: a full model payload's own order (the
    source's index), else by date, newest first."""
    if record.versions_complete:
        return list(record.versions)
    return sorted(reversed(record.versions), key=version_when, reverse=True)


def version_when(version: ModelVersion | VersionRecord) -> datetime:
    """When a version came out at its source (what orders versions)."""
    return version.published_at or version.source_created_at or version.source_updated_at or NO_DATE


def version_as_of(version: ModelVersion | VersionRecord) -> datetime | None:
    """The newest of a version's dates at its source: how recent what a payload says of it is."""
    dates = [d for d in (version.published_at, version.source_created_at, version.source_updated_at) if d]
    return max(dates) if dates else None


def older_than_held(model: Model, record: ModelRecord) -> bool:
    """Whether the payload is older than what the catalog holds of the model, by the source's own dates: its
    newest version date before the newest the catalog has."""
    dates = [d for d in map(version_as_of, record.versions) if d]
    if not dates:
        return False  # no date of its own: it was fetched now, so it is the newest
    held = [d for d in map(version_as_of, model.versions.all()) if d]
    return bool(held) and max(dates) < max(held)


def value_set(instance: Any, name: str, value: Any) -> bool:
    """Set a field when the record carries a value that differs; say whether it changed."""
    if value is None or getattr(instance, name) == value:
        return False
    setattr(instance, name, value)
    return True


def value_fill(instance: Any, name: str, value: Any) -> bool:
    """Set a field the catalog lacks (None or empty) from an older or gone payload; say whether it changed."""
    if getattr(instance, name) not in (None, "", [], {}):
        return False
    return value_set(instance, name, value)


def model_apply(
    model: Model, record: ModelRecord, *, fill_only: bool = False, availability: bool = True
) -> bool:
    put = value_fill if fill_only else value_set
    changed = False
    for name in MODEL_FIELDS:
        value = getattr(record, name)
        if name in ("civitai_id", "hf_repo_id") and getattr(model, name):
            continue  # a model's identity never changes (a merged duplicate's id leads here: MergedModel)
        if name == "availability":
            changed |= value_set(model, name, value) if availability else False
            continue
        changed |= put(model, name, value)
    if record.allow_commercial_use is not None:
        for word, flag in COMMERCIAL_FLAGS.items():
            changed |= put(model, flag, word in record.allow_commercial_use)
    slug = slugify(model.name, allow_unicode=True)[:255] or "model"
    changed |= value_set(model, "slug", slug)
    return changed


def creator_apply(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
    if record.creator is None or (fill_only and model.creator_id):
        return False
    creator = Creator.objects.filter(
        provider=record.creator.provider, username__iexact=record.creator.username
    ).first()
    if creator is None:
        creator = Creator.objects.create(
            provider=record.creator.provider,
            username=record.creator.username,
            image_url=record.creator.image_url or "",
        )
    elif record.creator.image_url and creator.image_url != record.creator.image_url:
        creator.image_url = record.creator.image_url
        creator.save(update_fields=["image_url", "updated_at"])
    if model.creator_id == creator.pk:
        return False
    model.creator = creator
    model.save(update_fields=["creator", "updated_at"])
    return True


def tags_get_or_create(names: list[str]) -> list[Tag]:
    """Tags by name, case-insensitively, creating the missing ones; in the order given."""
    wanted = {name.lower(): name for name in names}
    existing = {
        t.name.lower(): t for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__any_of=wanted)
    }
    missing = [Tag(name=name) for key, name in wanted.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {
            t.name.lower(): t for t in Tag.objects.annotate(lname=Lower("name")).filter(lname__any_of=wanted)
        }
    return [existing[key] for key in wanted if key in existing]


def tags_apply(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
    if record.tags is None:
        return False
    current = set(model.tags.values_list("pk", flat=True))
    if fill_only and current:
        return False
    tags = tags_get_or_create(list(record.tags))
    if current == {t.pk for t in tags}:
        return False
    model.tags.set(tags)
    return True


def versions_apply(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
    changed = False
    existing = list(model.versions.all())
    by_civitai = {v.civitai_id: v for v in existing if v.civitai_id}
    by_sha = {v.hf_sha: v for v in existing if v.hf_sha}
    # A version may already exist under another model (a mirror-only model merged into its Civitai twin).
    foreign_ids = [v.civitai_id for v in record.versions if v.civitai_id and v.civitai_id not in by_civitai]
    if foreign_ids:
        for version in ModelVersion.objects.filter(civitai_id__in=foreign_ids):
            by_civitai[version.civitai_id] = version
    seen: list[ModelVersion] = []
    for vrec in record.versions:
        version = (by_civitai.get(vrec.civitai_id) if vrec.civitai_id else None) or (
            by_sha.get(vrec.hf_sha) if vrec.hf_sha else None
        )
        if version is None and not vrec.civitai_id and not vrec.hf_sha:
            # A mirror page's version with no files carries no id: match it by name when that is unambiguous.
            named = [v for v in existing if v.name == (vrec.name or "") and v not in seen]
            version = named[0] if len(named) == 1 else None
        new = version is None
        if version is None:
            version = ModelVersion(model=model)
        # What the payload says of a version the catalog has newer word of only fills what it lacks.
        held, said = (None, None) if new else (version_as_of(version), version_as_of(vrec))
        keep = fill_only or bool(held and said and said < held)
        put = value_fill if keep and not new else value_set
        version_changed = version.model_id != model.pk
        version.model = model
        for name in VERSION_FIELDS:
            value = getattr(vrec, name)
            if name == "trained_words" and value is not None:
                value = list(value)
            version_changed |= put(version, name, value)
        if new or version_changed:
            version.save()
        changed |= new or version_changed
        prune = not (keep or model.availability in GONE)  # archived: no files; taken down: no images
        changed |= files_apply(
            version, vrec, prune=vrec.files_complete and prune, new_version=new, fill_only=keep
        )
        changed |= images_apply(
            version, vrec, prune=vrec.images_complete and prune, new_version=new, fill_only=keep
        )
        seen.append(version)
    authoritative = record.versions_complete and not fill_only
    changed |= versions_order(model, seen if authoritative else None, held=existing)
    return changed


def versions_order(model: Model, order: list[ModelVersion] | None, *, held: list[ModelVersion]) -> bool:
    """Newest first. A full model payload that is not older than the catalog gives the order (`order`: the
    source's own index, the creator's order on Civitai, which the Civitai API here answers in); otherwise the
    versions the catalog `held` keep theirs. Every other version (one an older payload added, one the source
    no longer lists) goes by its date, before the first placed version older than it."""
    versions = list(model.versions.all())
    placed_ids = (
        [v.pk for v in order] if order is not None else [v.pk for v in sorted(held, key=lambda v: v.position)]
    )
    by_pk = {v.pk: v for v in versions}
    ordered = [by_pk[pk] for pk in placed_ids if pk in by_pk]
    placed = set(placed_ids)
    for version in sorted((v for v in versions if v.pk not in placed), key=version_when, reverse=True):
        when = version_when(version)
        at = next((i for i, other in enumerate(ordered) if version_when(other) < when), len(ordered))
        ordered.insert(at, version)
    moved = [v for i, v in enumerate(ordered) if v.position != i]
    for i, version in enumerate(ordered):
        version.position = i
    if moved:
        ModelVersion.objects.bulk_update(moved, ["position"])
    return bool(moved)


def files_apply(
    version: ModelVersion, vrec: VersionRecord, *, prune: bool, new_version: bool, fill_only: bool = False
) -> bool:
    put = value_fill if fill_only else value_set
    existing = [] if new_version else list(version.files.all())
    by_id = {f.civitai_id: f for f in existing if f.civitai_id}
    by_url = {(f.download_url, f.name): f for f in existing}
    by_url_only: dict[str, list[ModelFile]] = {}
    for f in existing:
        by_url_only.setdefault(f.download_url, []).append(f)
    matched: set[int] = set()
    created: list[ModelFile] = []
    updated: list[ModelFile] = []
    for position, frec in enumerate(vrec.files):
        file = (by_id.get(frec.civitai_id) if frec.civitai_id else None) or by_url.get(
            (frec.download_url, frec.name)
        )
        if file is None and frec.download_url and len(by_url_only.get(frec.download_url, [])) == 1:
            # A mirror page names a file by its URL only; the API adds its id and hashes later.
            candidate = by_url_only[frec.download_url][0]
            if candidate.pk not in matched and not (candidate.civitai_id and frec.civitai_id):
                file = candidate
        if file is None:
            file = ModelFile(version=version)
            created.append(file)
        else:
            matched.add(file.pk)
        file_put = put if file.pk else value_set  # a file the catalog lacked is written whole
        file_changed = file_put(file, "position", position)
        for name in FILE_FIELDS:
            file_changed |= file_put(file, name, getattr(frec, name))
        for name, value in frec.hashes.items():
            file_changed |= file_put(file, name, value)
        if file_changed and file.pk:
            updated.append(file)
    rows_save(ModelFile, created, updated)
    stale = [f.pk for f in existing if f.pk not in matched] if prune else []
    if stale:
        ModelFile.objects.filter(pk__in=stale).delete()
    return bool(created or updated or stale)


def images_apply(
    version: ModelVersion, vrec: VersionRecord, *, prune: bool, new_version: bool, fill_only: bool = False
) -> bool:
    put = value_fill if fill_only else value_set
    existing = [] if new_version else list(version.images.all())
    by_id = {i.civitai_id: i for i in existing if i.civitai_id}
    by_url = {i.url: i for i in existing}
    foreign_ids = [i.civitai_id for i in vrec.images if i.civitai_id and i.civitai_id not in by_id]
    if foreign_ids:
        # An image may sit under another version (a mirror-only model merged into its Civitai twin).
        for image in Image.objects.filter(civitai_id__in=foreign_ids):
            by_id[image.civitai_id] = image
    matched: set[int] = set()
    created: list[Image] = []
    updated: list[Image] = []
    for position, irec in enumerate(vrec.images):
        image = (by_id.get(irec.civitai_id) if irec.civitai_id else None) or by_url.get(irec.url)
        if image is None:
            image = Image(version=version, position=position)
            created.append(image)
        else:
            matched.add(image.pk)
        image_changed = value_set(image, "version_id", version.pk)
        if vrec.images_complete and not fill_only:
            image_changed |= value_set(image, "position", position)
        for name in IMAGE_FIELDS:
            image_changed |= (put if image.pk else value_set)(image, name, getattr(irec, name))
        if image_changed and image.pk:
            updated.append(image)
    rows_save(Image, created, updated)
    stale = [i.pk for i in existing if i.pk not in matched] if prune else []
    if stale:
        Image.objects.filter(pk__in=stale).delete()
    return bool(created or updated or stale)


def rows_save(model_class: type, created: list, updated: list) -> None:
    """Insert new rows in one statement and update changed ones in one (not a query per row)."""
    now = timezone.now()
    for row in created:
        row.created_at = row.updated_at = now
    if created:
        model_class.objects.bulk_create(created)
    if updated:
        for row in updated:
            row.updated_at = now
        names = [f.name for f in written_fields(model_class) if f.name != "created_at"]
        model_class.objects.bulk_update(updated, names)


def written_fields(model_class: type) -> list[Any]:
    """The columns the writers set: every concrete field but the id and those the database generates
    (Model.name_lower), which COPY and bulk_update may not name."""
    return [f for f in model_class._meta.concrete_fields if not f.primary_key and not f.generated]
