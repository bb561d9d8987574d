"""The one writer of the model aggregate: a model with its versions, files, images, tags, creator and source records.

`models_upsert` writes a batch (one record or thousands) and `model_upsert` one: an upsert keyed by the providers'
ids. The same record twice changes nothing; a newer one updates in place; nothing a source leaves out (a None
field) overwrites what the catalog has, and a payload older than what it holds only adds what it lacks.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, InterfaceError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

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
)
from catalog.services import (
    catalog_changed,
    model_aggregates_refresh,
    model_search_text_refresh,
)
from ingest.apply import (
    GONE,
    IMAGE_FIELDS,
    creator_apply,
    model_apply,
    older_than_held,
    tags_apply,
    tags_get_or_create,
    value_set,
    versions_apply,
)
from ingest.inserts import models_insert
from ingest.records import (
    CreatorRecord,
    ImageRecord,
    ModelRecord,
    RestoreRecord,
    TagRecord,
)
from ingest.restore import model_restore_extras
from ingest.runs import CREATED, UNCHANGED, UPDATED

logger = logging.getLogger(__name__)
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
    if value_set(creator, "image_url", record.image_url):
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
            changed |= value_set(image, name, getattr(record, name))
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
                model_ids = models_insert([items[i][0] for i in fresh], [hashes[i] for i in fresh])
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
        older = not created and older_than_held(model, record)
        fill_only = older or (not created and record.availability in GONE)
        changed |= model_apply(model, record, fill_only=fill_only, availability=not older)
        if created or changed:
            model.save()
        changed |= creator_apply(model, record, fill_only=fill_only)
        changed |= tags_apply(model, record, fill_only=fill_only)
        changed |= versions_apply(model, record, fill_only=fill_only)
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
