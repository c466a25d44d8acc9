from django.urls import path

from . import elder, oidc, views

urlpatterns = [
    path("", views.home, name="home"),
    path("site.css", views.site_css, name="site_css"),
    # 适老化: the elder-mode switch (a display preference kept in a cookie)
    path("elder/", elder.switch, name="elder_switch"),
    # 统一身份认证 (OpenID Connect, optional: tongban/core/oidc.py)
    path("oidc/authenticate/", oidc.AuthenticateView.as_view(), name="oidc_authenticate"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_callback"),
]
