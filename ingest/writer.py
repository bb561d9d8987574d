"""The one writer of the model aggregate: a model with its versions, files, images, tags, creator and source records.

`models_upsert` writes a batch (one record or thousands) and `model_upsert` one: an upsert keyed by the providers'
ids. The same record twice changes nothing; a newer one updates in place; nothing a source leaves out (a None
field) overwrites what the catalog has, and a payload older than what it holds only adds what it lacks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
from django.db import DatabaseError, IntegrityError, InterfaceError, connection, transaction
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import (
    Availability,
    Creator,
    Image,
    MergedModel,
    Model,
    ModelFile,
    ModelType,
    ModelVersion,
    SourceRecord,
    Tag,
)
from catalog.services import (
    catalog_changed,
    model_aggregates_refresh,
    model_search_text_refresh,
    search_text_join,
)
from ingest.records import (
    CreatorRecord,
    FileRecord,
    ImageRecord,
    ModelRecord,
    RestoreRecord,
    TagRecord,
    VersionRecord,
)
from ingest.restore import model_restore_extras
from ingest.runs import CREATED, UNCHANGED, UPDATED

logger = logging.getLogger(__name__)


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
BULK_CHUNK = 250  # new models inserted in one transaction


@dataclass(frozen=True)
class UpsertResult:
    """What model_upsert did: the model's id and created / updated / unchanged."""

    model_id: int
    outcome: str


def record_write(
    record: ModelRecord | CreatorRecord | TagRecord | ImageRecord | RestoreRecord,
) -> UpsertResult:
    """Write any parsed record: a model (the aggregate), a model from the catalog's own export, or a creator,
    tag or gallery image on its own."""
    if isinstance(record, ModelRecord):
        return model_upsert(record)
    if isinstance(record, RestoreRecord):
        with transaction.atomic():
            result = model_upsert(record.record)
            model_restore_extras(result.model_id, record.extras)
        return result
    if isinstance(record, CreatorRecord):
        return _creator_upsert(record)
    if isinstance(record, TagRecord):
        tag = tags_get_or_create([record.name])[0]
        return UpsertResult(tag.pk, UNCHANGED)
    return _gallery_image_update(record)


def _creator_upsert(record: CreatorRecord) -> UpsertResult:
    creator = Creator.objects.filter(provider=record.provider, username__iexact=record.username).first()
    if creator is None:
        creator = Creator.objects.create(
            provider=record.provider, username=record.username, image_url=record.image_url or ""
        )
        transaction.on_commit(catalog_changed)
        return UpsertResult(creator.pk, CREATED)
    if _set(creator, "image_url", record.image_url):
        creator.save(update_fields=["image_url", "updated_at"])
        transaction.on_commit(catalog_changed)
        return UpsertResult(creator.pk, UPDATED)
    return UpsertResult(creator.pk, UNCHANGED)


def _gallery_image_update(record: ImageRecord) -> UpsertResult:
    """An image from /images updates the catalog's copy of it; one the catalog does not have is left alone
    (it names no version to hang it under)."""
    image = Image.objects.filter(civitai_id=record.civitai_id).first() if record.civitai_id else None
    if image is None:
        return UpsertResult(0, UNCHANGED)
    changed = False
    for name in IMAGE_FIELDS:
        if name != "url":
            changed |= _set(image, name, getattr(record, name))
    if changed:
        image.save()
        transaction.on_commit(catalog_changed)
    return UpsertResult(image.pk, UPDATED if changed else UNCHANGED)


def model_upsert(record: ModelRecord, *, payload_hash: str | None = None) -> UpsertResult:
    """Write one parsed model with its versions, files, images and tags, in one transaction. `payload_hash`
    is what the source record keeps to tell an unchanged payload next time (by default the record's hash)."""
    payload_hash = payload_hash or record.payload_hash()
    known = (
        SourceRecord.objects.filter(provider=record.provider, external_id=record.source_key)
        .values_list("model_id", "payload_hash")
        .first()
    )
    if known and known[1] == payload_hash:
        return UpsertResult(known[0], UNCHANGED)
    try:
        return _upsert(record, payload_hash)
    except IntegrityError:
        # Another worker inserted the same model (or tag) between our read and our write: read again.
        logger.info("retrying %s:%s after a concurrent insert", record.provider, record.source_key)
        return _upsert(record, payload_hash)


