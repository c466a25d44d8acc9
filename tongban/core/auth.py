"""API authentication: the browser session (with CSRF) or a bearer token issued by ``POST /api/auth/token``.

Tokens are stateless, signed with the secret key (django.core.signing) and expire after
``TONGBAN_API_TOKEN_MAX_AGE`` seconds (default 8 hours). Government deployments replace the demo identity
provider (Django accounts) by their unified identity platform behind the same two entry points.

Sign-in is throttled: too many failures lock the account or the client address for a while
(``core/login_protection.py``); :func:`login` then raises :class:`LoginLocked` (429 ``auth.locked``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from .login_protection import LoginLocked, is_locked_out
from .models import User

SALT = "tongban.api-token"


def max_age() -> int:
    return int(getattr(settings, "TONGBAN_API_TOKEN_MAX_AGE", 8 * 3600))


def issue_token(user: User) -> str:
    return signing.dumps({"uid": user.pk, "pw": user.password[-12:]}, salt=SALT, compress=True)


def user_for_token(token: str) -> User | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("uid"), is_active=True).first()
    # A password change invalidates the tokens issued before it.
    if user is None or user.password[-12:] != data.get("pw"):
        return None
    return user


def login(request: HttpRequest, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; raises :class:`LoginLocked` while the account or the
    client's address is locked out (even for the right password)."""
    user = authenticate(request, username=username, password=password)
    if is_locked_out(request):
        raise LoginLocked()
    return user if user is not None and user.is_active else None


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        checked = getattr(request, "_tongban_bearer", None)  # BearerTokenMiddleware checked this token already
        user = checked[1] if checked is not None and checked[0] == token else user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SignedInSession(SessionAuth):
    """The browser session of a signed-in user. The CSRF check (writes) applies to a signed-in session only, so an
    anonymous caller is answered 401 (not signed in), not 403 (ninja checks CSRF before looking at the session)."""

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)


# For routers and operations: ``auth=API_AUTH``.
API_AUTH = [BearerToken(), SignedInSession()]


class AuthedRequest(HttpRequest):
    """The type of ``request`` in views and API operations that require a signed-in user (login_required, the
    API's auth): ``request.user`` is a :class:`User`, never ``AnonymousUser`` (for the type checker only)."""

    user: User
