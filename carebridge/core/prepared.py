"""A SELECT built with the ORM, turned into SQL once per process, and run many times with new values.

Django compiles a queryset into SQL on every evaluation. For the queries that every API request runs
(the token that authenticates it, the slot it books, the patient it names) that compilation costs more
CPU than PostgreSQL spends answering: about 2.5 ms of the 3 ms it takes to authenticate a token with its
user and their staff, clinician and patient records. A PreparedQuery keeps what the ORM worked out (the
SQL, the columns, how to build the model instances and their select_related relations) and, per request,
only runs the SQL with the request's values and builds the objects as a queryset would.

    _TOKEN = PreparedQuery(
        lambda token_hash: ApiToken.objects.select_related("user").filter(token_hash=token_hash),
        token_hash=str,
    )
    token = _TOKEN.one_or_none(token_hash="...")

The queryset is built once per database with a placeholder value of each parameter's type (str, int,
uuid.UUID or an aware datetime), which must reach the SQL as a value of its own (an exact match, a
comparison, or text inside a `contains` pattern); preparing fails loudly otherwise. A query whose shape
changes with the values (an optional filter, a different LIMIT) is one PreparedQuery per shape.
Only what ModelIterable supports plainly is supported: select_related, filters, ordering, slicing; not
prefetch_related or annotations. A `values(...)` queryset is prepared too, and `rows()` gives its dicts
(as the queryset would), for answers that need a few columns of many rows and no model instances. It
relies on the compiler's attributes that ModelIterable and ValuesIterable read (select, klass_info),
which are Django's internals: an upgrade of Django (pinned in pyproject.toml) must pass
carebridge/core/tests/test_prepared.py.
"""

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.query import ValuesIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)

_PLACEHOLDER_TYPES = (str, int, uuid.UUID, dt.datetime)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    # For each parameter position taken by a caller's value: its name, and the form the database wants
    # it in (see _form_of).
    slots: tuple[tuple[int, str, Any], ...]
    compiler: SQLCompiler
    # A model query: the model's columns and how to build it. A values() query: the names of its columns.
    init_list: tuple[str, ...]
    model_fields: slice
    names: tuple[str, ...]
    # What turns the database's values into Python's, per column (SQLite's dates, JSON); worked out once.
    converters: dict
    # How each select_related object is built from its part of the row (they keep no state between rows).
    populators: list