def models_upsert(items: list[tuple[ModelRecord, str | None]]) -> list[UpsertResult | Exception]:
    """Write many parsed models, each with its payload hash (None: the record's own). Unchanged payloads are
    told apart in one query; models the catalog has never seen are inserted together in a few statements per
    table; the rest (updates, merges) go one by one through model_upsert. Returns, in order, each model's
    result or the error that stopped it (its transaction rolled back: nothing is half-written)."""
    hashes = [given or record.payload_hash() for record, given in items]
    results: list[UpsertResult | Exception | None] = [None] * len(items)
    stored = _stored_hashes([record for record, _ in items])
    for i, (record, _) in enumerate(items):
        known = stored.get((record.provider, record.source_key))
        if known and known[1] == hashes[i]:
            results[i] = UpsertResult(known[0], UNCHANGED)
    candidates = _new_candidates([(i, record) for i, (record, _) in enumerate(items) if results[i] is None])
    # Chunks keep each transaction's advisory locks (a few per model) well inside PostgreSQL's lock table when
    # several workers insert at once.
    for start in range(0, len(candidates), BULK_CHUNK):
        fresh = candidates[start : start + BULK_CHUNK]
        try:
            outermost = not connection.in_atomic_block
            with transaction.atomic():
                if outermost:
                    _commit_without_waiting_for_disk()
                _lock_many([items[i][0] for i in fresh])
                fresh = _still_new(fresh, items)
                model_ids = _bulk_create([items[i][0] for i in fresh], [hashes[i] for i in fresh])
        except (IntegrityError, DatabaseError) as exc:
            if connection_lost(exc):
                raise  # not the records' fault: the task retries the run
            # A concurrent writer got there first, or one record breaks a constraint: write them one by one.
            logger.info("bulk insert of %d models fell back to one by one: %s", len(fresh), exc)
            continue
        for i, model_id in zip(fresh, model_ids, strict=True):
            results[i] = UpsertResult(model_id, CREATED)
        if model_ids:
            transaction.on_commit(catalog_changed)
    for i, (record, _) in enumerate(items):
        if results[i] is None:
            try:
                results[i] = model_upsert(record, payload_hash=hashes[i])
            except Exception as exc:  # one bad model must not stop the others
                if connection_lost(exc):
                    raise  # not this model's fault: the task retries the run
                logger.exception("writing %s:%s failed", record.provider, record.source_key)
                results[i] = exc
    return results  # type: ignore[return-value]


def connection_lost(exc: BaseException) -> bool:
    """Whether an error means the database went away (a restart, a failover) rather than bad input."""
    if not isinstance(exc, DatabaseError | InterfaceError):
        return False
    try:
        return connection.connection is None or not connection.is_usable()
    except Exception:
        return True


def _stored_hashes(records: list[ModelRecord]) -> dict[tuple[str, str], tuple[int, str]]:
    """(provider, source key) -> (model id, payload hash) of the sources the catalog has, for these records."""
    by_provider: dict[str, set[str]] = {}
    for record in records:
        by_provider.setdefault(record.provider, set()).add(record.source_key)
    stored = {}
    for provider, keys in by_provider.items():
        rows = SourceRecord.objects.filter(provider=provider, external_id__any_of=keys).values_list(
            "external_id", "model_id", "payload_hash"
        )
        stored.update({(provider, key): (model_id, digest) for key, model_id, digest in rows})
    return stored


def _identity(record: ModelRecord) -> set[tuple]:
    """Every id by which a record may meet a row the catalog has (or another record of the same batch)."""
    keys: set[tuple] = {("source", record.provider, record.source_key)}
    if record.civitai_id:
        keys.add(("model", record.civitai_id))
    if record.hf_repo_id:
        keys.add(("hf", record.hf_repo_id.lower()))
    for vrec in record.versions:
        if vrec.civitai_id:
            keys.add(("version", vrec.civitai_id))
        keys.update(("file", f.civitai_id) for f in vrec.files if f.civitai_id)
        keys.update(("image", i.civitai_id) for i in vrec.images if i.civitai_id)
    return keys


