"""Queries compiled to SQL once and run with each call's arguments.

Pages and answers read their parts with the same few queries every time: the newest version and the cover of
each card of a list; the tags, versions, files and images of a model; the files with a hash. Only the ids (or the
hash) change. Building such a queryset and compiling it to SQL costs the ORM 0.3-0.8 ms each, the same work
again on every request: on a model's card that was a third of the request, on a hash lookup two thirds.

`CompiledQuery` keeps what the ORM compiled, on PostgreSQL: the queryset is built once with stand-in arguments,
the places of the stand-ins among its parameters are noted (the other parameters are its constants, `position =
0` say), and each call runs the SQL with its own arguments in those places, each column converted as the ORM
converts it (JSON decoded, by orjson where it reads the same values: see catalog/json_read.py). `IdsQuery` is
the common case: one list of ids, which a `__any_of` lookup (catalog/lookups.py) passes as one parameter, `=
ANY(%s)`.
Where an argument is not among the parameters as it was given (SQLite spells a list as one parameter per id), or
on another database, the queryset is built and run as usual. Either way the rows are what `.values()` gives.

`CompiledModels` does the same for a queryset of model instances, the first page of a list or a search say
(ModelFilterSet.page): building and compiling a search's three tiers, their union and its ordering took the ORM
2.7 of its 5.4 ms.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import JSONField, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators

from catalog import json_read

# The ids the query is compiled with: no row has them, and no constant of a query is this list.
_STAND_IN = [-7_340_917_264_583]

Compiled = tuple[str, tuple, list[tuple[int, int]], list[str], list[tuple[int, list, Any]]]


class CompiledQuery:
    """`build(*args)` is a `.values()` queryset on the default database in which each argument appears, as
    given, among its parameters. `shape(*args)` gives a key naming the SQL those arguments compile to (None: do
    not keep it) and stand-in arguments of the same shape, with which the SQL is compiled once per key; each call
    runs it with the real arguments in the stand-ins' places."""

    def __init__(self, build: Callable[..., QuerySet], shape: Callable[..., tuple[Hashable, tuple]]) -> None:
        self.build = build
        self.shape = shape
        self._compiled: dict[Hashable, Compiled | None] = {}

    def __call__(self, *args: Any) -> list[dict[str, Any]]:
        key, stand_ins = self.shape(*args)
        if key is None:
            return list(self.build(*args))
        if key not in self._compiled:
            self._compiled[key] = _compile(self.build, stand_ins)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self.build(*args))
        sql, params, slots, names, converters = compiled
        values = list(params)
        for position, arg in slots:
            values[position] = args[arg]
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
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


class IdsQuery(CompiledQuery):
    """`build(ids)` is a `.values()` queryset on the default database that takes `ids` with `__any_of` (and
    nothing else from outside); calling this gives its rows."""

    def __init__(self, build: Callable[[list[int]], QuerySet]) -> None:
        super().__init__(build, lambda ids: ("ids", (list(_STAND_IN),)))

    def __call__(self, ids: list[int]) -> list[dict[str, Any]]:  # type: ignore[override]
        return super().__call__(list(ids)) if ids else []


class CompiledModels:
    """Model instances, as a queryset's iteration makes them (its select_related and annotations included), from
    SQL compiled once per key. A call names its key (None: build and run as usual), how to build the queryset
    (`build(*args)`, a model queryset on the default database without prefetching) and its arguments. What the
    arguments become among the query's parameters is `params(*args)`, a tuple (a search's words, their lower
    case, their LIKE pattern): their places are found by compiling with `stand_ins`, whose values no other
    parameter has, and a query that holds a stand-in in any other way is not kept. A key names the kind of
    query (its filters' values, its order, its size), never a value the call puts in: the `limit` keys used
    last are kept.

    `keep_plans`: the statements, with the call's values written in, are ones PostgreSQL keeps planned per
    connection (DatabaseWrapper.kept_plan_cursor), for queries asked again with the same values: a list's first
    page, a search's. A search's first page for "merge" at 10,000 models: 1.42-1.50 -> 0.57-0.64 ms asked again
    (pgbench, one connection, 3,000 times), its planning (0.47 ms) more than its running (0.38). A statement is
    kept the second time its text comes on a connection: one asked once costs what it did."""

    def __init__(
        self, params: Callable[..., tuple], stand_ins: tuple, *, limit: int = 256, keep_plans: bool = False
    ) -> None:
        self.params = params
        self.stand_ins = stand_ins
        self.limit = limit
        self.keep_plans = keep_plans
        self._compiled: OrderedDict[Hashable, CompiledModel | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: Hashable | None, build: Callable[..., QuerySet], *args: Any) -> list[Any]:
        if key is None:
            return list(build(*args))
        with self._lock:
            known = key in self._compiled
            compiled = self._compiled.get(key)
            if known:
                self._compiled.move_to_end(key)
        if not known:
            compiled = _compile_models(build, self.stand_ins, self.params(*self.stand_ins), self.keep_plans)
            with self._lock:
                self._compiled[key] = compiled
                while len(self._compiled) > self.limit:
                    self._compiled.popitem(last=False)
        if compiled is None:
            return list(build(*args))
        return compiled.run(self.params(*args))


