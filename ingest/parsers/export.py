"""The catalog's own export lines (`manage.py export`): each is a model in Civitai's shape, which other tools can
read, plus a "catalog" object holding the record the catalog restores from and what curation added to it.

Restoring reads only the "catalog" object: the record is the writer's input (every field the catalog keeps of
a model, its versions, files and images), and the extras are the curation flags, every source the model came
from and the mirror state of its images.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

from ingest.errors import ParseError
from ingest.records import CreatorRecord, FileRecord, ImageRecord, ModelRecord, RestoreRecord, VersionRecord

EXPORT_VERSION = 1
NESTED = {"creator": CreatorRecord, "versions": VersionRecord, "files": FileRecord, "images": ImageRecord}


def is_export_line(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("catalog"), dict)
        and "exportVersion" in data["catalog"]
    )


def export_parse_line(data: dict, *, source: str) -> RestoreRecord:
    """One export line back into the record and extras it was written from."""
    catalog = data["catalog"]
    if catalog.get("exportVersion") != EXPORT_VERSION:
        raise ParseError(
            source, f"export version {catalog.get('exportVersion')!r}; this catalog reads {EXPORT_VERSION}"
        )
    record = _build(ModelRecord, catalog.get("record"), source, "catalog.record")
    extras = catalog.get("extras") or {}
    if not isinstance(extras, dict):
        raise ParseError(source, "expected an object", "catalog.extras")
    return RestoreRecord(record=record, extras=extras)


def _checked(value: Any, hint: Any, source: str, where: str) -> Any:
    """A plain value of the type the record's field declares (bool is not a number here)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None
        hint = next(k for k in typing.get_args(hint) if k is not type(None))
    kind = typing.get_origin(hint) or hint
    ok = {
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        dict: isinstance(value, dict),
    }.get(kind, False)
    if not ok:
        raise ParseError(source, f"expected {kind.__name__}, got {type(value).__name__}", where)
    if kind is dict and where.endswith(".hashes") and not all(isinstance(v, str) for v in value.values()):
        raise ParseError(source, "expected text hashes", where)
    return float(value) if kind is float else value


def _build(cls: type, data: Any, source: str, path: str) -> Any:
    if not isinstance(data, dict):
        raise ParseError(source, f"expected an object, got {type(data).__name__}", path)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ParseError(source, f"unknown field {unknown[0]!r}", path)
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        where = f"{path}.{name}"
        if value is None:
            values[name] = None
        elif name in NESTED and name != "creator":
            if not isinstance(value, list):
                raise ParseError(source, "expected a list", where)
            values[name] = tuple(
                _build(NESTED[name], v, source, f"{where}[{i}]") for i, v in enumerate(value)
            )
        elif name == "creator":
            values[name] = _build(CreatorRecord, value, source, where)
        elif datetime in typing.get_args(hints[name]):
            try:
                values[name] = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise ParseError(source, f"not a date: {value!r:.40}", where) from None
        elif name in ("allow_commercial_use", "tags", "trained_words", "warnings"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ParseError(source, "expected a list of text", where)
            values[name] = frozenset(value) if name == "allow_commercial_use" else tuple(value)
        else:
            values[name] = _checked(value, hints[name], source, where)
    try:
        return cls(**values)
    except TypeError as exc:
        raise ParseError(source, str(exc), path) from None
