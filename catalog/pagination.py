"""Keyset pagination for the list page: the same cost on page 1 and page 500."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet


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


def keyset_page(qs: QuerySet, ordering: tuple[str, str], cursor: str | None, size: int) -> Page:
    """Rows of `qs` in `ordering` (a field, then the primary key the same way) after `cursor`; nulls last."""
    field_spec, _ = ordering
    descending = field_spec.startswith("-")
    field = field_spec.lstrip("-")
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    qs = qs.order_by(order, "-pk" if descending else "pk")
    if cursor:
        value, pk = _decode(cursor)
        beyond = "lt" if descending else "gt"
        if value is None:
            qs = qs.filter(**{f"{field}__isnull": True, f"pk__{beyond}": pk})
        else:
            qs = qs.filter(
                Q(**{f"{field}__{beyond}": value})
                | Q(**{field: value, f"pk__{beyond}": pk})
                | Q(**{f"{field}__isnull": True})
            )
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode(getattr(rows[-1], field), rows[-1].pk) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor, is_first=not cursor)
