"""The engine's hot-path persistence (存储层): precompiled SQL for the few statements every step runs.

Building an ORM query costs far more than running it on an embedded database, and every engine step needs only
a handful of fixed statements: lock the instance, read a task and the live tokens, then write the changed rows.
This module prepares those statements once per model and column list, from the models' own metadata (table and
column names, value preparation and converters), so they cannot drift from ``models.py``; the ORM stays in use
for everything else.

On PostgreSQL the writes of a step are sent in one psycopg pipeline (one round trip for several statements).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any

from django.db import connection, models

_SEP = ", "


@cache
def _fields(model: type[models.Model], names: tuple[str, ...] | None) -> tuple[models.Field, ...]:
    concrete = [f for f in model._meta.concrete_fields]
    if names is None:
        return tuple(concrete)
    by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
    return tuple(by_name[n] for n in names)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _select_sql(model: type[models.Model], where: str, lock: bool) -> tuple[str, tuple[models.Field, ...]]:
    fields = _fields(model, None)
    table = _q(model._meta.db_table)
    sql = f"SELECT {_SEP.join(_q(f.column) for f in fields)} FROM {table} WHERE {where}"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, fields


@cache
def _converters(model: type[models.Model]) -> tuple[tuple[Any, tuple[Any, ...]], ...]:
    out = []
    for f in _fields(model, None):
        col = f.get_col(model._meta.db_table)
        convs = tuple(connection.ops.get_db_converters(col) + f.get_db_converters(connection))
        out.append((col, convs))
    return tuple(out)


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model, None))


@cache
def _active_converters(model: type[models.Model]) -> tuple[tuple[int, Any, tuple[Any, ...]], ...]:
    return tuple((i, col, convs) for i, (col, convs) in enumerate(_converters(model)) if convs)


def _build(model: type[models.Model], row: Sequence[Any]) -> models.Model:
    """A model object from a row of all concrete columns: what ``Model.from_db`` gives, without running
    ``__init__`` field by field (the engine's models have no custom ``__init__``)."""
    values = list(row)
    for i, col, convs in _active_converters(model):
        for conv in convs:
            values[i] = conv(values[i], col, connection)
    obj = model.__new__(model)
    obj.__dict__.update(zip(_attnames(model), values, strict=True))
    state = models.base.ModelState()
    state.adding = False
    state.db = connection.alias
    obj._state = state
    return obj


def select(model: type[models.Model], where: str, params: Sequence[Any], *, lock: bool = False) -> list[Any]:
    """Rows of ``model`` matching a fixed WHERE clause (column names quoted by the caller), as model objects."""
    sql, _ = _select_sql(model, where, lock)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [_build(model, r) for r in cur.fetchall()]


def _identity(value: Any) -> Any:
    return value


@cache
def _preparer(field: models.Field) -> Any:
    """A fast function turning an attribute value into a database parameter, equivalent to
    ``field.get_db_prep_save`` for the field types the engine's tables use."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return lambda value, f=field: f.get_db_prep_save(value, connection)
    if isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                          models.ForeignKey, models.AutoField)):
        return _identity
    return lambda value, f=field: f.get_db_prep_save(value, connection)


def _prep(obj: models.Model, fields: Iterable[models.Field]) -> list[Any]:
    values = obj.__dict__
    return [_preparer(f)(values.get(f.attname)) for f in fields]


@cache
def _insert_cols(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in _fields(model, None) if f is not model._meta.pk)


@lru_cache(maxsize=1024)
def _insert_sql(model: type[models.Model], names: tuple[str, ...] | None, rows: int, returning: bool) -> str:
    fields = _insert_cols(model) if names is None else _fields(model, names)
    row = "(" + _SEP.join(["%s"] * len(fields)) + ")"
    sql = (f"INSERT INTO {_q(model._meta.db_table)} ({_SEP.join(_q(f.column) for f in fields)}) VALUES "
           + _SEP.join([row] * rows))
    if returning:
        sql += f" RETURNING {_q(model._meta.pk.column)}"
    return sql


def insert(model: type[models.Model], objs: Sequence[models.Model], *, returning: bool = True) -> None:
    """Insert ``objs`` in one statement; with ``returning`` set their primary keys (``RETURNING``)."""
    if not objs:
        return
    fields = _insert_cols(model)
    sql = _insert_sql(model, None, len(objs), returning)
    params: list[Any] = []
    for obj in objs:
        params.extend(_prep(obj, fields))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        if not returning:
            return
        ids = [r[0] for r in cur.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


@cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[models.Field, ...]]:
    fields = _fields(model, names)
    sets = _SEP.join(f"{_q(f.column)} = %s" for f in fields)
    return f"UPDATE {_q(model._meta.db_table)} SET {sets} WHERE {_q(model._meta.pk.column)} = %s", fields


def update(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """``UPDATE ... SET names WHERE pk`` for each object (several objects: one executemany)."""
    if not objs:
        return
    sql, fields = _update_sql(model, tuple(names))
    rows = [[*_prep(obj, fields), obj.pk] for obj in objs]
    with connection.cursor() as cur:
        if len(rows) == 1:
            cur.execute(sql, rows[0])
        else:
            cur.executemany(sql, rows)


def execute(sql: str, params: Sequence[Any] = ()) -> None:
    """Run a statement whose result is not needed (safe inside ``pipeline``)."""
    with connection.cursor() as cur:
        cur.execute(sql, params)


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def select_batch(queries: Sequence[tuple[type[models.Model], str, Sequence[Any], bool]]) -> list[list[Any]]:
    """Several ``select`` queries sent together (one round trip on PostgreSQL), run in order."""
    cursors = []
    try:
        with pipeline():
            for model, where, params, lock in queries:
                sql, _ = _select_sql(model, where, lock)
                cur = connection.cursor()
                cursors.append((model, cur))
                cur.execute(sql, params)
        return [[_build(model, r) for r in cur.fetchall()] for model, cur in cursors]
    finally:
        for _, cur in cursors:
            cur.close()


@contextmanager
def pipeline() -> Any:
    """Send the statements of the block together (PostgreSQL/psycopg 3 pipeline mode); a no-op elsewhere.
    Only for statements whose results are not needed inside the block."""
    raw = getattr(connection, "connection", None)
    if connection.vendor == "postgresql" and raw is not None and hasattr(raw, "pipeline"):
        with raw.pipeline():
            yield
    else:
        yield


@cache
def table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


@cache
def column(model: type[models.Model], name: str) -> str:
    return _q(model._meta.get_field(name).column)


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert raw rows (already database values, in ``names`` order) in one statement, without model objects."""
    if not rows:
        return
    sql = _insert_sql(model, tuple(names), len(rows), False)
    params: list[Any] = []
    for r in rows:
        params.extend(r)
    with connection.cursor() as cur:
        cur.execute(sql, params)


def preparer(model: type[models.Model], name: str) -> Any:
    """The fast value-to-parameter function of one field (see ``_preparer``)."""
    return _preparer(model._meta.get_field(name))
