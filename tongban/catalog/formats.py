"""The catalogue file format ``tongban-catalog/1`` (see ``schemas/catalog.schema.json``) in Python.

Pure functions: defaults of optional keys, normalisation of an input object to its complete form, and
serialisation of model instances to the same complete form. Import compares the two to find out whether
anything changed (so that loading the same file twice changes nothing); export writes the complete form.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = "tongban-catalog/1"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "catalog.schema.json"

ITEM_DEFAULTS: dict[str, Any] = {
    "node": "main",
    "parent": None,
    "reviewing_org": None,  # 审查决定机构: who reviews a delegated (下沉) item when not its implementing organisation
    "handling_kind": "",
    "legal_basis": [],
    "statutory_limit_days": None,
    "promised_limit_days": None,
    "onsite_visits": 0,
    "fee_required": False,
    "fees": [],
    "conditions": "",
    "process_steps": [],
    "online_level": "at_most_once",
    "commitment_allowed": False,
    "service_object": "",
    "result_name": "",
    "result_type": "",
    "handling_place": "",
    "handling_hours": "",
    "consultation": "",
    "complaint": "",
    "form_schema": None,
    "guide": {},
    "result_licence_type": "",
    "result_mapping": {},
    "auto_decision_key": "",
    "auto_decision_inputs": {},
    "status": "published",
}
ITEM_REQUIRED = ("code", "name", "item_type", "competent_department", "implementing_org", "exercise_level")
# Model fields written as they are (no foreign key to resolve).
ITEM_PLAIN_FIELDS = tuple(
    k for k in (*ITEM_REQUIRED, *ITEM_DEFAULTS) if k not in ("code", "competent_department", "implementing_org",
                                                             "parent", "reviewing_org")
)

MATERIAL_DEFAULTS: dict[str, Any] = {
    "form": "original",
    "copies": 1,
    "requirement": "required",
    "source": "applicant",
    "issuing_department": None,
    "licence_type": "",
    "data_resource": "",
    "waivable": False,
    "commitment_replaceable": False,
    "notes": "",
}
MATERIAL_PLAIN_FIELDS = ("name", *(k for k in MATERIAL_DEFAULTS if k != "issuing_department"))

SITUATION_DEFAULTS: dict[str, Any] = {"description": "", "conditions": {}}

BUNDLE_DEFAULTS: dict[str, Any] = {
    "description": "",
    "lead_department": None,
    "promised_limit_days": None,
    "status": "published",
    "optional_items": [],
}

POWER_FIELDS = ("code", "name", "power_type", "basis", "responsible_org", "item_code", "notes")
POWER_DEFAULTS: dict[str, Any] = {"item_code": "", "notes": ""}
RESPONSIBILITY_FIELDS = ("power_code", "code", "responsibilities", "accountability", "basis")
RESPONSIBILITY_DEFAULTS: dict[str, Any] = {"basis": ""}
LIST_KINDS = ("powers", "responsibilities")
ENTRY_FIELDS = {"powers": POWER_FIELDS, "responsibilities": RESPONSIBILITY_FIELDS}
ENTRY_DEFAULTS = {"powers": POWER_DEFAULTS, "responsibilities": RESPONSIBILITY_DEFAULTS}
# Keys that must not be blank in a list entry (the schema requires them; services and tables check them too).
ENTRY_REQUIRED = {"powers": ("code", "name", "power_type", "basis", "responsible_org"),
                  "responsibilities": ("power_code", "code", "responsibilities", "accountability")}


@cache
def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _with_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, value in defaults.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
    return out


def normalize_item(data: dict[str, Any]) -> dict[str, Any]:
    """The complete form of an item object: every optional key filled, situations' materials in item order."""
    out = _with_defaults({k: v for k, v in data.items() if k not in ("materials", "situations")}, ITEM_DEFAULTS)
    materials = [_with_defaults(m, MATERIAL_DEFAULTS) for m in data.get("materials", [])]
    order = {m["code"]: i for i, m in enumerate(materials)}
    situations = []
    for s in data.get("situations", []):
        full = _with_defaults(s, SITUATION_DEFAULTS)
        codes = list(dict.fromkeys(full.get("materials", [])))
        full["materials"] = sorted(codes, key=lambda c: order.get(c, len(order)))
        situations.append(full)
    out["materials"] = materials
    out["situations"] = situations
    return out


