"""Unified identity (统一身份认证): an optional OpenID Connect sign-in next to the username/password login.

mozilla-django-oidc does the protocol (authorisation code flow with PKCE, state and nonce, the ID token's signature
checked against the provider's JWKS, userinfo); this module configures it from the platform's settings and maps
the provider's claims onto ``User``: the person is found by the keyed hash of their ID number (身份证号 or 统一社会
信用代码, encrypted at rest: docs/privacy.md), or created, with ``kind`` (自然人 / 法人) and ``id_number`` from the claims.

Settings (README): ``TONGBAN_OIDC_ISSUER`` turns it on (its endpoints are read once from
``ISSUER/.well-known/openid-configuration``); ``TONGBAN_OIDC_CLIENT_ID`` / ``TONGBAN_OIDC_CLIENT_SECRET``;
``TONGBAN_OIDC_SCOPES``; ``TONGBAN_OIDC_SIGN_ALGO``; the claim names ``TONGBAN_OIDC_ID_NUMBER_CLAIM``,
``TONGBAN_OIDC_KIND_CLAIM``, ``TONGBAN_OIDC_NAME_CLAIM``; ``TONGBAN_OIDC_LABEL`` (the login page's button);
``TONGBAN_OIDC_VERIFY_SSL``. Staff accounts never sign in this way: the provider is for citizens and companies.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import pii
from .models import User

log = logging.getLogger("tongban.oidc")

KINDS = {"natural": User.Kind.NATURAL_PERSON, "自然人": User.Kind.NATURAL_PERSON, "person": User.Kind.NATURAL_PERSON,
         "individual": User.Kind.NATURAL_PERSON, "1": User.Kind.NATURAL_PERSON,
         "legal": User.Kind.LEGAL_PERSON, "法人": User.Kind.LEGAL_PERSON, "company": User.Kind.LEGAL_PERSON,
         "organization": User.Kind.LEGAL_PERSON, "enterprise": User.Kind.LEGAL_PERSON, "2": User.Kind.LEGAL_PERSON}
_DISCOVERY: dict[str, tuple[float, dict[str, Any]]] = {}
_LOCK = threading.Lock()
DISCOVERY_SECONDS = 3600.0


def _setting(name: str, default: str = "") -> str:
    return str(getattr(settings, name, "") or default)


def issuer() -> str:
    return _setting("TONGBAN_OIDC_ISSUER").rstrip("/")


def enabled() -> bool:
    return bool(issuer())


def label() -> str:
    return _setting("TONGBAN_OIDC_LABEL", "统一身份认证登录")


def _verify_ssl() -> bool:
    return str(getattr(settings, "TONGBAN_OIDC_VERIFY_SSL", True)).lower() not in ("0", "false", "no", "off")


def discovery() -> dict[str, Any]:
    """The provider's metadata (``/.well-known/openid-configuration``), cached for an hour."""
    iss = issuer()
    now = time.monotonic()
    with _LOCK:
        hit = _DISCOVERY.get(iss)
        if hit is not None and now - hit[0] < DISCOVERY_SECONDS:
            return hit[1]
    response = requests.get(f"{iss}/.well-known/openid-configuration", timeout=10, verify=_verify_ssl())
    response.raise_for_status()
    meta = response.json()
    if str(meta.get("issuer", "")).rstrip("/") != iss:
        raise SuspiciousOperation(f"OIDC provider metadata names issuer {meta.get('issuer')!r}, expected {iss!r}")
    with _LOCK:
        _DISCOVERY[iss] = (now, meta)
    return meta


def clear_discovery_cache() -> None:
    _DISCOVERY.clear()


