"""Hot-path persistence (存储层) for any context: precompiled SQL for the few statements a hot path runs.

Building an ORM query costs far more than running it on an embedded database, and every engine step needs only
a handful of fixed statements: lock the instance, read a task and the live tokens, then write the changed rows.
This module prepares those statements once per model and column list, from the models' own metadata (table and
column names, value preparation and converters), so they cannot drift from ``models.py``; the ORM stays in use
for everything else.

The statements run on the driver's own cursor (``sqlite3``, or psycopg's client-binding cursor like Django's),
not through Django's cursor wrapper: the SQL is fixed, so the placeholder rewriting and per-call
bookkeeping Django does for arbitrary SQL are not needed (database errors are still turned into Django's).
On PostgreSQL the statements of a step are sent in psycopg pipelines (one round trip for several statements).
``STATEMENTS`` counts what this module sends, for the benchmark.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils.dateparse import parse_datetime

_SEP = ", "
STATEMENTS = [0]


@cache
def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@lru_cache(maxsize=4096)
def _native(sql: str) -> str:
    """``sql`` in the driver's placeholder style (``?`` for sqlite3; psycopg takes ``%s``)."""
    return sql if is_postgresql() else sql.replace("%s", "?")


def _cursor(conn: Any = None) -> Any:
    """A driver cursor on Django's connection (so it shares Django's transaction)."""
    conn = conn or _conn()
    raw = conn.connection
    if raw is None:
        conn.ensure_connection()
        raw = conn.connection
    if is_postgresql():
        import psycopg

        # Server-side binding: the statements of this module are fixed strings run thousands of times, so psycopg
        # prepares each one on the server after ``prepare_threshold`` runs (5 by default) and then only sends its
        # parameters — PostgreSQL skips parsing and planning (measured in benchmarks/workflow.py).
        return psycopg.Cursor(raw)
    return raw.cursor()


def _run(cur: Any, sql: str, params: Sequence[Any], conn: Any = None) -> None:
    STATEMENTS[0] += 1
    with (conn or _conn()).wrap_database_errors:
        if is_postgresql():
            cur.execute(sql, params)
        else:
            cur.execute(_native(sql), params)


def _execute(sql: str, params: Sequence[Any]) -> Any:
    """Run one statement on a fresh driver cursor and return the cursor."""
    conn = _conn()
    cur = _cursor(conn)
    _run(cur, sql, params, conn)
    return cur


def _run_many(cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    STATEMENTS[0] += 1
    with _conn().wrap_database_errors:
        cur.executemany(_native(sql), rows)


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
        own = f.get_db_converters(connection)  # type: ignore[attr-defined]  # (Field API the stubs omit)
        if isinstance(f, models.JSONField) and f.decoder is None:
            own = [_json_value]  # JSONField.from_db_value for a plain column, with the empty containers inline
        ops_convs = connection.ops.get_db_converters(col)
        if (isinstance(f, models.DateTimeField) and not is_postgresql() and settings.USE_TZ
                and ops_convs == [connection.ops.convert_datetimefield_value]):  # type: ignore[attr-defined]  # SQLite ops only
            ops_convs = [_sqlite_datetime_value]
        convs = tuple(ops_convs + own)
        out.append((col, convs))
    return tuple(out)


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model, None))


@cache
def _active_converters(model: type[models.Model]) -> tuple[tuple[int, Any, tuple[Any, ...]], ...]:
    return tuple((i, col, convs) for i, (col, convs) in enumerate(_converters(model)) if convs)


def _build(model: type[models.Model], row: Sequence[Any], conn: Any = None) -> models.Model:
    """A model object from a row of all concrete columns: what ``Model.from_db`` gives, without running
    ``__init__`` field by field (the engine's models have no custom ``__init__``)."""
    conn = conn or _conn()
    values = list(row)
    for i, col, convs in _active_converters(model):
        for conv in convs:
            values[i] = conv(values[i], col, conn)
    obj = model.__new__(model)
    obj.__dict__.update(zip(_attnames(model), values, strict=True))
    state = models.base.ModelState()
    state.adding = False
    state.db = conn.alias
    obj._state = state
    return obj