def _new_candidates(pending: list[tuple[int, ModelRecord]]) -> list[int]:
    """Records that may be new to the catalog and share no id with another record of the batch. A mirror page
    with no versions is matched by name and description, so it never goes in bulk."""
    claimed: set[tuple] = set()
    fresh = []
    for i, record in pending:
        keys = _identity(record)
        if keys & claimed or (record.provider == "mirror" and not record.versions):
            claimed |= keys
            continue
        claimed |= keys
        fresh.append(i)
    return fresh


def _still_new(fresh: list[int], items: list[tuple[ModelRecord, str | None]]) -> list[int]:
    """Of these records, the ones no row of the catalog knows by any of their ids (checked under the locks)."""
    keys = set().union(*(_identity(items[i][0]) for i in fresh))

    def ids(kind: str) -> set:
        return {k[-1] for k in keys if k[0] == kind}

    taken: set[tuple] = set()
    taken |= {
        ("model", v)
        for v in Model.objects.filter(civitai_id__any_of=ids("model")).values_list("civitai_id", flat=True)
    }
    hf = ids("hf")
    if hf:
        found = Model.objects.annotate(lrepo=Lower("hf_repo_id")).filter(lrepo__any_of=hf)
        taken |= {("hf", v.lower()) for v in found.values_list("hf_repo_id", flat=True)}
    for provider in {k[1] for k in keys if k[0] == "source"}:
        wanted = {k[2] for k in keys if k[0] == "source" and k[1] == provider}
        found = SourceRecord.objects.filter(provider=provider, external_id__any_of=wanted)
        taken |= {("source", provider, v) for v in found.values_list("external_id", flat=True)}
    for kind, model_class in (("version", ModelVersion), ("file", ModelFile), ("image", Image)):
        wanted = ids(kind)
        if wanted:
            found = model_class.objects.filter(civitai_id__any_of=wanted).values_list("civitai_id", flat=True)
            taken |= {(kind, v) for v in found}
    return [i for i in fresh if not _identity(items[i][0]) & taken]


