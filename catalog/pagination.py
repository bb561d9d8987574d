"""Keyset pagination for the list page: the same cost on page 1 and page 500."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import F, Model, Q, QuerySet


class BadCursor(ValueError):
    """A cursor this site did not give out."""


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    is_first: bool


def _encode(value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


def cursor_encode(value: Any, pk: int) -> str:
    """A cursor for the position (value, pk)."""
    return _encode(value, pk)


def cursor_decode(cursor: str) -> tuple[Any, int]:
    """The position (value, pk) a cursor holds. Raises BadCursor for one not given out here."""
    return _decode(cursor)


def _decode(cursor: str) -> tuple[Any, int]:
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor(cursor) from None
    if not isinstance(pk, int):
        raise BadCursor(cursor)
    if isinstance(value, dict) and isinstance(value.get("dt"), str):
        try:
            value = datetime.fromisoformat(value["dt"])
        except ValueError:
            raise BadCursor(cursor) from None
    return value, pk


def _split(ordering: tuple[str, ...]) -> tuple[str, bool]:
    field_spec = ordering[0]
    return field_spec.lstrip("-"), field_spec.startswith("-")


def keyset_order(qs: QuerySet, ordering: tuple[str, ...]) -> QuerySet:
    """`qs` in `ordering` (a field, then the primary key the same way), nulls last. A column that cannot be null
    is ordered plainly, so that its index (col DESC, id DESC) serves the sort."""
    field, descending = _split(ordering)
    if _nullable(qs, field):
        order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    else:
        order = F(field).desc() if descending else F(field).asc()
    return qs.order_by(order, "-pk" if descending else "pk")


def _nullable(qs: QuerySet, field: str) -> bool:
    try:
        return qs.model._meta.get_field(field).null
    except FieldDoesNotExist:
        return False  # an annotation (search relevance): never null


def cursor_position(model: type[Model], ordering: tuple[str, ...], cursor: str) -> tuple[Any, int]:
    """The position (value, pk) a cursor holds, its value as the ordering's field takes it (a number for a count,
    an aware datetime for a date). Raises BadCursor for a cursor not given out here, its value of another type
    included (a forged `["abc", 5]` in the most downloaded order was a 500)."""
    value, pk = _decode(cursor)
    field, _ = _split(ordering)
    if value is None:
        return None, pk
    try:
        model_field = model._meta.get_field(field)
    except FieldDoesNotExist:
        return value, pk  # an annotation (search relevance): its page checks its own cursors
    try:
        value = model_field.get_prep_value(value)
    except (TypeError, ValueError, ValidationError):
        raise BadCursor(cursor) from None
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = connection.ops.integer_field_range(model_field.get_internal_type())
        if (low is not None and value < low) or (high is not None and value > high):
            raise BadCursor(cursor)  # no row holds it
    return value, pk


def keyset_after(qs: QuerySet, ordering: tuple[str, ...], cursor: str) -> QuerySet:
    """The rows of an ordered `qs` that come after `cursor`. Raises BadCursor for a cursor not given out here."""
    return rows_after(qs, ordering, *cursor_position(qs.model, ordering, cursor))


def rows_after(qs: QuerySet, ordering: tuple[str, ...], value: Any, pk: int) -> QuerySet:
    """The rows of an ordered `qs` that come after the position (value, pk) in `ordering`."""
    field, descending = _split(ordering)
    beyond = "lt" if descending else "gt"
    if value is None:
        return qs.filter(**{f"{field}__isnull": True, f"pk__{beyond}": pk})
    after = Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"pk__{beyond}": pk})
    if _nullable(qs, field):
        return qs.filter(after | Q(**{f"{field}__isnull": True}))
    # The bound (field <= value, descending) is what lets PostgreSQL start the index scan at the cursor instead
    # of walking every row before it: page 500 then costs what page 1 does.
    return qs.filter(Q(**{f"{field}__{beyond}e": value}), after)


def cursor_for(row: Any, ordering: tuple[str, ...]) -> str:
    """The cursor that continues after `row`."""
    field, _ = _split(ordering)
    return _encode(getattr(row, field), row.pk)


def keyset_page(qs: QuerySet, ordering: tuple[str, ...], cursor: str | None, size: int) -> Page:
    """Rows of `qs` in `ordering` after `cursor`, `size` at most, and the cursor of the next page."""
    qs = keyset_order(qs, ordering)
    if cursor:
        qs = keyset_after(qs, ordering, cursor)
    return page_of(list(qs[: size + 1]), ordering, size, is_first=not cursor)


def page_of(rows: list, ordering: tuple[str, ...], size: int, *, is_first: bool) -> Page:
    """The page of `size` rows in `ordering` that `size + 1` rows read make: the one more says a page follows."""
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = cursor_for(rows[-1], ordering) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor, is_first=is_first)
