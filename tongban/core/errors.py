"""The one domain error base of tongban and its JSON API handlers.

Every context's errors derive from :class:`DomainError`: a stable machine-readable ``code`` (the API's error
``code``), a clear Chinese ``message`` for people, an HTTP ``status`` hint and optional ``detail``. One argument
order everywhere::

    raise ApplicationError("办件不存在", code="applications.not_found", status=404)
    raise NotFound("证照不存在")            # a subclass carries its own default code and status

:func:`install_api_handlers` registers the one django-ninja exception handler for all of them (and the request
validation and HTTP error handlers), so endpoints never convert errors themselves.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from ninja import NinjaAPI


logger = logging.getLogger("tongban.api")


class DomainError(Exception):
    """A refused or invalid operation; ``code`` is stable, ``message`` is Chinese for people."""

    code: str = "error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        """The API's error body: ``{"code", "message"}`` plus ``detail`` when there is any."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body


# --- the JSON API's error handlers (registered once, on the project's NinjaAPI) ------------------------------

_HTTP_CODES = {400: ("request.malformed", "请求无法解析"), 401: ("auth.required", "请先登录（会话或 Bearer 令牌）"),
               403: ("auth.forbidden", "无权访问"), 404: ("not_found", "不存在"),
               429: ("request.throttled", "请求过于频繁，请稍后再试")}


def install_api_handlers(api: NinjaAPI) -> None:
    """Register the one handler of :class:`DomainError` and the request/HTTP error handlers on ``api``."""
    from django.db import DataError
    from django.http import Http404
    from ninja.errors import HttpError, ValidationError

    def domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(request, exc.as_dict(), status=int(exc.status))

    def invalid_request(request: HttpRequest, exc: Any) -> HttpResponse:
        """Malformed input (wrong type, missing field, bad JSON) gets the same error shape as domain errors."""
        fields = []
        for err in exc.errors:
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path", "form")]
            fields.append({"field": ".".join(loc), "message": err.get("msg", "")})
        message = "请求参数不正确：" + "；".join(f"{f['field'] or '请求体'} {f['message']}" for f in fields[:5])
        return api.create_response(request, {"code": "request.invalid", "message": message,
                                             "detail": {"errors": fields}}, status=422)

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        code, message = _HTTP_CODES.get(exc.status_code, (f"http.{exc.status_code}", ""))
        detail = str(exc)
        body = {"code": code, "message": f"{message}（{detail}）" if message and detail else (message or detail)}
        return api.create_response(request, body, status=exc.status_code)

    def unstorable(request: HttpRequest, exc: Any) -> HttpResponse:
        """Input the database cannot hold (a NUL character in text on PostgreSQL, a value beyond a column's size)
        is refused as invalid, not answered with a server error; the line in the log names the database's reason."""
        logger.warning("API input refused by the database: %s %s: %s", request.method, request.path,
                       str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return api.create_response(request, {
            "code": "request.unstorable",
            "message": "请求中含有无法保存的内容（如 NUL 控制字符或超出长度的文字），请检查后重新提交"}, status=422)

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        """``Http404`` (e.g. ``get_object_or_404``) answers the one error body, not ninja's ``{"detail"}``."""
        return api.create_response(request, {"code": "not_found", "message": "请求的对象不存在"}, status=404)

    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(ValidationError, invalid_request)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(DataError, unstorable)


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The project's ``handler404``: a path under ``/api/`` that names no operation answers the one JSON error
    body; other paths get Django's page."""
    from django.http import JsonResponse
    from django.views import defaults

    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": f"没有这个接口：{request.path}"}, status=404,
                            json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception or Exception())