def _commit_without_waiting_for_disk() -> None:
    """Let this transaction's commit return before PostgreSQL has written it to disk (synchronous_commit off,
    for this transaction only): a chunk's commit no longer waits tens of milliseconds for the disk. PostgreSQL
    writes its log in order, so a crash may lose the last chunks committed this way, never part of one, and
    the next commit that does wait (the run's end, ingest_run_finish) puts every chunk before it on disk: a
    run recorded as finished has all its models. Called only in a transaction models_upsert opened itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")


def _lock_many(records: list[ModelRecord]) -> None:
    """The advisory locks of many records at once, in the same global order single writers take them."""
    if connection.vendor != "postgresql" or not records:
        return
    ids = sorted({lock_id for record in records for lock_id in _lock_ids(record)})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
            [ids],
        )


def _bulk_create(records: list[ModelRecord], hashes: list[str]) -> list[int]:
    """Insert models the catalog has never seen, with everything they carry, one statement per table (COPY on
    PostgreSQL). The rows are the ones model_upsert would write for each record on its own: a test holds the
    two to that."""
    if not records:
        return []
    creators = _creators_for(records)
    tags = {t.name.lower(): t for t in tags_get_or_create([n for r in records for n in (r.tags or ())])}
    model_fields = _written_fields(Model)
    model_rows: list[dict[str, Any]] = []
    ordered_versions: list[list[VersionRecord]] = []
    tag_keys: list[list[str]] = []
    for record in records:
        model = Model(name=record.name, type=record.type or ModelType.OTHER)
        _apply_model(model, record)
        creator = (
            creators.get((record.creator.provider, record.creator.username.lower()))
            if record.creator
            else None
        )
        model.creator = creator
        vrecs = _versions_newest_first(record)
        ordered_versions.append(vrecs)
        published = [v.published_at for v in vrecs if v.published_at]
        created = [v.source_created_at for v in vrecs if v.source_created_at]
        updated = [v.source_updated_at for v in vrecs if v.source_updated_at]
        first = min(published) if published else (min(created) if created else None)
        model.image_count = sum(len(v.images) for v in vrecs)
        model.published_at = first
        model.last_version_at = max(updated) if updated else first
        keys = [k for k in dict.fromkeys(n.lower() for n in (record.tags or ())) if k in tags]
        tag_keys.append(keys)
        model.search_text = search_text_join(
            name=model.name,
            creator=creator.username if creator else "",
            tags=[tags[k].name for k in keys],
            versions=[(v.name or "", v.base_model or "", list(v.trained_words or [])) for v in vrecs],
            file_names=[f.name for v in vrecs for f in v.files],
            description=model.description,
        )
        model_rows.append(
            {f.attname: getattr(model, f.attname) for f in model_fields if not _is_timestamp(f)}
        )
    model_ids = _insert_rows(Model, model_rows, with_ids=True)
    _insert_rows(
        Model.tags.through,
        [
            {"model_id": model_id, "tag_id": tags[key].pk}
            for model_id, keys in zip(model_ids, tag_keys, strict=True)
            for key in keys
        ],
    )
    version_rows = []
    for model_id, vrecs in zip(model_ids, ordered_versions, strict=True):
        for position, vrec in enumerate(vrecs):
            row = _present(vrec, VERSION_FIELDS)
            if row.get("trained_words") is not None:
                row["trained_words"] = list(row["trained_words"])
            version_rows.append({**row, "model_id": model_id, "position": position})
    version_ids = _insert_rows(ModelVersion, version_rows, with_ids=True)
    file_rows, image_rows = [], []
    vrec_of = [vrec for vrecs in ordered_versions for vrec in vrecs]
    for version_id, vrec in zip(version_ids, vrec_of, strict=True):
        for position, frec in enumerate(vrec.files):
            row = _present(frec, FILE_FIELDS)
            row.update(frec.hashes, version_id=version_id, position=position)
            file_rows.append(row)
        for position, irec in enumerate(vrec.images):
            row = _present(irec, IMAGE_FIELDS)
            row.update(version_id=version_id, position=position)
            image_rows.append(row)
    _insert_rows(ModelFile, file_rows)
    _insert_rows(Image, image_rows)
    now = timezone.now()
    _insert_rows(
        SourceRecord,
        [
            {
                "model_id": model_id,
                "provider": record.provider,
                "external_id": record.source_key,
                "url": record.source_url[:2048],
                "payload_hash": digest,
                "fetched_at": now,
            }
            for model_id, record, digest in zip(model_ids, records, hashes, strict=True)
        ],
    )
    return model_ids


def _present(record: Any, names: list[str]) -> dict[str, Any]:
    """The fields a record carries (None: not carried, so the column keeps its default)."""
    return {name: value for name in names if (value := getattr(record, name)) is not None}


def _written_fields(model_class: type) -> list[Any]:
    """The columns the writers set: every concrete field but the id and those the database generates
    (Model.name_lower), which COPY and bulk_update may not name."""
    return [f for f in model_class._meta.concrete_fields if not f.primary_key and not f.generated]


def _is_timestamp(field: Any) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _insert_rows(model_class: type, rows: list[dict[str, Any]], *, with_ids: bool = False) -> list[int]:
    """Insert rows (field attname -> value; the others take their defaults, timestamps now). PostgreSQL: ids
    drawn from the table's sequence and one COPY. Elsewhere: bulk_create. Returns the ids when asked."""
    if not rows:
        return []
    now = timezone.now()
    fields = _written_fields(model_class)
    defaults = {f.attname: now if _is_timestamp(f) else f.get_default() for f in fields}
    if connection.vendor != "postgresql":
        objects = [model_class(**{**defaults, **row}) for row in rows]
        model_class.objects.bulk_create(objects, batch_size=500)
        return [o.pk for o in objects]
    table = model_class._meta.db_table
    ids: list[int] = []
    with connection.cursor() as cursor, connection.wrap_database_errors:  # COPY errors as Django's errors
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in (["id"] if with_ids else []) + [f.column for f in fields])
        # Each column: its name in the rows, what COPY takes when a row leaves it out, and whether it is JSON.
        spec = [
            (f.attname, _copy_value(defaults[f.attname], is_json), is_json)
            for f in fields
            for is_json in [f.get_internal_type() == "JSONField"]
        ]
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for i, row in enumerate(rows):
                values = [
                    _copy_value(row[name], is_json) if name in row else default
                    for name, default, is_json in spec
                ]
                copy.write_row([ids[i], *values] if with_ids else values)
    return ids


