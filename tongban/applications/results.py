"""From an approved item to the data of its e-licence (电子证照): the catalogue's ``result_mapping``.

A mapping value is one of
- a form field name (``enterprise_name``), with ``|`` for fall-backs (``enterprise_name|=applicant_name``);
- ``=applicant_name``, ``=applicant_id_number``, ``=today``, ``=item_name``, ``=department_name``;
- ``=credit_code``: the entity's unified social credit code (统一社会信用代码): the form's
  ``unified_credit_code``, else the applicant's own code when a legal person applies, else one assigned
  once per application (GB 32100 check digit), so every licence of one bundle names the same entity;
- ``=literal:TEXT``;
- a template with ``{field}`` placeholders (``{registered_capital}万元``).
Empty results are left out, so the licence type's schema decides what is required.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.utils import timezone

from tongban.core import site

from .models import Application, ApplicationItem

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_digit(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_digit(first8: str) -> str:
    """GB 11714 organisation code check digit."""
    def value(c: str) -> int:
        return int(c) if c.isdigit() else ord(c) - 55  # A=10 ... Z=35
    c9 = 11 - sum(value(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def is_valid_uscc(code: str) -> bool:
    return bool(_USCC.match(code)) and uscc_check_digit(code[:17]) == code[17]


def new_credit_code(division_code: str = "", kind: str = "91") -> str:
    """A fresh unified social credit code for a newly registered entity (kind 91 = enterprise), in the site's
    division unless ``division_code`` says otherwise."""
    division_code = division_code or site.current().division_code
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWY"
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(8))
        check = org_code_check_digit(body)
        first17 = f"{kind}{division_code[:6]}{body}{check}"
        if all(c in USCC_CHARS for c in first17):
            return first17 + uscc_check_digit(first17)


def entity_credit_code(app: Application) -> str:
    form = app.form_data or {}
    if form.get("unified_credit_code"):
        return str(form["unified_credit_code"])
    if app.applicant_kind == "legal" and is_valid_uscc(app.applicant_id_number):
        return app.applicant_id_number
    assigned = form.get("_assigned_credit_code")
    if not assigned:
        assigned = new_credit_code()
        app.form_data = {**form, "_assigned_credit_code": assigned}
        Application.objects.filter(pk=app.pk).update(form_data=app.form_data)
    return assigned


def _one(expr: str, ai: ApplicationItem, app: Application) -> Any:
    form = app.form_data or {}
    if expr.startswith("=literal:"):
        return expr[len("=literal:"):]
    if expr.startswith("="):
        special = {
            "=applicant_name": lambda: app.applicant_name,
            "=applicant_id_number": lambda: app.applicant_id_number,
            "=today": lambda: timezone.localdate().isoformat(),
            "=item_name": lambda: ai.item.name,
            "=department_name": lambda: ai.department.name,
            "=credit_code": lambda: entity_credit_code(app),
        }.get(expr)
        if special is None:
            raise ValueError(f"unknown mapping value {expr!r}")
        return special()
    if "{" in expr:
        try:
            return expr.format_map({k: v for k, v in form.items() if v not in (None, "")})
        except KeyError:
            return None
    return form.get(expr)


def licence_data(ai: ApplicationItem) -> tuple[str, dict[str, Any]]:
    """The licence type and the licence data of an approved item ('' and {} when it issues none)."""
    item = ai.item
    if not item.result_licence_type:
        return "", {}
    app = ai.application
    data: dict[str, Any] = {}
    for field, expr in (item.result_mapping or {}).items():
        for alternative in str(expr).split("|"):
            value = _one(alternative.strip(), ai, app)
            if value not in (None, ""):
                data[field] = value
                break
    return item.result_licence_type, data