def normalize_bundle(data: dict[str, Any]) -> dict[str, Any]:
    out = _with_defaults(data, BUNDLE_DEFAULTS)
    out["items"] = list(dict.fromkeys(out["items"]))
    optional = set(out["optional_items"])
    out["optional_items"] = [c for c in out["items"] if c in optional]
    return out


def normalize_entry(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The complete form of a list entry of ``kind`` (``powers`` or ``responsibilities``)."""
    full = _with_defaults(data, ENTRY_DEFAULTS[kind])
    return {k: full.get(k) for k in ENTRY_FIELDS[kind]}


def normalize_power(data: dict[str, Any]) -> dict[str, Any]:
    return normalize_entry("powers", data)


def normalize_responsibility(data: dict[str, Any]) -> dict[str, Any]:
    return normalize_entry("responsibilities", data)


# --- model instance → complete form ---------------------------------------------------------------


def item_to_dict(item: Any) -> dict[str, Any]:
    """A ServiceItem (with its materials and situations) in the complete file form."""
    out: dict[str, Any] = {
        "code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "competent_department": item.competent_department.code,
        "implementing_org": item.implementing_org.code,
        "exercise_level": item.exercise_level,
    }
    for key in ITEM_DEFAULTS:
        if key == "parent":
            out[key] = item.parent.code if item.parent_id else None
        elif key == "reviewing_org":
            out[key] = item.reviewing_org.code if item.reviewing_org_id else None
        else:
            out[key] = copy.deepcopy(getattr(item, key))
    materials = list(item.materials.all())
    out["materials"] = [material_to_dict(m) for m in materials]
    order = {m.pk: i for i, m in enumerate(materials)}
    codes = {m.pk: m.code for m in materials}
    out["situations"] = [
        {
            "code": s.code,
            "name": s.name,
            "description": s.description,
            "conditions": copy.deepcopy(s.conditions),
            "materials": [codes[pk] for pk in sorted((m.pk for m in s.materials.all()), key=order.__getitem__)],
        }
        for s in item.situations.all()
    ]
    return out


def material_to_dict(material: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"code": material.code, "name": material.name}
    for key in MATERIAL_DEFAULTS:
        if key == "issuing_department":
            out[key] = material.issuing_department.code if material.issuing_department_id else None
        else:
            out[key] = getattr(material, key)
    return out


def bundle_to_dict(bundle: Any) -> dict[str, Any]:
    links = list(bundle.bundle_items.all())
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "lead_department": bundle.lead_department.code if bundle.lead_department_id else None,
        "promised_limit_days": bundle.promised_limit_days,
        "status": bundle.status,
        "items": [link.item.code for link in links],
        "optional_items": [link.item.code for link in links if link.optional],
    }


def entry_to_dict(kind: str, entry: Any) -> dict[str, Any]:
    """A PowerEntry (``powers``) or ResponsibilityEntry (``responsibilities``) in the complete file form."""
    return {k: getattr(entry, k) for k in ENTRY_FIELDS[kind]}


def power_to_dict(entry: Any) -> dict[str, Any]:
    return entry_to_dict("powers", entry)


def responsibility_to_dict(entry: Any) -> dict[str, Any]:
    return entry_to_dict("responsibilities", entry)


def duty_list_to_dict(duty_list: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"organisation": duty_list.organisation.code}
    if duty_list.effective_date:
        out["effective_date"] = duty_list.effective_date.isoformat()
    out["change_reason"] = duty_list.change_reason
    out["publish"] = duty_list.status == "published"
    out.update(duty_list_entries(duty_list))
    return out


def duty_list_entries(duty_list: Any) -> dict[str, list[dict[str, Any]]]:
    """Both lists of a version in the complete form: ``{"powers": [...], "responsibilities": [...]}``."""
    return {kind: [entry_to_dict(kind, e) for e in getattr(duty_list, kind).all()] for kind in LIST_KINDS}
