"""The JSON API root (django-ninja). Each bounded context contributes ``<app>/api.py`` with a ``router``."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from tongban.apps_registry import BOUNDED_CONTEXTS

api = NinjaAPI(
    title="tongban 通办 API",
    version="1",
    description="一网通办 integrated government service platform: catalogue, applications, workflow, "
    "data exchange and credentials.",
    urls_namespace="api",
)



def _error_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Domain errors listed in an app's ``api.ERRORS`` answer with their stable code and a clear message."""
    body: dict[str, Any] = {"code": getattr(exc, "code", "error"),
                            "message": getattr(exc, "message", None) or str(exc)}
    detail = getattr(exc, "detail", None)
    if detail:
        body["detail"] = detail
    return api.create_response(request, body, status=int(getattr(exc, "status", 400)))


for _name in BOUNDED_CONTEXTS:
    if not apps.is_installed(f"tongban.{_name}"):
        continue
    try:
        _module = importlib.import_module(f"tongban.{_name}.api")
    except ModuleNotFoundError as exc:
        if exc.name != f"tongban.{_name}.api":
            raise
        continue
    for _error in getattr(_module, "ERRORS", []):
        api.add_exception_handler(_error, _error_response)
    _routers = getattr(_module, "ROUTERS", None)  # (not a getattr default: evaluated even when ROUTERS exists)
    for _router in _routers if _routers is not None else [("", _module.router)]:
        api.add_router(*_router)
