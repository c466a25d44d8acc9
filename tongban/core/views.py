from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import site
from .demo import DEMO_PASSWORD, USERS
from .models import User


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {})


def site_css(request: HttpRequest) -> HttpResponse:
    """The site's colours as a stylesheet (``/site.css``): a file, so the Content-Security-Policy needs no inline
    style. Cached briefly; the colour is validated as ``#RRGGBB`` when saved."""
    body = f":root {{ --accent: {site.current().accent_colour}; }}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def demo_accounts() -> list[dict[str, str]]:
    """The demo accounts shown on the login page: core's, then those other contexts' demo data added."""
    known = [u[0] for u in USERS]
    others = User.objects.exclude(username__in=known).filter(is_active=True).order_by("username")
    return [{"username": u[0], "name": u[1], "password": DEMO_PASSWORD} for u in USERS] + [
        {"username": u.username, "name": str(u), "password": DEMO_PASSWORD} for u in others[:30]]


class LoginView(auth_views.LoginView):
    """The login page; lists the demo accounts when the demo data set is loaded."""

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        if settings.TONGBAN_SHOW_DEMO_ACCOUNTS and User.objects.filter(username="admin").exists():
            context["demo_accounts"] = demo_accounts()
        from . import oidc

        if oidc.enabled():
            context["oidc_label"] = oidc.label()
        return context
