"""A URL configuration for the refused-request log tests: one view per kind of answer."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path


def forbidden(request):
    raise PermissionDenied("仅限工作人员")


def missing(request):
    raise Http404("不存在")


def unauthorised(request):
    return HttpResponse("请先登录", status=401)


def broken(request):
    raise RuntimeError("boom: a real fault")


urlpatterns = [
    path("forbidden/", forbidden),
    path("missing/", missing),
    path("unauthorised/", unauthorised),
    path("broken/", broken),
]
