"""Bearer tokens for every endpoint: ``Authorization: Bearer <token>`` (from ``POST /api/auth/token``)
authenticates the request as its user in every context's API and page, like a session does.

A request that carries a valid token is not exposed to cross-site request forgery (a browser never adds
the header by itself), so it is exempt from the CSRF check; a bad token is simply not a login.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .auth import user_for_token


class BearerTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            user = user_for_token(token)
            request._tongban_bearer = (token, user)  # type: ignore[attr-defined]  # the API's auth reuses it
            if user is not None:
                request.user = user
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # Django's private CSRF flag
        return self.get_response(request)


class ChineseFirstMiddleware:
    """Chinese (zh-Hans) is the platform's language unless the user picked another one with the language
    switch (the language cookie): a browser's Accept-Language alone does not switch a government service's
    pages to English. Must come before ``django.middleware.locale.LocaleMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
