"""New models inserted in bulk, with everything they carry: one statement per table (COPY on PostgreSQL,
bulk_create elsewhere). The writer (ingest/writer.py) sends here the records no row of the catalog knows."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
from django.db import connection
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from catalog.models import (
    Image,
    Model,
    ModelFile,
    ModelType,
    ModelVersion,
    SourceRecord,
)
from catalog.services import (
    search_text_join,
)
from ingest.apply import (
    FILE_FIELDS,
    IMAGE_FIELDS,
    VERSION_FIELDS,
    creators_for,
    model_apply,
    tags_get_or_create,
    versions_newest_first,
    written_fields,
)
from ingest.records import (
    ModelRecord,
    VersionRecord,
)


def models_insert(records: list[ModelRecord], hashes: list[str]) -> list[int]:
    """Insert models the catalog has never seen, with everything they carry, one statement per table (COPY on
    PostgreSQL). The rows are the ones model_upsert would write for each record on its own: a test holds the
    two to that."""
    if not records:
        return []
    creators = creators_for(records)
    tags = {t.name.lower(): t for t in tags_get_or_create([n for r in records for n in (r.tags or ())])}
    model_fields = written_fields(Model)
    model_rows: list[dict[str, Any]] = []
    ordered_versions: list[list[VersionRecord]] = []
    tag_keys: list[list[str]] = []
    for record in records:
        model = Model(name=record.name, type=record.type or ModelType.OTHER)
        model_apply(model, record)
        creator = (
            creators.get((record.creator.provider, record.creator.username.lower()))
            if record.creator
            else None
        )
        model.creator = creator
        vrecs = versions_newest_first(record)
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


def _is_timestamp(field: Any) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _insert_rows(model_class: type, rows: list[dict[str, Any]], *, with_ids: bool = False) -> list[int]:
    """Insert rows (field attname -> value; the others take their defaults, timestamps now). PostgreSQL: ids
    drawn from the table's sequence and one COPY. Elsewhere: bulk_create. Returns the ids when asked."""
    if not rows:
        return []
    now = timezone.now()
    fields = written_fields(model_class)
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
