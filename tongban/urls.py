"""URL configuration: admin, API, accounts, language switch, and each bounded context's pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tongban.api import api
from tongban.apps_registry import context_modules
from tongban.core.views import LoginView

admin.site.site_header = "通办 tongban 管理后台"
admin.site.site_title = "通办 tongban"
admin.site.index_title = "政务服务管理"

# A path under /api/ that names no operation answers the one JSON error body (core/errors.py).
handler404 = "tongban.core.errors.api_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Each app's urls.py is mounted at the root; apps prefix their own paths. core is last: it owns "/".
urlpatterns += [path("", include(module.__name__)) for _, module in context_modules("urls", core_last=True)]