_LOCAL = threading.local()


def _conn() -> Any:
    """The current thread's default connection object. Django's ``connection`` proxy looks it up (through
    asgiref) on every attribute access; the engine is synchronous, so the object is kept per thread."""
    conn = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = _LOCAL.conn = connections[DEFAULT_DB_ALIAS]
    return conn


@cache
def _width(model: type[models.Model]) -> int:
    return len(_fields(model, None))


@cache
def columns(model: type[models.Model], alias: str = "") -> str:
    """All concrete columns of ``model`` in ``_build`` order, qualified with ``alias`` when given."""
    prefix = f"{alias}." if alias else ""
    return _SEP.join(prefix + _q(f.column) for f in _fields(model, None))


def read(queries: Sequence[tuple[Any, str, Sequence[Any]]]) -> list[list[Any]]:
    """Run several SELECTs together (one round trip on PostgreSQL) and build their rows. Each query is
    ``(shape, sql, params)``: ``shape`` is a model (rows of ``columns(model)``), a tuple of models (rows of their
    columns side by side: a join; each row becomes a tuple of objects) or ``None`` (rows are discarded, e.g. a
    ``FOR UPDATE`` lock)."""
    conn = _conn()
    cursors = []
    if is_postgresql():
        with pipeline():
            for shape, sql, params in queries:
                cur = _cursor(conn)
                cursors.append((shape, cur))
                _run(cur, sql, params, conn)
    else:
        for shape, sql, params in queries:
            cursors.append((shape, _execute(sql, params)))
    out: list[list[Any]] = []
    for shape, cur in cursors:
        rows = cur.fetchall()
        if shape is None:
            out.append([])
        elif isinstance(shape, tuple):
            built = []
            for r in rows:
                objs, start = [], 0
                for model in shape:
                    end = start + _width(model)
                    objs.append(_build(model, r[start:end], conn))
                    start = end
                built.append(tuple(objs))
            out.append(built)
        else:
            out.append([_build(shape, r, conn) for r in rows])
    return out


def select_sql(model: type[models.Model], where: str, *, lock: bool = False) -> str:
    """``SELECT`` of all of ``model``'s columns with a fixed WHERE clause (``FOR UPDATE`` with ``lock`` where the
    database has it), for ``read``."""
    return _select_sql(model, where, lock)[0]


def select(model: type[models.Model], where: str, params: Sequence[Any], *, lock: bool = False) -> list[Any]:
    """Rows of ``model`` matching a fixed WHERE clause (column names quoted by the caller), as model objects."""
    sql, _ = _select_sql(model, where, lock)
    conn = _conn()
    cur = _cursor(conn)
    _run(cur, sql, params, conn)
    return [_build(model, r, conn) for r in cur.fetchall()]


def _identity(value: Any) -> Any:
    return value


def _json_text(value: Any) -> Any:
    """A JSON column value as text (SQLite), with the empty containers most rows hold spelled out."""
    if not value and type(value) in (dict, list):
        return "{}" if type(value) is dict else "[]"
    return json.dumps(value)


def _json_value(value: Any, *_: Any) -> Any:
    """A JSON column's text as Python (what ``JSONField.from_db_value`` does for a plain column)."""
    if value is None or type(value) is not str:
        return value
    if value == "{}":
        return {}
    if value == "[]":
        return []
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _sqlite_datetime_param() -> Any:
    """SQLite with USE_TZ: what ``adapt_datetimefield_value`` does (naive text in the connection's time zone),
    with the settings looked up once instead of on every value. None elsewhere."""
    if is_postgresql() or not settings.USE_TZ:
        return None
    tz = _conn().timezone

    def adapt(value: Any) -> Any:
        if value.utcoffset() is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return str(value)

    return adapt