def _copy_value(value: Any, is_json: bool) -> Any:
    """A value as COPY takes it: JSON as its text, a file field as its name, an enumeration member as its
    value; the rest as it is."""
    if value is None:
        return None
    if is_json:
        return _json_text(value)
    if type(value) in _PLAIN_TYPES:
        return value
    return _plain(value)


def _json_text(value: Any) -> str:
    """JSON text for a jsonb column: by orjson (several times faster than json.dumps), or by the standard
    library for what orjson refuses (integers beyond 64 bits, keys that are not strings)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


# Values COPY takes as they are (the exact types: an enumeration member is a str subclass, and goes to _plain).
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), datetime})


def _plain(value: Any) -> Any:
    """A value as COPY takes it (a file field's name; enumeration members as their value)."""
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, Enum):
        return value.value
    return value


def _creators_for(records: list[ModelRecord]) -> dict[tuple[str, str], Creator]:
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


def _versions_newest_first(record: ModelRecord) -> list[VersionRecord]:
    """A new model's versions in the order model_upsert gives them: a full model payload's own order (the
    source's index), else by date, newest first."""
    if record.versions_complete:
        return list(record.versions)
    return sorted(reversed(record.versions), key=_version_when, reverse=True)


def _version_when(version: ModelVersion | VersionRecord) -> datetime:
    """When a version came out at its source (what orders versions)."""
    return version.published_at or version.source_created_at or version.source_updated_at or NO_DATE


def _as_of(version: ModelVersion | VersionRecord) -> datetime | None:
    """The newest of a version's dates at its source: how recent what a payload says of it is."""
    dates = [d for d in (version.published_at, version.source_created_at, version.source_updated_at) if d]
    return max(dates) if dates else None


def _older_than_held(model: Model, record: ModelRecord) -> bool:
    """Whether the payload is older than what the catalog holds of the model, by the source's own dates: its
    newest version date before the newest the catalog has."""
    dates = [d for d in map(_as_of, record.versions) if d]
    if not dates:
        return False  # no date of its own: it was fetched now, so it is the newest
    held = [d for d in map(_as_of, model.versions.all()) if d]
    return bool(held) and max(dates) < max(held)


def _upsert(record: ModelRecord, payload_hash: str) -> UpsertResult:
    with transaction.atomic():
        _lock(record)
        model = _find_model(record)
        created = model is None
        changed = False
        if model is None:
            model = Model(name=record.name, type=record.type or ModelType.OTHER)
        # A payload older than what the catalog holds, or one of a model gone from its source (archived, taken
        # down: empty fields), never overwrites a value; it adds only what the catalog lacks (a version it never
        # saw, an empty field). A gone payload still says that the model is gone.
        older = not created and _older_than_held(model, record)
        fill_only = older or (not created and record.availability in GONE)
        changed |= _apply_model(model, record, fill_only=fill_only, availability=not older)
        if created or changed:
            model.save()
        changed |= _apply_creator(model, record, fill_only=fill_only)
        changed |= _apply_tags(model, record, fill_only=fill_only)
        changed |= _apply_versions(model, record, fill_only=fill_only)
        changed |= model_aggregates_refresh(model)
        if created or changed:
            model_search_text_refresh(model)
        SourceRecord.objects.update_or_create(
            provider=record.provider,
            external_id=record.source_key,
            defaults={
                "model": model,
                "url": record.source_url[:2048],
                "payload_hash": payload_hash,
                "fetched_at": timezone.now(),
                "last_error": "",
            },
        )
    if created or changed:
        transaction.on_commit(catalog_changed)
    return UpsertResult(model.pk, CREATED if created else UPDATED if changed else UNCHANGED)


