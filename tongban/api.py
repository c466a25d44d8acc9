"""The JSON API root (django-ninja). Each bounded context contributes ``<app>/api.py`` with a ``router``."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

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


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Malformed input (wrong type, missing field, bad JSON) gets the same error shape as domain errors."""
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path", "form")]
        fields.append({"field": ".".join(loc), "message": err.get("msg", "")})
    message = "请求参数不正确：" + "；".join(f"{f['field'] or '请求体'} {f['message']}" for f in fields[:5])
    return api.create_response(request, {"code": "request.invalid", "message": message,
                                         "detail": {"errors": fields}}, status=422)


_HTTP_CODES = {400: ("request.malformed", "请求无法解析"), 401: ("auth.required", "请先登录（会话或 Bearer 令牌）"),
               403: ("auth.forbidden", "无权访问"), 429: ("request.throttled", "请求过于频繁，请稍后再试")}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code, message = _HTTP_CODES.get(exc.status_code, (f"http.{exc.status_code}", ""))
    detail = str(exc)
    body = {"code": code, "message": f"{message}（{detail}）" if message and detail else (message or detail)}
    return api.create_response(request, body, status=exc.status_code)


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
