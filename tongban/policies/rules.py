"""Policy rules (认定条件): a list of conditions over named attributes, all of which must hold.

A condition is ``{"attr": NAME, "op": OP, "value": V}`` with OP one of ``== != < <= > >= in not_in between``
(``between``: ``[low, high]``, both included) or ``exists``. A missing attribute (None) satisfies nothing, not
even ``!=``. The same rule is evaluated row by row here (:func:`holds`), compiled to SQL for a columnar engine
(:func:`to_sql`, the benchmark and large populations) and described in plain Chinese (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import PolicyError

OPS: dict[str, str] = {"==": "＝", "!=": "≠", "<": "＜", "<=": "≤", ">": "＞", ">=": "≥", "in": "属于",
                       "not_in": "不属于", "between": "介于", "exists": "有记录"}


def validate(rule: Any, known: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rule as a list of conditions, or :class:`PolicyError` naming the first bad one."""
    if not isinstance(rule, list) or not rule:
        raise PolicyError("认定条件须为非空的条件列表", code="policies.bad_rule")
    for n, cond in enumerate(rule, 1):
        if not isinstance(cond, dict) or not isinstance(cond.get("attr"), str):
            raise PolicyError(f"第 {n} 个条件须为含 attr 的对象", code="policies.bad_rule")
        op = cond.get("op")
        if op not in OPS:
            raise PolicyError(f"第 {n} 个条件的运算符 {op!r} 不支持（可用：{'、'.join(OPS)}）", code="policies.bad_rule")
        if known is not None and cond["attr"].split(":", 1)[0] not in known:
            raise PolicyError(f"第 {n} 个条件的属性 {cond['attr']} 未登记（可用：{'、'.join(sorted(known))}）",
                              code="policies.unknown_attribute")
        value = cond.get("value")
        if op in ("in", "not_in") and not isinstance(value, list):
            raise PolicyError(f"第 {n} 个条件（{op}）的值须为列表", code="policies.bad_rule")
        if op == "between" and not (isinstance(value, list) and len(value) == 2):
            raise PolicyError(f"第 {n} 个条件（between）的值须为 [下限, 上限]", code="policies.bad_rule")
    return rule


def _test(op: str, value: Any) -> Callable[[Any], bool]:
    if op == "exists":
        return lambda x: x is not None and x != "" and x is not False
    if op == "in":
        allowed = set(value)
        return lambda x: x in allowed
    if op == "not_in":
        barred = set(value)
        return lambda x: x is not None and x not in barred
    if op == "between":
        low, high = value
        return lambda x: x is not None and low <= x <= high
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
    fn = compare[op]

    def test(x: Any) -> bool:
        if x is None:
            return False
        try:
            return fn(x, value)
        except TypeError:
            return False
    return test


def compile_rule(rule: list[dict[str, Any]]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over one subject's attributes (the row-by-row evaluation)."""
    tests = [(c["attr"], _test(c["op"], c.get("value"))) for c in rule]
    return lambda attrs: all(t(attrs.get(a)) for a, t in tests)


def holds(rule: list[dict[str, Any]], attrs: Mapping[str, Any]) -> bool:
    return compile_rule(rule)(attrs)


def attributes_of(rule: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(c["attr"] for c in rule))


def column(attr: str) -> str:
    """The SQL column of an attribute (``entity.credit_grade`` → ``entity__credit_grade``)."""
    return attr.replace(".", "__").replace(":", "__").replace("-", "_")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def to_sql(rule: list[dict[str, Any]]) -> str:
    """The rule as a SQL boolean expression over columns named by :func:`column` (NULL never qualifies)."""
    parts = []
    for c in rule:
        col, op, value = column(c["attr"]), c["op"], c.get("value")
        if op == "exists":
            parts.append(f"({col} IS NOT NULL)")
        elif op in ("in", "not_in"):
            values = ", ".join(_literal(v) for v in value) or "NULL"
            parts.append(f"({col} {'IN' if op == 'in' else 'NOT IN'} ({values}))" if op == "in"
                         else f"({col} IS NOT NULL AND {col} NOT IN ({values}))")
        elif op == "between":
            parts.append(f"({col} BETWEEN {_literal(value[0])} AND {_literal(value[1])})")
        else:
            sql_op = "<>" if op == "!=" else "=" if op == "==" else op
            parts.append(f"({col} {sql_op} {_literal(value)})")
    return " AND ".join(parts) or "TRUE"


def describe(rule: list[dict[str, Any]], titles: Mapping[str, str]) -> list[str]:
    """Each condition in plain Chinese, e.g. ``成立天数 ≤ 365``."""
    out = []
    for c in rule:
        title = titles.get(c["attr"]) or titles.get(c["attr"].split(":", 1)[0], c["attr"])
        value = c.get("value")
        shown = "、".join(map(str, value)) if isinstance(value, list) and c["op"] != "between" else (
            f"{value[0]} 至 {value[1]}" if c["op"] == "between" else ("是" if value is True else "否" if value is False
                                                                     else value))
        out.append(f"{title}{OPS[c['op']]}" if c["op"] == "exists" else f"{title} {OPS[c['op']]} {shown}")
    return out