def _sqlite_datetime_value(value: Any, *_: Any) -> Any:
    """SQLite with USE_TZ: ``convert_datetimefield_value`` with the connection's time zone looked up once."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    if value.utcoffset() is None:
        value = value.replace(tzinfo=_SQLITE_TZ[0] or _set_sqlite_tz())
    return value


_SQLITE_TZ: list[Any] = [None]


def _set_sqlite_tz() -> Any:
    _SQLITE_TZ[0] = _conn().timezone
    return _SQLITE_TZ[0]


@cache
def _datetime_param() -> Any:
    return _memo_last(_sqlite_datetime_param() or connection.ops.adapt_datetimefield_value)


def _memo_last(fn: Any) -> Any:
    """``fn`` remembering its last argument and answer (datetimes: the same instant recurs within a step)."""
    last: list[tuple[Any, Any]] = [(_identity, None)]

    def call(value: Any) -> Any:
        if value is None:
            return None
        seen = last[0]  # one tuple: threads never see a value with another value's answer
        if value is seen[0]:
            return seen[1]
        out = fn(value)
        last[0] = (value, out)
        return out

    return call


@cache
def _preparer(field: models.Field) -> Any:
    """A fast function turning an attribute value into a database parameter, equivalent to
    ``field.get_db_prep_save`` for the field types the engine's tables use."""
    ops = connection.ops
    if getattr(field, "encrypted_at_rest", False):  # tongban.core.pii fields: never the text fast path below
        return lambda value, f=field: f.get_db_prep_save(value, connection)
    if isinstance(field, models.DateTimeField):
        return _datetime_param()  # one memo for every datetime column: "now" recurs within a step
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        adapt, encoder = ops.adapt_json_value, field.encoder
        if is_postgresql() or encoder is not None:
            return lambda value: adapt(value, encoder)
        return _json_text
    if isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                          models.ForeignKey, models.AutoField)):
        return _identity
    return lambda value, f=field: f.get_db_prep_save(value, connection)


@cache
def _plan(model: type[models.Model], names: tuple[str, ...] | None) -> tuple[tuple[str, Any], ...]:
    """(attribute, preparer or None when the value goes to the driver as it is) for each field written: the
    ``names`` given, or every column but the primary key."""
    out = []
    for f in (_insert_cols(model) if names is None else _fields(model, names)):
        fn = _preparer(f)
        out.append((f.attname, None if fn is _identity else fn))
    return tuple(out)


def _prep(obj: models.Model, plan: tuple[tuple[str, Any], ...]) -> list[Any]:
    values = obj.__dict__
    return [values.get(name) if fn is None else fn(values.get(name)) for name, fn in plan]


@cache
def _defaults(model: type[models.Model]) -> tuple[tuple[str, Any, Any], ...]:
    out = []
    for f in model._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            out.append((f.attname, f.default, None))
        else:
            out.append((f.attname, None, f.get_default()))
    return tuple(out)


def new(model: type[models.Model], **values: Any) -> Any:
    """A new, unsaved model object, like ``model(**values)`` without ``Model.__init__``'s per-field work (the
    engine builds several per step). Keys are attribute names (``token_id``) or relations (``token``)."""
    obj = model.__new__(model)
    obj._state = models.base.ModelState()
    d = obj.__dict__
    for name, factory, constant in _defaults(model):
        if name not in values:
            d[name] = factory() if factory is not None else constant
    attnames = _attname_set(model)
    for key, value in values.items():
        if key in attnames:
            d[key] = value
        else:
            setattr(obj, key, value)  # a relation: the descriptor sets the id and caches the object
    return obj


@cache
def _attname_set(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields)


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
    plan = _plan(model, None)
    sql = _insert_sql(model, None, len(objs), returning)
    params: list[Any] = []
    for obj in objs:
        params.extend(_prep(obj, plan))
    cur = _execute(sql, params)
    if not returning:
        return
    ids = [r[0] for r in cur.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


@cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[models.Field, ...]]:
    fields = _fields(model, names)
    sets = _SEP.join(f"{_q(f.column)} = %s" for f in fields)
    return f"UPDATE {_q(model._meta.db_table)} SET {sets} WHERE {_q(model._meta.pk.column)} = %s", fields


