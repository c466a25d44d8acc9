"""The OpenAPI document tells the truth: every operation documents its error statuses and its security.

The project's API is a :class:`TongbanAPI` (a ``NinjaAPI``). When it writes the OpenAPI document it adds to every
operation, by kind, the error statuses the platform can answer, all with the one error body :class:`ErrorOut`
that the one API error handler (``core/errors.py``) emits:

=====  ============================================================================================
401    operations that need a signed-in caller (router/operation ``auth=API_AUTH``, or ``@signed_in``)
403    signed-in writes (the session needs its CSRF token), and operations declared ``@may_answer(403)``
       (role or ownership checks)
404    operations with path parameters (the object named in the path may not exist or be hidden)
400    operations with a JSON body (unparsable body) and all writes (refused domain operation)
409    signed-in writes (the object is not in a state that allows the operation)
422    operations with any parameter or body (the request does not fit the declared types)
429    operations with a throttle
=====  ============================================================================================

Other statuses an operation answers are declared on it: in its ``response={...}`` (with :class:`ErrorOut`) or
with ``@may_answer(403, 413, ...)``. Security: operations with ``auth=API_AUTH`` get the bearer token and the session
(+ CSRF header for writes) schemes; operations that authenticate callers themselves say which schemes they accept
with ``@signed_in("session", "bearer", ...)``; operations anyone may call are marked ``@public``.
:func:`contract_problems` lists every operation that breaks the rule, with the line to add.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.client import responses as http_phrases
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Schema, Swagger
from ninja.openapi.docs import _csrf_needed
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie

from .registry import Registry

F = TypeVar("F", bound=Callable[..., Any])

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ERROR_REF = "#/components/schemas/ErrorOut"


class ErrorOut(Schema):
    """The one error body of the API (see ``core/errors.py``): a stable ``code``, a Chinese ``message`` for people
    and, for some errors, a ``detail`` (e.g. ``{"errors": [{"field", "message"}]}`` for 422)."""

    code: str
    message: str
    detail: Any = None


#: What each error status means, for the document (English, the codes are stable; messages are Chinese).
ERROR_MEANINGS: dict[int, str] = {
    400: "Malformed request or refused operation (`request.malformed`, or a domain error's code)",
    401: "Not signed in: no or invalid session / bearer token / key (`auth.required`)",
    403: "Signed in but not allowed: role, ownership, or missing CSRF token on a session write (`auth.forbidden`)",
    404: "The object named in the path does not exist or is hidden from the caller (`not_found`)",
    409: "The object is not in a state that allows the operation",
    413: "Upload too large",
    422: "The request does not fit the declared parameters or body (`request.invalid`, detail.errors)",
    429: "Too many requests or sign-in attempts (`request.throttled`, `auth.locked`)",
    502: "An upstream system answered wrongly",
    503: "An upstream system is unavailable",
}


# --- security schemes ----------------------------------------------------------------------------------------

#: The security schemes operations may name (``components.securitySchemes``); contexts add their own with
#: :func:`define_scheme` (e.g. the exchange's system key).
SECURITY_SCHEMES: Registry[str, dict[str, Any]] = Registry("OpenAPI 安全方案")

SECURITY_SCHEMES.register("bearer", {
    "type": "http", "scheme": "bearer",
    "description": "`Authorization: Bearer <token>`; the token comes from `POST /api/auth/token`."})
SECURITY_SCHEMES.register("session", {
    "type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME,
    "description": "The browser session of a signed-in user (/accounts/login/); writes also need `csrf`."})
SECURITY_SCHEMES.register("csrf", {
    "type": "apiKey", "in": "header", "name": "X-CSRFToken",
    "description": "Django's CSRF token (cookie `csrftoken`), required with `session` on writes."})


#: Error statuses any operation accepting a scheme may answer (e.g. 429 when a password scheme meets the sign-in
#: lockout), by scheme.
SCHEME_ANSWERS: dict[str, frozenset[int]] = {}


def define_scheme(key: str, /, *, answers: Iterable[int] = (), **spec: Any) -> str:
    """Register a security scheme (OpenAPI Security Scheme Object fields; ``in_`` for ``in``) under ``key`` and
    return ``key``, for ``@signed_in(key, ...)``. ``answers``: error statuses every operation accepting it may
    answer because of it (e.g. ``(429,)`` for a password checked against the sign-in lockout)."""
    if "in_" in spec:
        spec["in"] = spec.pop("in_")
    SECURITY_SCHEMES.register(key, spec)
    if answers:
        SCHEME_ANSWERS[key] = frozenset(answers)
    return key


# --- per-operation declarations ------------------------------------------------------------------------------


@dataclass
class OperationDoc:
    """What a view function declares about itself (set by the decorators below)."""

    public: bool = False
    schemes: tuple[str, ...] = ()
    errors: set[int] = field(default_factory=set)


def _doc(func: Callable[..., Any]) -> OperationDoc:
    doc = func.__dict__.get("_tongban_openapi")
    if doc is None:
        doc = OperationDoc()
        func.__dict__["_tongban_openapi"] = doc
    return doc


def public(func: F) -> F:
    """Anyone may call this operation, signed in or not (it is documented as public; ``security: []``)."""
    _doc(func).public = True
    return func


def signed_in(*schemes: str) -> Callable[[F], F]:
    """The operation checks the caller itself (no router ``auth``) and accepts these security schemes (default:
    ``session`` and ``bearer``); it is documented with them and with 401. With ``@public`` as well, signing in is
    optional (anonymous callers are served too)."""
    unknown = [s for s in schemes if s not in SECURITY_SCHEMES]
    if unknown:
        raise ValueError(f"unknown security scheme(s) {unknown}: define them with define_scheme()")

    def mark(func: F) -> F:
        _doc(func).schemes = tuple(schemes) or ("session", "bearer")
        return func

    return mark


def may_answer(*statuses: int) -> Callable[[F], F]:
    """The operation can also answer these error statuses (e.g. 403 for role/ownership checks, 413, 503)."""

    def mark(func: F) -> F:
        _doc(func).errors.update(statuses)
        return func

    return mark


def operation_doc(operation: Operation) -> OperationDoc:
    func = inspect.unwrap(operation.view_func)
    return func.__dict__.get("_tongban_openapi") or operation.view_func.__dict__.get("_tongban_openapi") \
        or OperationDoc()


# --- what an operation answers -------------------------------------------------------------------------------


def _auth_schemes(operation: Operation) -> list[str]:
    names = []
    for callback in operation.auth_callbacks:
        if isinstance(callback, HttpBearer):
            names.append("bearer")
        elif isinstance(callback, APIKeyCookie) and callback.param_name == settings.SESSION_COOKIE_NAME:
            names.append("session")
    return names


def security_of(operation: Operation) -> list[dict[str, list[str]]] | None:
    """The operation's security requirements (alternatives), ``[]`` for a public one, None when undeclared."""
    doc = operation_doc(operation)
    schemes = _auth_schemes(operation) if operation.auth_callbacks else list(doc.schemes)
    if not schemes:
        return [] if doc.public else None
    write = bool(set(operation.methods) & WRITE_METHODS)
    requirements: list[dict[str, list[str]]] = []
    for name in schemes:
        requirement: dict[str, list[str]] = {name: []}
        if name == "session" and write:
            requirement["csrf"] = []
        requirements.append(requirement)
    if doc.public:  # optional sign-in: anonymous callers too
        requirements.append({})
    return requirements


