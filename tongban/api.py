"""The JSON API root (django-ninja). Each bounded context contributes ``<app>/api.py`` with a ``router``."""

from __future__ import annotations

from tongban.apps_registry import context_modules
from tongban.core.errors import install_api_handlers
from tongban.core.openapi import TongbanAPI

api = TongbanAPI(
    title="tongban 通办 API",
    version="1",
    description="一网通办 integrated government service platform: catalogue, applications, workflow, "
    "data exchange and credentials.",
    urls_namespace="api",
)


install_api_handlers(api)

for _name, _module in context_modules("api"):
    _routers = getattr(_module, "ROUTERS", None)  # (not a getattr default: evaluated even when ROUTERS exists)
    for _router in _routers if _routers is not None else [("", _module.router)]:
        api.add_router(*_router)
