"""Merged forms of one-thing bundles (一件事一张表).

Each item (or situation) carries a JSON Schema for its application form. A bundle's form is the union
of its items' forms: a property used by several items is asked once and lists the items that use it;
it is required when any item requires it. Materials are de-duplicated the same way: one material that
several items need (the same e-licence, the same shared data, or the same name) is provided once.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from tongban.core import schema_messages

from .errors import CatalogError
from .models import Bundle, Material, ServiceItem

ITEMS_KEY = "x-tongban-items"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class FormConflict(CatalogError, ValueError):
    """Two items define the same field with incompatible types."""

    code = "catalog.form_conflict"
    status = 409


@dataclass
class MergedField:
    name: str
    schema: dict[str, Any]
    items: list[str] = field(default_factory=list)
    required: bool = False


def _type_of(schema: dict[str, Any]) -> Any:
    t = schema.get("type")
    return tuple(sorted(t)) if isinstance(t, list) else t


def merge_schemas(forms: list[tuple[str, dict[str, Any] | None]], *, title: str = "") -> dict[str, Any]:
    """Merge ``(item_code, json_schema)`` pairs into one JSON Schema (draft 2020-12).

    Raises :class:`FormConflict` naming the field and items when a shared field's types disagree.
    """
    fields: dict[str, MergedField] = {}
    for code, schema in forms:
        if not schema:
            continue
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            merged = fields.get(name)
            if merged is None:
                merged = fields[name] = MergedField(name=name, schema=copy.deepcopy(prop))
            elif _type_of(merged.schema) != _type_of(prop):
                raise FormConflict(
                    f"字段“{name}”在事项 {', '.join(merged.items)} 与 {code} 中类型不一致"
                    f"（{_type_of(merged.schema)} ≠ {_type_of(prop)}）"
                )
            else:
                # Keep the stricter enumeration where both restrict the values.
                if "enum" in prop and "enum" in merged.schema:
                    merged.schema["enum"] = [v for v in merged.schema["enum"] if v in prop["enum"]]
                for key, value in prop.items():
                    merged.schema.setdefault(key, copy.deepcopy(value))
            if code not in merged.items:
                merged.items.append(code)
            merged.required = merged.required or name in required
    properties = {}
    for f in fields.values():
        properties[f.name] = {**f.schema, ITEMS_KEY: list(f.items)}
    merged_schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "title": title,
        "properties": properties,
        "required": [f.name for f in fields.values() if f.required],
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(merged_schema)
    return merged_schema


def material_key(material: Material) -> tuple[str, str]:
    """Materials with the same key are one material in a bundle: the same document of the same person.

    An e-licence or a shared-data record is identified by its type *and* its name, so that the mother's and
    the father's ID card stay two materials while the one business licence several items need is one.
    """
    name = material.name.strip()
    if material.source == Material.Source.ISSUED and material.licence_type:
        return ("issued", f"{material.licence_type}:{name}")
    if material.source == Material.Source.SHARED and material.data_resource:
        return ("shared", f"{material.data_resource}:{name}")
    return ("name", name)


def merged_materials(items: list[ServiceItem]) -> list[dict[str, Any]]:
    """The bundle's materials, each once, with the items that need it."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        for m in item.materials.all():
            key = material_key(m)
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {
                    "name": m.name,
                    "source": m.source,
                    "licence_type": m.licence_type,
                    "data_resource": m.data_resource,
                    "requirement": m.requirement,
                    "items": [],
                    "materials": [],
                }
            elif m.requirement == Material.Requirement.REQUIRED:
                entry["requirement"] = Material.Requirement.REQUIRED
            entry["items"].append(item.code)
            entry["materials"].append({"item": item.code, "code": m.code})
    return list(merged.values())


def bundle_form(bundle: Bundle) -> dict[str, Any]:
    """The merged form of a bundle: schema, a field list naming the items that use each field, materials."""
    items = [bi.item for bi in bundle.bundle_items.select_related("item").prefetch_related("item__materials")]
    schema = merge_schemas([(i.code, i.form_schema) for i in items], title=f"{bundle.name}申请表")
    fields = [
        {"name": name, "title": prop.get("title", name), "type": prop.get("type"),
         "required": name in schema["required"], "items": prop[ITEMS_KEY]}
        for name, prop in schema["properties"].items()
    ]
    return {
        "bundle": bundle.code,
        "name": bundle.name,
        "items": [{"code": i.code, "name": i.name, "department": i.competent_department.code} for i in items],
        "schema": schema,
        "fields": fields,
        "materials": merged_materials(items),
    }


def validate_form(schema: dict[str, Any], data: dict[str, Any]) -> list[dict[str, str]]:
    """Errors of ``data`` against ``schema`` as ``[{"field": "a.b", "message": "..."}]`` (empty = valid).

    A missing required field reads ``请填写“<title>”`` at the field itself; other messages are the core
    translator's (``tongban.core.schema_messages``) after ``“<title>”格式不正确：``.
    """
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = []
    for p in schema_messages.problems(validator, data):
        title = _title(schema, p.path)
        if p.validator == "required":
            message = f"请填写“{title}”"
        elif p.validator == "additionalProperties" or not p.path:
            message = p.message
        else:
            message = f"“{title}”格式不正确：{p.message}"
        errors.append({"field": p.field, "message": message})
    return errors


def _title(schema: dict[str, Any], path: tuple[str | int, ...]) -> str:
    """The ``title`` of the field at ``path`` (through nested objects and arrays), else its name."""
    node: Any = schema
    for part in path:
        node = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
        if not isinstance(node, dict):
            break
    else:
        if node.get("title"):
            return str(node["title"])
    return ".".join(str(p) for p in path)
