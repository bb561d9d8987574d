"""Queries on a list of ids, compiled to SQL once and run with each new list.

Pages and answers read their parts with the same few queries every time: the newest version and the cover of
each card of a list; the tags, versions, files and images of a model. Only the ids change. Building such a
queryset and compiling it to SQL costs the ORM 0.3-0.7 ms each, the same work again on every request: on a
model's card that was a third of the request.

`IdsQuery` keeps what the ORM compiled. On PostgreSQL, a `__any_of` lookup (catalog/lookups.py) is
`= ANY(%s)`, one parameter holding the whole list; where that list is the compiled query's only list parameter
(the others are its constants, `position = 0` say), the SQL and its parameters are kept and run with the next list
in its place, each column converted as the ORM converts it (JSON decoded...). Anywhere
else (SQLite spells the list as one parameter per id) the queryset is built and run as usual. Either way the
rows are what `.values()` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable

# The ids the query is compiled with: no row has them, and no constant of a query is this list.
_STAND_IN = [-7_340_917_264_583]


class IdsQuery:
    """`build(ids)` is a `.values()` queryset on the default database that takes `ids` with `__any_of` (and
    nothing else from outside); calling this gives its rows."""

    def __init__(self, build: Callable[[list[int]], QuerySet]) -> None:
        self.build = build
        self._compiled: tuple[str, list, int, list[str], list[tuple[int, list, Any]]] | None | bool = False

    def __call__(self, ids: list[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        if self._compiled is False:
            self._compiled = _compile(self.build)
        if self._compiled is None:
            return list(self.build(ids))
        sql, params, at, names, converters = self._compiled
        params = list(params)
        params[at] = list(ids)
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for position, functions, expression in converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
        return [dict(zip(names, row, strict=True)) for row in rows]


def _compile(build: Callable[[list[int]], QuerySet]) -> tuple | None:
    """The SQL, column names and converters of build's query, or None where it cannot be kept."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return None
    qs = build(list(_STAND_IN))
    if qs.db != DEFAULT_DB_ALIAS or qs._iterable_class is not ValuesIterable:
        return None
    query = qs.query
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    lists = [i for i, param in enumerate(params) if isinstance(param, list | tuple)]
    if len(lists) != 1 or list(params[lists[0]]) != _STAND_IN:  # the ids not passed as one list
        return None
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = [
        (position, functions, expression)
        for position, (functions, expression) in compiler.get_converters(fields).items()
    ]
    return sql, tuple(params), lists[0], names, converters