def error_statuses(operation: Operation) -> set[int]:
    """The error statuses the platform can answer for ``operation``, by kind, plus those it declares."""
    doc = operation_doc(operation)
    sources = {getattr(m, "__ninja_param_source__", "") for m in operation.models}
    write = bool(set(operation.methods) & WRITE_METHODS)
    security = security_of(operation)
    authenticated = bool(security and {} not in security)
    codes = set(doc.errors)
    for requirement in security or ():
        for name in requirement:
            codes |= SCHEME_ANSWERS.get(name, frozenset())
    if sources:
        codes.add(422)
    if sources & {"body", "form", "file"} or write:
        codes.add(400)
    if "path" in sources:
        codes.add(404)
    if authenticated:
        codes.add(401)
        if write:
            codes |= {403, 409}
    if operation.throttle_objects:
        codes.add(429)
    return codes


class TongbanOpenAPISchema(OpenAPISchema):
    """ninja's document, with the error statuses and security schemes of :mod:`tongban.core.openapi`."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        if "ErrorOut" not in self.schemas:
            self.schemas["ErrorOut"] = ErrorOut.model_json_schema(mode="serialization")
        error_schema = {"$ref": ERROR_REF}
        for status in sorted(error_statuses(operation)):
            if status not in result:
                result[status] = {
                    "description": ERROR_MEANINGS.get(status, http_phrases.get(status, "Error")),
                    "content": {self.api.renderer.media_type: {"schema": error_schema}},
                }
        return dict(sorted(result.items()))

    def operation_security(self, operation: Operation) -> list[dict[str, Any]] | None:
        security = security_of(operation)
        if security is None:
            return super().operation_security(operation)
        for requirement in security:
            for name in requirement:
                self.securitySchemes[name] = SECURITY_SCHEMES.get(name)
        return security

    def operation_details(self, operation: Operation) -> dict[str, Any]:
        details = super().operation_details(operation)
        security = security_of(operation)
        if security == []:  # ninja leaves out an empty list: say it, it is a declaration
            details["security"] = []
        if operation_doc(operation).public:
            details["x-tongban-public"] = True
        return details


class OfflineSwagger(Swagger):
    """``/api/docs`` with the Swagger UI vendored in ``core/static/core/vendor/swagger-ui``: always this template,
    never django-ninja's CDN fallback, and no validator badge (it would call validator.swagger.io)."""

    template = "core/api_docs.html"

    def __init__(self) -> None:
        super().__init__(settings={"validatorUrl": None, "layout": "BaseLayout", "deepLinking": True})

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        return render(request, self.template, {"swagger_settings": json.dumps(self.settings), "api": api,
                                               "add_csrf": _csrf_needed(api)})


