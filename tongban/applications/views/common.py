"""What the pages of every audience share: the page frame, access refusals, the case page's context, actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.core.auth import AuthedRequest
from tongban.core.errors import DomainError
from tongban.core.models import Role
from tongban.core.selectors import has_role

from .. import files, selectors
from ..models import Application, ApplicationMaterial
from ..services.guide import application_schema
from .schemaform import display_rows

UPLOAD_ACCEPT = ",".join(sorted(files.EXTENSIONS))


def _nav(user: Any) -> dict[str, bool]:
    if not user.is_authenticated:
        return {}
    return {"window": has_role(user, Role.WINDOW_CLERK), "approver": has_role(user, Role.APPROVER),
            "supervisor": has_role(user, Role.SUPERVISOR)}


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render ``applications/<template>`` with the navigation the user's roles open."""
    return render(request, f"applications/{template}", {"nav": _nav(request.user), **context}, status=status)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return page(request, "forbidden.html", {"message": message}, status=403)


def only_for(request: AuthedRequest, roles: tuple[str, ...], message: str) -> HttpResponse | None:
    """The refusal page unless the user holds one of ``roles``; None when they may go on."""
    if not any(has_role(request.user, role) for role in roles):
        return forbidden(request, message)
    return None


def app_or_404(ref: str) -> Application:
    app = selectors.get_application(ref)
    if app is None:
        raise Http404("办件不存在")
    return app


def int_or_zero(raw: str | None) -> int:
    """A posted or queried id; 0 (no row has it) when it is not a number."""
    return int(raw) if raw and raw.isdecimal() else 0


def perform(request: HttpRequest, action: str, handlers: dict[str, Callable[[], str]]) -> bool:
    """Run one posted action: its handler does it and returns the success message; a refusal (any domain error)
    becomes an error message on the page. Returns whether the action was done."""
    handler = handlers.get(action)
    if handler is None:
        messages.error(request, "未知的操作")
        return False
    try:
        done = handler()
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, done)
    return True


def case_context(app: Application, *, staff: bool = False) -> dict[str, Any]:
    """The case file as the applicant's, the window's and the approver's pages show it. Staff pages (``staff``)
    show personal data masked (ID numbers, phones, addresses: docs/privacy.md); the applicant sees it in full."""
    case = selectors.case_file(app)
    schema = application_schema(app)
    names = {ai.item.code: ai.item.name for ai in case.items}
    for m in case.materials:
        m.item_names = [names.get(c, c) for c in m.item_codes]
    open_supplements = [s for s in case.supplements if s.fulfilled_at is None]
    owed_keys = {k for s in open_supplements for k in s.material_keys}
    return {
        "app": app, "case": case, "form_rows": display_rows(schema, app.form_data or {}, masked=staff),
        "mask_pii": staff,
        "item_names": names,
        "owed": [m for m in case.materials if m.key in owed_keys and m.status == ApplicationMaterial.Status.TOLERATED],
        "open_supplements": open_supplements,
        "corrections": selectors.open_correction_tasks(app),
        "editable": app.status in Application.OPEN_STATUSES,
        "upload_accept": UPLOAD_ACCEPT,
        "commitment": getattr(app, "commitment", None),
    }
