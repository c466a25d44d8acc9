"""Forms from JSON Schema, on the server side of the progressive enhancement: the fields of the (merged) schema
with values and errors, the form data parsed back from a POST, and the submitted data as rows for case files.
``static/applications/schemaform.js`` re-renders the same fields in the browser with client-side validation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.html import format_html_join

from tongban.catalog.forms import ITEMS_KEY
from tongban.core.masking import mask_field


def field_id(path: str) -> str:
    """The HTML id of the input of field ``path`` (error summaries link to it)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


@dataclass
class FormField:
    """One input of the generated form (``children`` for a nested object)."""

    path: str
    title: str
    widget: str  # text, textarea, number, date, email, select, checkbox, checkboxes, group, json
    required: bool = False
    value: Any = ""
    error: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    description: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[FormField] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return field_id(self.path)

    @property
    def attrs_html(self) -> str:
        return format_html_join(" ", '{}="{}"', ((k, v) for k, v in self.attrs.items() if v is not None))

    @property
    def shared(self) -> bool:
        return len(self.items) > 1

    @property
    def values(self) -> list[str]:
        return [str(v) for v in self.value] if isinstance(self.value, list) else []


def _type(prop: dict[str, Any]) -> str:
    t = prop.get("type", "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return str(t)


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    if "enum" in prop:
        return [(str(v), str(v)) for v in prop["enum"] if v is not None]
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        return [(str(o["const"]), str(o.get("title", o["const"]))) for o in prop["oneOf"]]
    return []


def widget_for(prop: dict[str, Any]) -> str:
    """The input a schema property is shown with."""
    t = _type(prop)
    if t == "object":
        return "group"
    if t == "array":
        return "checkboxes" if _options(prop.get("items") or {}) else "json"
    if _options(prop):
        return "select"
    if t == "boolean":
        return "checkbox"
    if t in {"number", "integer"}:
        return "number"
    if t == "string":
        fmt = prop.get("format")
        if fmt in {"date", "email"}:
            return str(fmt)
        if prop.get("x-widget") == "textarea" or (prop.get("maxLength") or 0) > 200:
            return "textarea"
        return "text"
    return "json"


def schema_fields(schema: dict[str, Any], data: dict[str, Any] | None, errors: dict[str, str],
                  item_names: dict[str, str], prefix: str = "") -> list[FormField]:
    """The form fields of a JSON Schema object, with values, errors and the items that use each field."""
    data = data or {}
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        widget = widget_for(prop)
        value = data.get(name, prop.get("default", "")) if isinstance(data, dict) else ""
        f = FormField(path=path, title=str(prop.get("title") or name), widget=widget, required=name in required,
                      error=errors.get(path, ""), description=str(prop.get("description") or ""),
                      items=[item_names.get(c, c) for c in prop.get(ITEMS_KEY, [])])
        t = _type(prop)
        if widget == "group":
            f.children = schema_fields(prop, value if isinstance(value, dict) else {}, errors, item_names,
                                       prefix=f"{path}.")
        elif widget == "checkboxes":
            f.options = _options(prop["items"])
            f.value = value if isinstance(value, list) else []
        elif widget == "checkbox":
            f.value = value is True
        elif widget == "json":
            f.value = "" if value in ("", None) else (value if isinstance(value, str)
                                                      else json.dumps(value, ensure_ascii=False))
        else:
            f.value = "" if value is None else value
            f.options = _options(prop)
        if widget in {"text", "textarea", "email"}:
            f.attrs = {"minlength": prop.get("minLength"), "maxlength": prop.get("maxLength"),
                       "pattern": prop.get("pattern") if widget == "text" else None}
        elif widget == "number":
            f.attrs = {"step": "1" if t == "integer" else "any",
                       "min": prop.get("minimum", prop.get("exclusiveMinimum")),
                       "max": prop.get("maximum", prop.get("exclusiveMaximum"))}
        out.append(f)
    return out


def _coerce(prop: dict[str, Any], raw: str) -> Any:
    """A submitted text as the JSON value the schema expects (left as text when it does not parse: the
    validator then reports it)."""
    for v in prop.get("enum") or [c.get("const") for c in prop.get("oneOf") or [] if "const" in c]:
        if str(v) == raw:
            return v
    t = _type(prop)
    if t == "integer" and re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    if t == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?", raw) else number
    if t in {"array", "object"}:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def parse_form(schema: dict[str, Any], post: QueryDict, prefix: str = "") -> dict[str, Any]:
    """The JSON form data from a POST of the generated inputs (``a.b`` names for nested objects)."""
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        widget = widget_for(prop)
        if widget == "group":
            sub = parse_form(prop, post, prefix=f"{path}.")
            if sub:
                out[name] = sub
        elif widget == "checkbox":
            out[name] = post.get(path) in {"true", "on", "1"}
        elif widget == "checkboxes":
            chosen = [_coerce(prop["items"], v) for v in post.getlist(path) if v != ""]
            if chosen:
                out[name] = chosen
        else:
            raw = (post.get(path) or "").strip()
            if raw:
                out[name] = _coerce(prop, raw)
    return out


def display_rows(schema: dict[str, Any], data: dict[str, Any], prefix: str = "", *,
                 masked: bool = False) -> list[tuple[str, str]]:
    """(title, value) rows of submitted form data, for case files; ``masked``: personal data masked by field name
    (ID numbers, phones, addresses) and ID or mobile numbers in free text (staff pages)."""
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        if name not in data:
            continue
        title = f"{prefix}{prop.get('title') or name}"
        value = data[name]
        if isinstance(value, dict) and widget_for(prop) == "group":
            rows += display_rows(prop, value, prefix=f"{title} · ", masked=masked)
            continue
        if isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((title, mask_field(name, text) if masked else text))
    return rows


def all_paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    """Every field path of a schema (``a.b`` for nested objects)."""
    out = set()
    for name, prop in (schema.get("properties") or {}).items():
        out.add(f"{prefix}{name}")
        if widget_for(prop) == "group":
            out |= all_paths(prop, f"{prefix}{name}.")
    return out
