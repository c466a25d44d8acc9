"""Login protection: throttling and temporary lockout per account and per client address (django-axes).

Every sign-in goes through Django's ``authenticate(request, ...)``: the login form (``/accounts/login/``), the
admin's login, the API's ``POST /api/auth/token`` and the credentials API's HTTP Basic callers. Axes counts
the failures per account (``TONGBAN_LOGIN_FAILURE_LIMIT``) and per client address
(``TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT``) over a sliding window of ``TONGBAN_LOGIN_COOLOFF_MINUTES``; at a limit
the account, or the address, is locked until the window has passed, and even the right password is refused
with 429 (the API: ``{"code": "auth.locked", "message": ...}``; the form: a page saying so).

A lockout and an administrator's unlock (admin: 登录失败记录 → 解除锁定, or 用户 → 解除登录锁定) each write a
core audit record (``auth.lockout``, ``auth.unlock``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .errors import DomainError
from .services import audit

LOCKOUT = "auth.lockout"
UNLOCK = "auth.unlock"


class LoginLocked(DomainError):
    """Too many failed sign-ins: the account or the address is locked for the cool-off time."""

    code = "auth.locked"
    status = 429

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or lockout_message())


def cooloff_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_message() -> str:
    return f"登录失败次数过多，该账户或登录地址已暂时锁定，请 {cooloff_minutes()} 分钟后再试，或联系管理员解锁"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``TONGBAN_PROXY_COUNT`` reverse proxies the address the
    outermost of them put in ``X-Forwarded-For`` (entries added by the client itself are ignored)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "TONGBAN_PROXY_COUNT", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        candidate = hops[-proxies] if len(hops) >= proxies else (hops[0] if hops else "")
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


def is_locked_out(request: HttpRequest) -> bool:
    """Whether axes refused (or just locked) the sign-in of this request."""
    return bool(getattr(request, "axes_locked_out", False))


class LoginProtectionBackend(AxesStandaloneBackend):
    """First authentication backend: refuses a sign-in of a locked-out account or address.

    A sign-in without a web request (a management command, the test client's ``login``) has no client to
    throttle and is passed on to the next backend; every web entry point passes its request.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginProtectionHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits (account, address) and an audit record for each new lockout."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Axes compares one number with ``AXES_FAILURE_LIMIT`` (the account limit): the address's failures are
        scaled so that reaching the address limit reaches the account limit too."""
        account, address = self.failures_by_scope(request, credentials)
        limit = int(settings.AXES_FAILURE_LIMIT)
        address_limit = int(settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT)
        return max(account, address * limit // address_limit)

    def failures_by_scope(self, request: HttpRequest, credentials: dict | None = None) -> tuple[int, int]:
        """Failures in the cool-off window for this account and for this address (AXES_LOCKOUT_PARAMETERS order)."""
        counts = [attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
                  for attempts in self.get_user_attempts(request, credentials)]
        counts += [0] * (2 - len(counts))
        return counts[0], counts[1]

    def reset_attempts(self, *, ip_address: str | None = None, username: str | None = None,
                       ip_or_username: bool = False, actor: Any = None, ip: str | None = None,
                       reason: str = "命令行解除登录锁定（manage axes_reset…）") -> int:
        """Every way of forgetting failures (admin, ``tongban manage axes_reset_username``/``axes_reset_ip``/
        ``axes_reset``) is audited when it removed anything."""
        removed = super().reset_attempts(ip_address=ip_address, username=username, ip_or_username=ip_or_username)
        if removed:
            target = {"username": username, "ip_address": ip_address}
            audit(UNLOCK, actor=actor, object_type="core.user" if username else ("address" if ip_address else ""),
                  object_id=str(username or ip_address or "*")[:64], reason=reason,
                  detail={**{k: v for k, v in target.items() if v}, "attempt_records_removed": removed}, ip=ip)
        return removed

    def user_login_failed(self, sender: Any, credentials: dict, request: HttpRequest | None = None,
                          **kwargs: Any) -> None:
        already_locked = is_locked_out(request) if request is not None else False
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or already_locked or not is_locked_out(request):
            return
        account, address = self.failures_by_scope(request, credentials)
        scope = "account" if account >= int(settings.AXES_FAILURE_LIMIT) else "address"
        username = get_client_username(request, credentials) or ""
        ip = getattr(request, "axes_ip_address", None)  # set by axes' middleware on every request
        audit(LOCKOUT, object_type="core.user" if scope == "account" else "address",
              object_id=(username if scope == "account" else ip or "")[:64],
              reason=f"登录连续失败，{'账户' if scope == 'account' else '登录地址'}锁定 {cooloff_minutes()} 分钟",
              detail={"username": username, "scope": scope, "account_failures": account,
                      "address_failures": address, "path": getattr(request, "axes_path_info", request.path),
                      "cooloff_minutes": cooloff_minutes()},
              ip=ip)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """The answer to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``): 429, JSON for the API, else a page."""
    error = LoginLocked()
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error.as_dict(), status=error.status,
                                              json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "registration/locked.html",
                          {"message": error.message, "minutes": cooloff_minutes()}, status=error.status)
    response["Retry-After"] = retry_after
    return response


# --- unlocking (an administrator's action; audited) -----------------------------------------------------------

def unlock(*, username: str | None = None, ip_address: str | None = None, actor: Any = None,
           ip: str | None = None) -> int:
    """Forget the failed sign-ins of an account or of an address (ends its lockout). Returns the attempt records
    removed; an unlock that removed any is audited."""
    if not username and not ip_address:
        raise DomainError("解除锁定须指明账户或登录地址", code="auth.unlock_target_required")
    handler = AxesProxyHandler.get_implementation()
    return handler.reset_attempts(username=username or None, ip_address=ip_address or None, actor=actor, ip=ip,
                                  reason="管理员解除登录锁定")


def unlock_records(records: Any, *, actor: Any = None, ip: str | None = None) -> int:
    """Delete these failed sign-in records (``axes.AccessAttempt``; the lockouts they make up end), each one
    audited."""
    removed = 0
    for record in list(records):
        target = record.username or record.ip_address or ""
        detail = {"username": record.username, "ip_address": record.ip_address,
                  "failures": record.failures_since_start, "attempt_records_removed": 1}
        record.delete()
        audit(UNLOCK, actor=actor, object_type="core.user" if record.username else "address",
              object_id=str(target)[:64], reason="管理员删除登录失败记录", detail=detail, ip=ip)
        removed += 1
    return removed