class CompiledModel:
    """One model query's SQL, its parameters with the places of the call's values, and how its rows become
    instances: what django.db.models.query.ModelIterable reads off the compiler, read once."""

    def __init__(
        self, compiler: Any, sql: str, params: tuple, slots: list[tuple[int, int]], keep_plans: bool = False
    ) -> None:
        self.sql, self.params, self.slots, self.keep_plans = sql, params, slots, keep_plans
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, DEFAULT_DB_ALIAS)
        self.annotations = list(compiler.annotation_col_map.items())
        self.converters = _converters(compiler)

    def run(self, values: tuple) -> list[Any]:
        params = list(self.params)
        for position, value in self.slots:
            kind = type(params[position])  # the stand-in's, as Django passed it (Int8 for a big integer)
            params[position] = values[value] if type(values[value]) is kind else kind(values[value])
        connection = connections[DEFAULT_DB_ALIAS]
        keep = self.keep_plans and settings.DATABASE_KEEP_PLANS and hasattr(connection, "kept_plan_cursor")
        with connection.kept_plan_cursor() if keep else connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        instances = []
        for fetched in rows:
            row = list(fetched)
            for position, functions, expression in self.converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            instance = self.model.from_db(DEFAULT_DB_ALIAS, self.init_list, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


def _compile_models(
    build: Callable[..., QuerySet], args: tuple, stand_ins: tuple, keep_plans: bool = False
) -> CompiledModel | None:
    """build(*args) compiled, with the places of `stand_ins` among its parameters; None where it cannot be kept
    (another database, a queryset that prefetches or is not of model instances, no stand-in among the parameters
    or one held some other way)."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return None
    qs = build(*args)
    if qs.db != DEFAULT_DB_ALIAS:
        return None
    if qs._iterable_class is not ModelIterable or qs._prefetch_related_lookups or qs.query.combinator:
        return None
    compiler = qs.query.get_compiler(using=DEFAULT_DB_ALIAS)
    try:
        sql, params = compiler.as_sql()
    except (EmptyResultSet, FullResultSet):
        return None  # a stand-in Django folded into the query's shape: built as usual
    slots = _slots(params, stand_ins)
    slotted = {position for position, _ in slots}
    texts = [stand_in for stand_in in stand_ins if isinstance(stand_in, str)]
    if any(text in sql for text in texts) or any(
        isinstance(param, str) and any(text in param for text in texts)
        for position, param in enumerate(params)
        if position not in slotted
    ):
        return None  # a stand-in made into something else (a prefix, a pattern not declared): not put back
    if stand_ins and not slots:
        return None
    found = {which for _, which in slots}
    if any(which not in found for which, stand_in in enumerate(stand_ins) if not isinstance(stand_in, str)):
        return None  # a number or a date not passed as it was given (converted, say): its place is unknown
    return CompiledModel(compiler, sql, tuple(params), slots, keep_plans)


def _compile(build: Callable[..., QuerySet], stand_ins: tuple) -> Compiled | None:
    """The SQL, parameters, the arguments' places among them, column names and converters of build's query, or
    None where it cannot be kept."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return None
    qs = build(*stand_ins)
    if qs.db != DEFAULT_DB_ALIAS or qs._iterable_class is not ValuesIterable:
        return None
    query = qs.query
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    slots = _slots(params, stand_ins)
    if {arg for _, arg in slots} != set(range(len(stand_ins))):  # an argument not passed as it was given
        return None
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return sql, tuple(params), slots, names, _converters(compiler)


def _faster(converter: Callable) -> Callable:
    """A JSON column's converter as _json_value, where it is JSONField's own with no custom decoder."""
    field = getattr(converter, "__self__", None)
    if (
        isinstance(field, JSONField)
        and field.decoder is None
        and getattr(converter, "__func__", None) is JSONField.from_db_value
    ):
        return _json_value
    return converter


def _json_value(value: Any, expression: Any, connection: Any) -> Any:
    """What JSONField.from_db_value gives (the text decoded; the text itself if it is not JSON), by orjson where
    it reads the same value (catalog/json_read.py): a Civitai page's ~350 image metadata objects took 1.3 ms
    with json.loads."""
    if not isinstance(value, str):
        return value
    try:
        return json_read.loads(value)
    except json.JSONDecodeError:
        return value


def _slots(params: Any, stand_ins: tuple) -> list[tuple[int, int]]:
    """(place among the parameters, which stand-in) of each parameter that is a stand-in."""
    return [
        (position, which)
        for position, param in enumerate(params)
        for which, stand_in in enumerate(stand_ins)
        if _same(param, stand_in)
    ]


def _converters(compiler: Any) -> list[tuple[int, list[Callable], Any]]:
    """The compiled query's column converters, as the ORM applies them (JSON by orjson: _faster)."""
    columns = [column[0] for column in compiler.select[: compiler.col_count]]
    return [
        (position, [_faster(function) for function in functions], expression)
        for position, (functions, expression) in compiler.get_converters(columns).items()
    ]


def _same(param: Any, stand_in: Any) -> bool:
    if isinstance(stand_in, list):
        return isinstance(param, list | tuple) and list(param) == stand_in
    if type(stand_in) is int and isinstance(param, int) and not isinstance(param, bool):
        return param == stand_in  # Django passes a big integer column's values as psycopg's Int8
    return type(param) is type(stand_in) and param == stand_in
