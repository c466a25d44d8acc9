"""The shared plumbing every context uses: the error base and its API handler, the registry, the JSON Schema
translator and context discovery."""

from __future__ import annotations

import jsonschema
import pytest
from django.test import Client
from ninja import NinjaAPI, Router

from tongban.apps_registry import BOUNDED_CONTEXTS, INSTALLED_CONTEXTS, context_modules
from tongban.core import schema_messages
from tongban.core.errors import DomainError, install_api_handlers
from tongban.core.registry import DuplicateRegistration, NotRegistered, Registry

# --- errors -----------------------------------------------------------------------------------------------


class _Missing(DomainError):
    code = "test.missing"
    status = 404


def test_domain_error_has_one_argument_order_and_class_defaults():
    err = DomainError("办件不存在", code="applications.not_found", status=404, detail={"ref": "X"})
    assert (err.message, err.code, err.status, err.detail) == ("办件不存在", "applications.not_found", 404, {"ref": "X"})
    assert str(err) == "办件不存在"
    assert err.as_dict() == {"code": "applications.not_found", "message": "办件不存在", "detail": {"ref": "X"}}
    sub = _Missing("没有")
    assert (sub.code, sub.status, sub.as_dict()) == ("test.missing", 404, {"code": "test.missing", "message": "没有"})
    assert _Missing("没有", status=410).status == 410 and _Missing.status == 404


@pytest.fixture
def _api(settings):
    """A tiny API mounted on its own URL conf, with the one handler installed."""
    api = NinjaAPI(urls_namespace="plumbing-test")
    install_api_handlers(api)
    router = Router()

    @router.get("/refuse")
    def refuse(request):
        raise _Missing("证照不存在", detail=[{"field": "id"}])

    @router.get("/number")
    def number(request, n: int):
        return {"n": n}

    api.add_router("", router)
    import types

    from django.urls import path

    module = types.ModuleType("plumbing_urls")
    module.urlpatterns = [path("t/", api.urls)]
    import sys

    sys.modules["plumbing_urls"] = module
    settings.ROOT_URLCONF = "plumbing_urls"
    yield
    del sys.modules["plumbing_urls"]


def test_the_one_handler_answers_code_message_detail_and_status(_api):
    answer = Client().get("/t/refuse")
    assert answer.status_code == 404
    assert answer.json() == {"code": "test.missing", "message": "证照不存在", "detail": [{"field": "id"}]}
    bad = Client().get("/t/number?n=abc")
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"
    assert bad.json()["detail"]["errors"][0]["field"] == "n"


# --- registry ---------------------------------------------------------------------------------------------


def test_registry_refuses_a_different_value_under_a_taken_key():
    reg: Registry[str, object] = Registry("测试插件")
    first, second = object(), object()
    reg.register("a", first)
    reg.register("a", first)  # the same value again is harmless (a module imported twice)
    with pytest.raises(DuplicateRegistration, match="'a' is already registered"):
        reg.register("a", second)
    assert reg.get("a") is first
    reg.register("a", second, replace=True)
    assert reg.get("a") is second
    with pytest.raises(NotRegistered, match="nothing registered under 'b'"):
        reg.get("b")
    assert reg.find("b") is None and "a" in reg and len(reg) == 1 and reg.keys() == ["a"]


def test_registry_decorator_and_isolation():
    reg: Registry[str, object] = Registry("handlers")

    @reg.decorator("x")
    def handler() -> None:
        return None

    assert reg.get("x") is handler
    with reg.isolated():
        reg.register("temp", object())
        reg.unregister("x")
        assert "temp" in reg and "x" not in reg
    assert reg.items() == [("x", handler)]


# --- JSON Schema messages -----------------------------------------------------------------------------------


SCHEMA = {
    "type": "object",
    "required": ["name", "age"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0},
                   "kind": {"enum": ["a", "b"]}, "born": {"type": "string", "format": "date"}},
}


def test_problems_point_at_the_field_in_chinese():
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    rows = schema_messages.problems(validator, {"name": "", "kind": "c", "born": "2026-13-01", "extra": 1})
    by_field = {p.field: p.message for p in rows}
    assert by_field["age"] == "缺少必填字段 “age”"
    assert by_field["name"] == "不能为空"
    assert by_field["kind"] == "取值 \"c\" 无效，应为以下之一：a、b"
    assert by_field["born"] == "取值 \"2026-13-01\" 不是有效的日期（YYYY-MM-DD）"
    assert by_field["extra"] == "不允许的字段 “extra”"
    assert schema_messages.problems(validator, {"name": "张三", "age": 3}) == []


def test_message_of_type_and_path_text():
    err = next(jsonschema.Draft202012Validator(SCHEMA).iter_errors({"name": 5, "age": 1}))
    assert schema_messages.message(err) == "类型错误：应为字符串，实际为 5"
    assert schema_messages.path_text(["items", 3, "name"]) == "items[3].name"
    assert schema_messages.path_text([]) == "(根对象)"


# --- context discovery --------------------------------------------------------------------------------------


def test_installed_apps_come_from_the_registry(settings):
    assert [n for n in BOUNDED_CONTEXTS if f"tongban.{n}" in settings.INSTALLED_APPS] == INSTALLED_CONTEXTS
    assert INSTALLED_CONTEXTS[0] == "core" and "workflow" in INSTALLED_CONTEXTS


def test_context_modules_in_dependency_order_and_core_last():
    names = [name for name, _ in context_modules("urls")]
    assert names[0] == "core" and names.index("catalog") < names.index("applications")
    assert [name for name, _ in context_modules("urls", core_last=True)][-1] == "core"
    assert all(module.__name__ == f"tongban.{name}.cli" for name, module in context_modules("cli"))
    assert list(context_modules("no_such_module")) == []
