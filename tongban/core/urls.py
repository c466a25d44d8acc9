from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("site.css", views.site_css, name="site_css"),
]
