"""Elder mode (适老化), after the national age-friendly web design specification (互联网网站适老化通用设计规范):
larger text, higher contrast, bigger click targets, no timed interactions, a simplified applicant flow.

The switch is a plain link on every page (``GET /elder/?on=1&next=/path``): it works without JavaScript and sets a
long-lived cookie, so the choice is remembered on this device. Only a display preference: no data changes, which is
why a GET link is acceptable. Templates read ``elder_mode`` (tongban/context_processors.py) and put the class
``elder`` on <html>; the CSS is in tongban/static/tongban/tongban.css (``html.elder …``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

COOKIE = "tongban_elder"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie


def is_on(request: HttpRequest) -> bool:
    return request.COOKIES.get(COOKIE) == "1"


def safe_next(request: HttpRequest, raw: str | None) -> str:
    """``next`` when it is a path of this site, else the home page (no open redirect)."""
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return raw
    return "/"


def switch(request: HttpRequest) -> HttpResponse:
    """Turn elder mode on (``on=1``) or off (anything else) and go back to ``next``."""
    response = HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    if request.GET.get("on") == "1":
        response.set_cookie(COOKIE, "1", max_age=MAX_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure())
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