def oidc_setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, taken from the platform's ``TONGBAN_OIDC_*`` and the provider's metadata."""
    endpoints = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint", "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
                 "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint", "OIDC_OP_JWKS_ENDPOINT": "jwks_uri"}
    if attr in endpoints:
        return discovery()[endpoints[attr]]
    own = {"OIDC_RP_CLIENT_ID": _setting("TONGBAN_OIDC_CLIENT_ID"),
           "OIDC_RP_CLIENT_SECRET": _setting("TONGBAN_OIDC_CLIENT_SECRET"),
           "OIDC_RP_SIGN_ALGO": _setting("TONGBAN_OIDC_SIGN_ALGO", "RS256"),
           "OIDC_RP_SCOPES": _setting("TONGBAN_OIDC_SCOPES", "openid profile"),
           "OIDC_USE_PKCE": True, "OIDC_USE_NONCE": True, "OIDC_VERIFY_SSL": _verify_ssl(), "OIDC_TIMEOUT": 10,
           "OIDC_STORE_ID_TOKEN": False, "OIDC_STORE_ACCESS_TOKEN": False,
           "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_callback",
           "LOGIN_REDIRECT_URL": "/", "LOGIN_REDIRECT_URL_FAILURE": "/accounts/login/?oidc=failed"}
    if attr in own:
        return own[attr]
    return import_from_settings(attr, *args)


def _claim(claims: dict[str, Any], setting: str, default: str) -> str:
    return str(claims.get(_setting(setting, default)) or "").strip()


class OIDCBackend(OIDCAuthenticationBackend):
    """The unified identity platform as an authentication backend (in ``AUTHENTICATION_BACKENDS`` when
    ``TONGBAN_OIDC_ISSUER`` is set)."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not enabled() or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        number = _claim(claims, "TONGBAN_OIDC_ID_NUMBER_CLAIM", "id_number")
        kind = _claim(claims, "TONGBAN_OIDC_KIND_CLAIM", "user_kind") or "natural"
        if not number:
            log.warning("OIDC sign-in refused: no ID number in the claims (%s)", sorted(claims))
            return False
        if kind.lower() not in KINDS and kind not in KINDS:
            log.warning("OIDC sign-in refused: unknown user kind %r", kind)
            return False
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        number = _claim(claims, "TONGBAN_OIDC_ID_NUMBER_CLAIM", "id_number")
        # a staff account is never entered through the citizens' identity provider
        return (User.objects.filter(pii.matching("id_number", number)).exclude(kind=User.Kind.STAFF)
                .exclude(is_staff=True).order_by("pk"))

    def _fields(self, claims: dict[str, Any]) -> dict[str, Any]:
        kind = _claim(claims, "TONGBAN_OIDC_KIND_CLAIM", "user_kind") or "natural"
        fields: dict[str, Any] = {"kind": KINDS.get(kind.lower(), KINDS.get(kind, User.Kind.NATURAL_PERSON)),
                                  "id_number": _claim(claims, "TONGBAN_OIDC_ID_NUMBER_CLAIM", "id_number")}
        name = _claim(claims, "TONGBAN_OIDC_NAME_CLAIM", "name")
        if name:
            fields["display_name"] = name[:100]
        if claims.get("email") and claims.get("email_verified", True):
            fields["email"] = str(claims["email"])[:254]
        if claims.get("phone_number"):
            fields["phone"] = str(claims["phone_number"])[:20]
        return fields

    def create_user(self, claims: dict[str, Any]) -> User:
        base = "u-" + re.sub(r"[^\w.@+-]", "", str(claims.get("sub") or ""))[:60]
        username, n = base, 1
        while User.objects.filter(username=username).exists():
            n += 1
            username = f"{base}-{n}"
        user = User(username=username, **self._fields(claims))
        user.set_unusable_password()  # signs in through the identity provider only
        user.save()
        log.info("OIDC: account %s created for subject %s", username, claims.get("sub"))
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        fields = self._fields(claims)
        changed = [k for k, v in fields.items() if getattr(user, k) != v]
        for key in changed:
            setattr(user, key, fields[key])
        if changed:
            user.save(update_fields=changed)
        return user


class AuthenticateView(OIDCAuthenticationRequestView):
    """``/oidc/authenticate/``: off → back to the login page; on → to the identity provider."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)  # endpoints are read in get()

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            messages.info(request, "本平台未接入统一身份认证，请使用账号密码登录")
            return redirect("login")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, KeyError, SuspiciousOperation):
            log.exception("OIDC provider metadata not available")
            messages.warning(request, "统一身份认证平台暂时无法访问，请稍后再试或使用账号密码登录")
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = oidc_setting("OIDC_RP_CLIENT_ID")
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """``/oidc/callback/``: the provider sends the person back here with a code."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def login_failure(self) -> HttpResponse:
        if enabled():
            messages.warning(self.request, "统一身份认证登录未成功，请重试或使用账号密码登录")
        return redirect("login")