def update(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """``UPDATE ... SET names WHERE pk`` for each object (several objects: one executemany)."""
    if not objs:
        return
    names = tuple(names)
    sql, _ = _update_sql(model, names)
    plan = _plan(model, names)
    rows = [[*_prep(obj, plan), obj.__dict__["id"]] for obj in objs]
    if len(rows) == 1:
        _execute(sql, rows[0])
    else:
        _run_many(_cursor(), sql, rows)


def execute(sql: str, params: Sequence[Any] = ()) -> None:
    """Run a statement whose result is not needed (safe inside ``pipeline``)."""
    _execute(sql, params)


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return _execute(sql, params).fetchall()


_NO_PIPELINE = nullcontext()


def pipeline() -> Any:
    """Send the statements of the block together (PostgreSQL/psycopg 3 pipeline mode); a no-op elsewhere.
    Only for statements whose results are not needed inside the block."""
    if not is_postgresql():
        return _NO_PIPELINE
    raw = _conn().connection
    return raw.pipeline() if raw is not None else _NO_PIPELINE


@cache
def table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


@cache
def column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{model.__name__}.{name} is not a concrete column"
    return _q(field.column)


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert raw rows (already database values, in ``names`` order) in one statement, without model objects."""
    if not rows:
        return
    sql = _insert_sql(model, tuple(names), len(rows), False)
    params: list[Any] = []
    for r in rows:
        params.extend(r)
    _execute(sql, params)


@cache
def preparer(model: type[models.Model], name: str) -> Any:
    """The fast value-to-parameter function of one field (see ``_preparer``)."""
    return _preparer(model._meta.get_field(name))


# === Generic helpers for other contexts' hot paths (added with the exchange's fast paths) ===================
# Kept at the end of the module, apart from the engine's statements above.


@cache
def _field_converters(field: models.Field) -> tuple[Any, tuple[Any, ...]]:
    """(column, converters) of one concrete field: what ``_build`` applies to that field's column."""
    model = field.model
    return _converters(model)[_fields(model, None).index(field)]


def _convert(field: models.Field, value: Any, conn: Any) -> Any:
    col, convs = _field_converters(field)
    for conv in convs:
        value = conv(value, col, conn)
    return value


@cache
def _select_fields_sql(model: type[models.Model], names: tuple[str, ...], where: str) -> str:
    cols = _SEP.join(_q(f.column) for f in _fields(model, names))
    return f"SELECT {cols} FROM {_q(model._meta.db_table)} WHERE {where}"


def select_fields(model: type[models.Model], names: Sequence[str], where: str, params: Sequence[Any]) -> list[Any]:
    """Rows of ``model`` matching a fixed WHERE clause (which may go on with ``ORDER BY`` / ``LIMIT``), as model
    objects with only the ``names`` fields loaded: the others are deferred, as with ``QuerySet.only``."""
    names = tuple(names)
    fields = _fields(model, names)
    conn = _conn()
    cur = _cursor(conn)
    _run(cur, _select_fields_sql(model, names, where), params, conn)
    out = []
    for row in cur.fetchall():
        obj = model.__new__(model)
        obj.__dict__.update((f.attname, _convert(f, v, conn)) for f, v in zip(fields, row, strict=True))
        state = models.base.ModelState()
        state.adding = False
        state.db = conn.alias
        obj._state = state
        out.append(obj)
    return out


Part = type[models.Model] | models.Field | None


def rows(shape: Sequence[Part], sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of any SELECT as tuples, one item per part of ``shape``: a model takes its ``columns(model, alias)``
    and becomes an object (as in ``read``), a field takes one column converted as the ORM converts that field
    (e.g. ``DataResource._meta.get_field("updated_at")`` for ``r.updated_at``), ``None`` one column as the
    driver gives it (an ``EXISTS (...)``, a count)."""
    conn = _conn()
    cur = _cursor(conn)
    _run(cur, sql, params, conn)
    out = []
    for r in cur.fetchall():
        items: list[Any] = []
        start = 0
        for part in shape:
            if part is None:
                items.append(r[start])
                start += 1
            elif isinstance(part, models.Field):
                items.append(_convert(part, r[start], conn))
                start += 1
            else:
                end = start + _width(part)
                items.append(_build(part, r[start:end], conn))
                start = end
        out.append(tuple(items))
    return out
