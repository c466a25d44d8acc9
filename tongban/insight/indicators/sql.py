"""The fact queries' macros, expanded for the database in use (SQLite or PostgreSQL).

``@app.Model``          the model's table (quoted)
``LOCAL_DAY(ts)``       the local calendar day (settings.TIME_ZONE) of a timestamp, as ``YYYY-MM-DD`` text
``DAY(date)``           a date column as ``YYYY-MM-DD`` text
``WORKDAYS(d1, d2)``    working days in (d1, d2] from :class:`insight.models.WorkdayNumber` (days as text)
``{name}``              a numeric parameter of the file, or ``{today}`` (``YYYY-MM-DD``), ``{true}``/``{false}``
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import datetime

from django.apps import apps
from django.conf import settings

from ..errors import BadDefinitions

MACROS = ("LOCAL_DAY", "DAY", "WORKDAYS")
_TABLE = re.compile(r"@([a-z_]+)\.([A-Za-z]+)")
_PARAM = re.compile(r"\{([a-z_]+)\}")
_MACRO = re.compile(r"\b(LOCAL_DAY|DAY|WORKDAYS)\(")


def _split_args(text: str) -> list[str]:
    args, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    args.append(cur.strip())
    return args


def _utc_offset_minutes() -> int:
    """The local zone's offset now (the platform's zones, e.g. Asia/Shanghai, have no daylight saving)."""
    off = datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset()
    return int(off.total_seconds() // 60) if off is not None else 0


def _workday_table() -> str:
    from ..models import WorkdayNumber
    return WorkdayNumber._meta.db_table


def _macro(name: str, args: list[str], vendor: str) -> str:
    if name == "LOCAL_DAY":
        (arg,) = args
        if vendor == "postgresql":
            return f"to_char(({arg}) AT TIME ZONE '{settings.TIME_ZONE}', 'YYYY-MM-DD')"
        return f"date({arg}, '{_utc_offset_minutes():+d} minutes')"
    if name == "DAY":
        (arg,) = args
        return f"to_char({arg}, 'YYYY-MM-DD')" if vendor == "postgresql" else f"({arg})"
    first, second = args
    table = _workday_table()
    return (f"((SELECT wn2.seq FROM {table} wn2 WHERE wn2.day = {second})"
            f" - (SELECT wn1.seq FROM {table} wn1 WHERE wn1.day = {first}))")


def expand_macros(sql: str, vendor: str) -> str:
    """Expand the innermost macros first, until none is left."""
    while True:
        matches = list(_MACRO.finditer(sql))
        if not matches:
            return sql
        m = matches[-1]  # the last opening is innermost or independent: its arguments hold no macro
        start, depth, i = m.end(), 1, m.end()
        while depth:
            if i >= len(sql):
                raise BadDefinitions(f"{m.group(1)}( 缺少右括号", detail={"sql": sql[m.start():m.start() + 80]})
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        args = _split_args(sql[start:i - 1])
        want = 2 if m.group(1) == "WORKDAYS" else 1
        if len(args) != want:
            raise BadDefinitions(f"{m.group(1)} 需要 {want} 个参数", detail={"sql": sql[m.start():i]})
        sql = sql[:m.start()] + _macro(m.group(1), args, vendor) + sql[i:]


def expand_tables(sql: str) -> str:
    def table(m: re.Match[str]) -> str:
        try:
            model = apps.get_model(m.group(1), m.group(2))
        except LookupError as exc:
            raise BadDefinitions(f"未知的表 @{m.group(1)}.{m.group(2)}", detail={"table": m.group(0)}) from exc
        return f'"{model._meta.db_table}"'
    return _TABLE.sub(table, sql)


def expand_params(sql: str, params: Mapping[str, object]) -> str:
    def param(m: re.Match[str]) -> str:
        if m.group(1) not in params:
            raise BadDefinitions(f"未定义的参数 {{{m.group(1)}}}", detail={"param": m.group(1)})
        return str(params[m.group(1)])
    return _PARAM.sub(param, sql)


def expand(sql: str, vendor: str, params: Mapping[str, object]) -> str:
    """The SQL to run: tables, parameters, then the macros."""
    builtins = {"true": "TRUE" if vendor == "postgresql" else "1", "false": "FALSE" if vendor == "postgresql" else "0"}
    return expand_macros(expand_params(expand_tables(sql), {**builtins, **params}), vendor)
