"""Chinese names for codes shown to people (issue 16, item 1): one place every page asks.

A code that reaches a page (an organisation code, a data resource, a data field, a licence type, a role, a
workflow step or variable, a result code) is turned into the Chinese title its own catalogue gives it. Each
context registers the names it owns under a *kind* in :data:`LABELS` (in its ``AppConfig.ready()``), either a
resolver function ``code -> name | None`` or a fixed mapping::

    labels.register("data_resource", lambda code: titles().get(code))

Templates use the filters of ``core/templatetags/plain.py``: ``{{ code|label:"data_resource" }}``,
``{{ code|org_name }}``, ``{{ value|local_time }}``. An unknown code falls back to the kind's ``fallback``
word (never the raw snake_case code) so nothing technical leaks onto a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from django.utils.translation import gettext as _

from .registry import Registry

Resolver = Callable[[str], "str | None"]

LABELS: Registry[str, list[Resolver]] = Registry("代码名称")

# Words shared by every context: generic field and value names that appear in schemas, logs and variables.
COMMON: dict[str, str] = {
    "name": "名称", "status": "状态", "type": "类型", "text": "内容", "address": "地址", "number": "号码",
    "location": "位置", "usage": "用途", "gender": "性别", "sex": "性别", "ethnicity": "民族",
    "subject": "对象", "division": "行政区划", "urgency": "紧急程度", "anonymous": "匿名",
    "string": "文本", "integer": "整数", "number_type": "数字", "boolean": "是/否", "array": "列表",
    "object": "对象", "date": "日期", "system": "系统", "approve": "同意", "approved": "同意",
    "reject": "不同意", "rejected": "不同意", "return": "退回补正", "returned": "退回补正", "accept": "受理",
    "accepted": "已受理", "refuse": "不予受理", "refused": "不予受理", "done": "已完成", "new": "新建",
    "closed": "已办结", "public": "公众", "open": "办理中", "manual": "人工", "auto": "自动",
}


def register(kind: str, resolver: Resolver | Mapping[str, str]) -> None:
    """Add a resolver (or a fixed mapping) for ``kind``; several contexts may add names to the same kind."""
    fn: Resolver = resolver.get if isinstance(resolver, Mapping) else resolver
    try:
        resolvers = LABELS.get(kind)
    except LookupError:
        resolvers = LABELS.register(kind, [])
    if fn not in resolvers:
        resolvers.append(fn)


def name(kind: str, code: object, fallback: str | None = None) -> str:
    """The Chinese name of ``code`` of ``kind``; then a common word; then ``fallback`` (or the code itself
    when it is not an identifier, e.g. already Chinese)."""
    if code is None or code == "":
        return ""
    text = str(code)
    try:
        resolvers = LABELS.get(kind)
    except LookupError:
        resolvers = []
    for resolver in resolvers:
        found = resolver(text)
        if found:
            return found
    if text in COMMON:
        return _(COMMON[text])
    if fallback is not None and _looks_like_code(text):
        return fallback
    return text


def names(kind: str, codes: Iterable[object], sep: str = "、") -> str:
    return sep.join(name(kind, c) for c in codes)


def _looks_like_code(text: str) -> bool:
    return text.isascii() and any(ch.isalpha() for ch in text) and " " not in text


_CACHE: dict[str, dict[str, str]] = {}
_MISSES: dict[str, set[str]] = {}


def _cached(kind: str, load: Callable[[], dict[str, str]]) -> Resolver:
    def resolve(code: str) -> str | None:
        if kind not in _CACHE:
            _CACHE[kind] = load()
        found = _CACHE[kind].get(code)
        if found is None and code not in _MISSES.setdefault(kind, set()):
            # rows written without save() (bulk loads) do not clear the cache: reload once per unknown code
            _MISSES[kind].add(code)
            _CACHE[kind] = load()
            found = _CACHE[kind].get(code)
        return found

    return resolve


def clear_cache(*_args: object, **_kwargs: object) -> None:
    """Drop the cached names (connected to saves of organisations and roles; tests call it too)."""
    _CACHE.clear()
    _MISSES.clear()


def cached(kind: str, load: Callable[[], dict[str, str]]) -> None:
    """Register a resolver that loads all names of ``kind`` at once and keeps them until :func:`clear_cache`."""
    register(kind, _cached(kind, load))


def _organisations() -> dict[str, str]:
    from .models import Organisation

    return dict(Organisation.objects.values_list("code", "name"))


def _roles() -> dict[str, str]:
    from .models import Role

    return dict(Role.objects.values_list("code", "name"))


SCHEMA_TYPES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
                "object": "对象", "null": "空"}


def install_core_labels() -> None:
    register("schema_type", SCHEMA_TYPES)
    cached("organisation", _organisations)
    cached("role", _roles)