def _lock(record: ModelRecord) -> None:
    """Serialise writers of the same model. PostgreSQL: transaction advisory locks, taken in a fixed order so
    two writers never wait on each other crosswise. SQLite serialises writers already (BEGIN IMMEDIATE)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for lock_id in sorted(_lock_ids(record)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _lock_ids(record: ModelRecord) -> set[int]:
    keys = {f"source:{record.provider}:{record.source_key}"}
    if record.civitai_id:
        keys.add(f"civitai-model:{record.civitai_id}")
    if record.hf_repo_id:
        keys.add(f"hf:{record.hf_repo_id.lower()}")
    keys.update(f"civitai-version:{v.civitai_id}" for v in record.versions if v.civitai_id)
    return {int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "big", signed=True) for k in keys}


def _find_model(record: ModelRecord) -> Model | None:
    """The model this record describes: by provider id, by source key, then by its versions' or images' ids
    (a mirror page has no model id, but its download URLs carry Civitai's version ids)."""
    if record.civitai_id:
        found = Model.objects.filter(civitai_id=record.civitai_id).first()
        if found:
            return found
    if record.hf_repo_id:
        found = Model.objects.filter(hf_repo_id=record.hf_repo_id).first()
        if found:
            return found
    source = SourceRecord.objects.filter(provider=record.provider, external_id=record.source_key).first()
    if source:
        return source.model
    merged = None
    if record.civitai_id:
        merged = MergedModel.objects.filter(civitai_id=record.civitai_id).first()
    elif record.hf_repo_id:
        merged = MergedModel.objects.filter(hf_repo_id=record.hf_repo_id).first()
    if merged:
        return merged.survivor
    version_ids = [v.civitai_id for v in record.versions if v.civitai_id]
    if version_ids:
        version = ModelVersion.objects.filter(civitai_id__in=version_ids).select_related("model").first()
        if version:
            return version.model
    image_ids = [i.civitai_id for v in record.versions for i in v.images if i.civitai_id]
    if image_ids:
        image = Image.objects.filter(civitai_id__in=image_ids).select_related("version__model").first()
        if image:
            return image.version.model
    if record.provider == "mirror" and not record.versions and record.description:
        # A page with no versions carries no id at all: it is the Civitai model with the same name and the
        # same (sanitized) description, when exactly one has them.
        twins = list(Model.objects.filter(name=record.name, description=record.description)[:2])
        if len(twins) == 1:
            return twins[0]
    return None


def _set(instance: Any, name: str, value: Any) -> bool:
    """Set a field when the record carries a value that differs; say whether it changed."""
    if value is None or getattr(instance, name) == value:
        return False
    setattr(instance, name, value)
    return True


def _fill(instance: Any, name: str, value: Any) -> bool:
    """Set a field the catalog lacks (None or empty) from an older or gone payload; say whether it changed."""
    if getattr(instance, name) not in (None, "", [], {}):
        return False
    return _set(instance, name, value)


def _apply_model(
    model: Model, record: ModelRecord, *, fill_only: bool = False, availability: bool = True
) -> bool:
    put = _fill if fill_only else _set
    changed = False
    for name in MODEL_FIELDS:
        value = getattr(record, name)
        if name in ("civitai_id", "hf_repo_id") and getattr(model, name):
            continue  # a model's identity never changes (a merged duplicate's id leads here: MergedModel)
        if name == "availability":
            changed |= _set(model, name, value) if availability else False
            continue
        changed |= put(model, name, value)
    if record.allow_commercial_use is not None:
        for word, flag in COMMERCIAL_FLAGS.items():
            changed |= put(model, flag, word in record.allow_commercial_use)
    slug = slugify(model.name, allow_unicode=True)[:255] or "model"
    changed |= _set(model, "slug", slug)
    return changed


def _apply_creator(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
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


def _apply_tags(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
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


def _apply_versions(model: Model, record: ModelRecord, *, fill_only: bool = False) -> bool:
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
        held, said = (None, None) if new else (_as_of(version), _as_of(vrec))
        keep = fill_only or bool(held and said and said < held)
        put = _fill if keep and not new else _set
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
        changed |= _apply_files(
            version, vrec, prune=vrec.files_complete and prune, new_version=new, fill_only=keep
        )
        changed |= _apply_images(
            version, vrec, prune=vrec.images_complete and prune, new_version=new, fill_only=keep
        )
        seen.append(version)
    authoritative = record.versions_complete and not fill_only
    changed |= _order_versions(model, seen if authoritative else None, held=existing)
    return changed


def _order_versions(model: Model, order: list[ModelVersion] | None, *, held: list[ModelVersion]) -> bool:
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
    for version in sorted((v for v in versions if v.pk not in placed), key=_version_when, reverse=True):
        when = _version_when(version)
        at = next((i for i, other in enumerate(ordered) if _version_when(other) < when), len(ordered))
        ordered.insert(at, version)
    moved = [v for i, v in enumerate(ordered) if v.position != i]
    for i, version in enumerate(ordered):
        version.position = i
    if moved:
        ModelVersion.objects.bulk_update(moved, ["position"])
    return bool(moved)


def _apply_files(
    version: ModelVersion, vrec: VersionRecord, *, prune: bool, new_version: bool, fill_only: bool = False
) -> bool:
    put = _fill if fill_only else _set
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
        file_put = put if file.pk else _set  # a file the catalog lacked is written whole
        file_changed = file_put(file, "position", position)
        for name in FILE_FIELDS:
            file_changed |= file_put(file, name, getattr(frec, name))
        for name, value in frec.hashes.items():
            file_changed |= file_put(file, name, value)
        if file_changed and file.pk:
            updated.append(file)
    _save_rows(ModelFile, created, updated)
    stale = [f.pk for f in existing if f.pk not in matched] if prune else []
    if stale:
        ModelFile.objects.filter(pk__in=stale).delete()
    return bool(created or updated or stale)


def _apply_images(
    version: ModelVersion, vrec: VersionRecord, *, prune: bool, new_version: bool, fill_only: bool = False
) -> bool:
    put = _fill if fill_only else _set
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
        image_changed = _set(image, "version_id", version.pk)
        if vrec.images_complete and not fill_only:
            image_changed |= _set(image, "position", position)
        for name in IMAGE_FIELDS:
            image_changed |= (put if image.pk else _set)(image, name, getattr(irec, name))
        if image_changed and image.pk:
            updated.append(image)
    _save_rows(Image, created, updated)
    stale = [i.pk for i in existing if i.pk not in matched] if prune else []
    if stale:
        Image.objects.filter(pk__in=stale).delete()
    return bool(created or updated or stale)


def _save_rows(model_class: type, created: list, updated: list) -> None:
    """Insert new rows in one statement and update changed ones in one (not a query per row)."""
    now = timezone.now()
    for row in created:
        row.created_at = row.updated_at = now
    if created:
        model_class.objects.bulk_create(created)
    if updated:
        for row in updated:
            row.updated_at = now
        names = [f.name for f in _written_fields(model_class) if f.name != "created_at"]
        model_class.objects.bulk_update(updated, names)


def model_mark_gone(*, civitai_id: int | None = None, hf_repo_id: str | None = None, status: int) -> int:
    """A model its source answers 404/410 for: mark it removed, keep its last good data. Returns rows marked."""
    models = Model.objects.none()
    if civitai_id:
        models = Model.objects.filter(civitai_id=civitai_id)
    elif hf_repo_id:
        models = Model.objects.filter(hf_repo_id=hf_repo_id)
    marked = models.exclude(availability=Availability.REMOVED).update(
        availability=Availability.REMOVED, updated_at=timezone.now()
    )
    SourceRecord.objects.filter(model__in=models).update(last_error=f"HTTP {status} at the source")
    if marked:
        transaction.on_commit(catalog_changed)
    return marked
