from django.urls import path

from . import oidc, views

urlpatterns = [
    path("", views.home, name="home"),
    path("site.css", views.site_css, name="site_css"),
    # 统一身份认证 (OpenID Connect, optional: tongban/core/oidc.py)
    path("oidc/authenticate/", oidc.AuthenticateView.as_view(), name="oidc_authenticate"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_callback"),
]