class TongbanAPI(NinjaAPI):
    """The project's NinjaAPI: its OpenAPI document is a :class:`TongbanOpenAPISchema`; its docs page the vendored
    Swagger UI (:class:`OfflineSwagger`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("docs", OfflineSwagger())
        super().__init__(*args, **kwargs)

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return TongbanOpenAPISchema(api=self, path_prefix=path_prefix)


# --- the contract --------------------------------------------------------------------------------------------


def contract_problems(document: dict[str, Any]) -> list[str]:
    """Every operation of ``document`` that breaks the rule, each with what to add to its view."""
    problems = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path} ({op.get('operationId')})"
            security = op.get("security")
            if security is None:
                problems.append(
                    f"{where}: declares no security and is not marked public. Give its Router "
                    f"auth=API_AUTH (tongban.core.auth), or decorate the view with @signed_in(...) if it checks "
                    f"the caller itself, or with @public if anyone may call it (tongban.core.openapi).")
            elif security == [] and not op.get("x-tongban-public"):
                problems.append(f"{where}: security is empty but the operation is not marked @public.")
            statuses = {int(s) for s in op["responses"] if str(s).isdigit()}
            errors_ = {s for s in statuses if s >= 400}
            if security and {} not in security and 401 not in errors_:
                problems.append(f"{where}: needs a signed-in caller but does not document 401.")
            has_input = bool(op.get("parameters")) or "requestBody" in op
            if has_input and 422 not in errors_:
                problems.append(f"{where}: has parameters but does not document 422 (request.invalid).")
            for status in sorted(errors_):
                content: dict[str, Any] = op["responses"][status if status in op["responses"] else str(status)].get(
                    "content", {})
                media: dict[str, Any] = next(iter(content.values()), {}) if content else {}
                schema = media.get("schema", {})
                if schema.get("$ref") != ERROR_REF:
                    problems.append(
                        f"{where}: error status {status} is not documented with the one error body "
                        f"(response={{{status}: ErrorOut}} from tongban.core.openapi).")
    return problems


def documented_statuses(document: dict[str, Any]) -> dict[tuple[str, str], set[int]]:
    """``(METHOD, path) → documented statuses``."""
    return {(method.upper(), path): {int(s) for s in op["responses"] if str(s).isdigit()}
            for path, operations in document["paths"].items() for method, op in operations.items()}


def iter_operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            yield method.upper(), path, op


def fuzz_examples() -> int:
    """``TONGBAN_FUZZ_EXAMPLES``: generated requests per operation, role and generation mode in the API contract
    test (tongban/tests/test_openapi_contract.py); small by default so the run stays short."""
    import os

    return max(1, int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "2")))


def fuzz_derandomized() -> bool:
    """``TONGBAN_FUZZ_SEED``: the contract test sends the same requests on every run (CI) unless it is ``random``."""
    import os

    return os.environ.get("TONGBAN_FUZZ_SEED", "") != "random"
