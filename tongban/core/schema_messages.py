"""JSON Schema errors in plain Chinese: the one translator every context uses.

``message(err)`` turns one :class:`jsonschema.ValidationError` into a sentence a clerk understands
(缺少必填字段 “name”, 类型错误：应为字符串 …). ``problems(validator, data)`` lists every error of a document as
:class:`Problem` rows, with a missing required field reported at its own path (so a form can show it beside
the field) and each disallowed extra field reported once by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

TYPE_NAMES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值（true/false）",
              "object": "对象", "array": "数组", "null": "null"}


@dataclass(frozen=True)
class Problem:
    """One error: where (``path`` as JSON path parts), the Chinese ``message``, and which check failed."""

    path: tuple[str | int, ...]
    message: str
    validator: str

    @property
    def field(self) -> str:
        """The path as ``a.b.0`` (empty for the document itself)."""
        return ".".join(str(p) for p in self.path)


def show(value: Any) -> str:
    """A value as short JSON (at most 60 characters)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def type_names(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    return " 或 ".join(TYPE_NAMES.get(str(n), str(n)) for n in names)


def path_text(path: Iterable[str | int]) -> str:
    """``items[3].name`` style, ``(根对象)`` for the document itself."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(根对象)"


def missing_property(err: jsonschema.ValidationError) -> str:
    """The name a ``required`` error is about."""
    m = re.match(r"^'(.+)' is a required property$", err.message)
    return m.group(1) if m else ""


def message(err: jsonschema.ValidationError) -> str:
    """One schema error as a Chinese sentence."""
    v, vv, inst = err.validator, err.validator_value, err.instance
    if v == "required":
        return f"缺少必填字段 “{missing_property(err) or vv}”"
    if v == "additionalProperties" and isinstance(inst, dict) and isinstance(err.schema, dict):
        extra = [k for k in inst if k not in err.schema.get("properties", {})]
        return "不允许的字段：" + "、".join(f"“{k}”" for k in extra)
    if v == "enum":
        return f"取值 {show(inst)} 无效，应为以下之一：{'、'.join(str(x) for x in vv)}"
    if v == "const":
        return f"应为 {show(vv)}，实际为 {show(inst)}"
    if v == "type":
        return f"类型错误：应为{type_names(vv)}，实际为 {show(inst)}"
    if v == "pattern":
        return f"取值 {show(inst)} 格式不正确（须匹配 {vv}）"
    if v == "minLength":
        return "不能为空" if vv == 1 else f"长度不能少于 {vv} 个字符"
    if v == "maxLength":
        return f"长度不能超过 {vv} 个字符（实际 {len(inst)} 个）"
    if v == "minimum":
        return f"不能小于 {vv}（实际 {inst}）"
    if v == "maximum":
        return f"不能大于 {vv}（实际 {inst}）"
    if v == "minItems":
        return f"至少需要 {vv} 项（实际 {len(inst)} 项）"
    if v == "maxItems":
        return f"最多 {vv} 项（实际 {len(inst)} 项）"
    if v == "format":
        return f"取值 {show(inst)} 不是有效的{'日期（YYYY-MM-DD）' if vv == 'date' else vv}"
    if v in ("oneOf", "anyOf") and err.context:
        best = best_match(err.context)
        if best is not None:
            return message(best)
    return str(err.message)


def problems(validator: jsonschema.protocols.Validator, data: Any) -> list[Problem]:
    """Every error of ``data``, sorted by path; ``required`` errors point at the missing field itself and each
    field not allowed by ``additionalProperties`` is its own row (``不允许的字段 “x”``)."""
    rows: list[Problem] = []
    for err in validator.iter_errors(data):
        path = tuple(err.absolute_path)
        if err.validator == "required":
            name = missing_property(err)
            rows.append(Problem((*path, name) if name else path, message(err), "required"))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {})) if isinstance(err.schema, dict) else set()
            rows.extend(Problem((*path, key), f"不允许的字段 “{key}”", "additionalProperties")
                        for key in err.instance if key not in allowed)
        else:
            rows.append(Problem(path, message(err), str(err.validator)))
    rows.sort(key=lambda p: [str(x) for x in p.path])
    return rows