class PreparedQuery(Generic[M]):
    def __init__(self, build: Callable[..., "models.QuerySet[M, Any]"], **parameters: type) -> None:
        for name, kind in parameters.items():
            if kind not in _PLACEHOLDER_TYPES:
                raise TypeError(f"parameter {name}: only str, int, uuid.UUID and datetime values can be prepared")
        self._build = build
        self._parameters = parameters
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def all(self, **values: Any) -> list[M]:
        compiled, rows = self._run(values)
        if compiled.names:
            raise TypeError("PreparedQuery: a values() query gives rows(), not model instances")
        return self._instances(compiled, rows, DEFAULT_DB_ALIAS)

    def rows(self, **values: Any) -> list[dict[str, Any]]:
        """A values(...) query's answer: one dict per row, as the queryset gives them."""
        compiled, rows = self._run(values)
        if not compiled.names:
            raise TypeError("PreparedQuery: rows() is for a values() query")
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        names = compiled.names
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _run(self, values: dict[str, Any]) -> tuple[_Compiled, list[tuple]]:
        # Carebridge has one database; a second would need its own compiled query (kept per alias below).
        using = DEFAULT_DB_ALIAS
        compiled = self._compiled.get(using) or self._prepare(using)
        params = list(compiled.params)
        ops = connections[using].ops
        for position, name, form in compiled.slots:
            params[position] = _as_param(values[name], form, ops)
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall()

    def one_or_none(self, **values: Any) -> M | None:
        found = self.all(**values)
        if len(found) > 1:
            raise found[0].MultipleObjectsReturned(f"{len(found)} rows where at most one was expected")
        return found[0] if found else None

    def _prepare(self, using: str) -> _Compiled:
        with self._lock:
            if using in self._compiled:
                return self._compiled[using]
            placeholders = {
                name: _placeholder(name, kind, index) for index, (name, kind) in enumerate(self._parameters.items())
            }
            queryset = self._build(**placeholders).using(using)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            slots = []
            for position, param in enumerate(params):
                for name, placeholder in placeholders.items():
                    form = _form_of(param, placeholder, connections[using].ops)
                    if form is not None:
                        slots.append((position, name, form))
            missing = set(placeholders) - {name for _, name, _ in slots}
            if missing:
                raise ValueError(
                    f"PreparedQuery: {', '.join(sorted(missing))} did not reach the SQL unchanged; "
                    "use it as a plain value (an exact match)"
                )
            query = queryset.query
            converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
            if queryset._iterable_class is ValuesIterable and not query.extra_select and not query.annotation_select:
                compiled = _Compiled(
                    sql=sql,
                    params=tuple(params),
                    slots=tuple(slots),
                    compiler=compiler,
                    init_list=(),
                    model_fields=slice(0),
                    names=tuple(query.selected or query.values_select),
                    populators=[],
                    converters=converters,
                )
                self._compiled[using] = compiled
                return compiled
            if queryset._iterable_class is not models.query.ModelIterable:
                raise ValueError("PreparedQuery: only model instances or values(), without annotations")
            if compiler.klass_info is None or compiler.annotation_col_map:
                raise ValueError("PreparedQuery: only model instances, without annotations, can be prepared")
            select_fields = compiler.klass_info["select_fields"]
            model_fields = slice(select_fields[0], select_fields[-1] + 1)
            compiled = _Compiled(
                sql=sql,
                params=tuple(params),
                slots=tuple(slots),
                compiler=compiler,
                init_list=tuple(column[0].target.attname for column in compiler.select[model_fields]),
                model_fields=model_fields,
                names=(),
                populators=get_related_populators(compiler.klass_info, compiler.select, using),
                converters=converters,
            )
            self._compiled[using] = compiled
            return compiled

    @staticmethod
    def _instances(compiled: _Compiled, rows: list[tuple], using: str) -> list[M]:
        # As django.db.models.query.ModelIterable builds them (Django 5.2), from rows we fetched ourselves.
        compiler = compiled.compiler
        model = compiler.klass_info["model"]
        found = []
        converted = compiler.apply_converters(rows, compiled.converters) if compiled.converters else rows
        for row in converted:
            instance = model.from_db(using, compiled.init_list, row[compiled.model_fields])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found


def _placeholder(name: str, kind: type, index: int) -> Any:
    # Values no real row holds, told apart from each other and from every constant in the query. The
    # text one is letters and digits only, so that a LIKE pattern's escaping leaves it as it is.
    if kind is str:
        return f"Zq{index}xPreparedPlaceholder{index}qZ"
    if kind is int:
        return -(7_319_000_000_000 + index)
    if kind is dt.datetime:
        return dt.datetime(1901, 2, 3, 4, 5, index, 678_901, tzinfo=dt.UTC)
    return uuid.UUID(int=0x7E57_0000_0000_4000_8000_0000_0000_0000 + index)


# How a caller's value reaches a parameter: as it is; a UUID as hex text (SQLite); a datetime as the
# backend's text (SQLite); or text inside a LIKE pattern (`contains`, `icontains`), escaped as Django
# escapes it, the pattern around it kept.
_AS_IS, _HEX, _DATETIME = "as-is", "hex", "datetime"


def _form_of(param: Any, placeholder: Any, ops: Any) -> Any:
    if type(param) is type(placeholder) and param == placeholder:
        return _AS_IS
    if isinstance(placeholder, uuid.UUID) and param == placeholder.hex:
        return _HEX
    if isinstance(placeholder, dt.datetime) and param == ops.adapt_datetimefield_value(placeholder):
        return _DATETIME
    if (
        isinstance(placeholder, str)
        and isinstance(param, str)
        and placeholder in param
        and (param.startswith("%") or param.endswith("%"))
    ):
        return ("like", param)
    return None


def _as_param(value: Any, form: Any, ops: Any) -> Any:
    if form == _AS_IS:
        return value
    if form == _HEX:
        return value.hex
    if form == _DATETIME:
        return ops.adapt_datetimefield_value(value)
    _, pattern = form
    placeholder_start = pattern.index("Zq")
    placeholder_end = pattern.index("qZ", placeholder_start) + 2
    return pattern[:placeholder_start] + ops.prep_for_like_query(value) + pattern[placeholder_end:]
