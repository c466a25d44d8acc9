"""OpenAPI tells the truth (issue 17 item 5): every operation documents its security and error statuses, and a short
schemathesis run over the whole API, as three roles, finds no 5xx and no status code the document does not list.

The fuzz run sends ``TONGBAN_FUZZ_EXAMPLES`` generated requests (default 2) per operation, role and generation mode
(valid and invalid data) through the WSGI application in-process; see docs/api.md.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from ninja import Router

from tongban.api import api
from tongban.core.auth import API_AUTH, issue_token
from tongban.core.models import User
from tongban.core.openapi import (
    TongbanAPI,
    contract_problems,
    fuzz_derandomized,
    fuzz_examples,
    may_answer,
    public,
    signed_in,
)

# --- (a) the document's rule -------------------------------------------------------------------------------


def test_every_operation_declares_security_or_is_public_and_documents_its_errors() -> None:
    problems = contract_problems(api.get_openapi_schema())
    assert not problems, "OpenAPI contract broken:\n" + "\n".join(problems)


def _tiny_api() -> dict[str, Any]:
    """A throwaway API with one operation of each kind, to see the rule's answers."""
    signed = Router(auth=API_AUTH)
    loose = Router()

    @signed.get("/things/{thing_id}")
    def read_thing(request: Any, thing_id: int) -> dict[str, Any]:
        return {}

    @signed.post("/things")
    @may_answer(404)
    def make_thing(request: Any, name: str) -> dict[str, Any]:
        return {}

    @loose.get("/open")
    @public
    def open_list(request: Any) -> list[int]:
        return []

    @loose.get("/self-checked")
    @signed_in("session")
    def self_checked(request: Any) -> list[int]:
        return []

    @loose.get("/forgotten")
    def forgotten(request: Any) -> list[int]:
        return []

    tiny = TongbanAPI(urls_namespace="tiny-openapi-test")
    tiny.add_router("/signed", signed)
    tiny.add_router("/loose", loose)
    return tiny.get_openapi_schema(path_prefix="/")


def test_the_hook_documents_errors_and_security_by_kind() -> None:
    doc = _tiny_api()
    read = doc["paths"]["/signed/things/{thing_id}"]["get"]
    assert set(read["responses"]) == {200, 401, 404, 422}
    assert read["security"] == [{"bearer": []}, {"session": []}]
    make = doc["paths"]["/signed/things"]["post"]
    assert set(make["responses"]) == {200, 400, 401, 403, 404, 409, 422}
    assert make["security"] == [{"bearer": []}, {"session": [], "csrf": []}]  # a session write needs the CSRF token
    assert make["responses"][401]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert doc["paths"]["/loose/open"]["get"]["security"] == []
    assert set(doc["paths"]["/loose/open"]["get"]["responses"]) == {200}
    assert doc["paths"]["/loose/self-checked"]["get"]["security"] == [{"session": []}]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "session", "csrf"}
    assert set(doc["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "detail"}


def test_an_operation_without_security_or_public_mark_is_reported_with_the_fix() -> None:
    problems = contract_problems(_tiny_api())
    assert len(problems) == 1, problems
    assert problems[0].startswith("GET /loose/forgotten")
    assert "auth=API_AUTH" in problems[0] and "@signed_in" in problems[0] and "@public" in problems[0]


# --- the one JSON error body for not-found and refused requests ----------------------------------------------


@pytest.mark.django_db
def test_a_path_under_api_that_names_no_operation_answers_the_json_error_body(client: Client) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"
    assert "text/html" in client.get("/no-such-page/").get("Content-Type", "")


@pytest.mark.django_db
def test_http404_inside_an_operation_answers_the_json_error_body(demo_core: None) -> None:
    from tongban.applications.models import Application

    zhang = User.objects.get(username="zhangsan")
    Application.objects.create(ref="OA-404", title="t", applicant=zhang, applicant_name="张三",
                               applicant_id_number=zhang.id_number)
    # get_object_or_404 inside the operation (the case is the caller's, the notice does not exist)
    response = Client().get("/api/applications/OA-404/notices/NO-SUCH.pdf",
                            headers={"Authorization": f"Bearer {issue_token(zhang)}"})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "请求的对象不存在"}


@pytest.mark.django_db
def test_an_anonymous_write_is_unauthenticated_and_a_session_write_needs_its_csrf_token(demo_core: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/api/applications", {}, content_type="application/json")
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "auth.required"
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="zhangsan"))
    response = client.post("/api/applications", {}, content_type="application/json")
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "auth.forbidden"


# --- what the fuzz run found (PostgreSQL) ----------------------------------------------------------------------


def test_input_the_database_cannot_hold_is_refused_as_invalid_not_a_server_error() -> None:
    """PostgreSQL refuses a NUL character in text and a value beyond a column's size (DataError); SQLite stores
    both, so the handler is shown on an operation that meets the error."""
    from django.db import DataError
    from ninja.testing import TestClient

    from tongban.core.errors import install_api_handlers

    tiny = TongbanAPI(urls_namespace="tiny-dataerror-test")
    install_api_handlers(tiny)

    @tiny.get("/echo")
    @public
    def echo(request: Any, q: str) -> dict[str, str]:
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    response = TestClient(tiny).get("/echo?q=%00")
    assert response.status_code == 422
    assert response.json()["code"] == "request.unstorable"


@pytest.mark.django_db
def test_a_consent_with_an_unknown_source_is_refused(demo_core: None) -> None:
    """Found by the fuzz run on PostgreSQL: ``source`` was stored unchecked (a 500 when longer than its column)."""
    client = Client()
    client.force_login(User.objects.get(username="zhangsan"))
    response = client.post("/api/exchange/consents", {"code": "hukou", "consumer_org": "yx-rsj", "purpose": "办事",
                                                      "source": "deploy_file"}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "exchange.invalid" and "deploy_file" in response.json()["message"]


# --- (b) the fuzz run ----------------------------------------------------------------------------------------

FUZZ_ROLES = {"anonymous": None, "citizen": "zhangsan", "approver": "approver-rsj"}
CSRF = "openapicontracttestcsrftoken00000"  # any 32+ character token: the cookie and the header must agree


@pytest.fixture
def demo(db: None, settings: Any) -> None:
    """The whole demo data set (catalogue, processes, data resources, licence types), so that list operations answer
    with data and bodies are checked against their schemas."""
    from rich.console import Console

    from tongban.demo import load_demo

    settings.TONGBAN_WORKFLOW_INLINE = True
    load_demo(Console(quiet=True))


@pytest.fixture
def wsgi_app(settings: Any) -> Any:
    """The project's WSGI application, in-process (requests run inside the test's transaction: see
    :func:`_connection_kept`)."""
    from django.core.wsgi import get_wsgi_application

    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    return get_wsgi_application()


@contextlib.contextmanager
def _connection_kept() -> Iterator[None]:
    """Requests through the WSGI handler do not close the test's database connection (as in Django's test client,
    which re-connects these signals after each of its own requests, so this wraps the fuzz loop itself)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _role_headers(username: str | None) -> dict[str, str]:
    """A role's credentials on every request: a bearer token, and a session with its CSRF token (the operations
    that authenticate callers themselves take the session)."""
    if username is None:
        return {}
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    return {"Authorization": f"Bearer {issue_token(user)}", "Cookie": f"sessionid={session}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF}


def _real_values() -> dict[str, list[Any]]:
    """Values of the demo data set, by parameter or body field name, so that valid requests name existing objects
    (ids, codes) instead of random ones that only reach "not found"."""
    from tongban.catalog.models import Bundle, ServiceItem
    from tongban.core.models import Organisation
    from tongban.credentials.models import Credential, LicenceType, StatusList
    from tongban.exchange.models import AccessLogEntry, Consent, DataResource, Grant
    from tongban.workflow.models import ProcessDefinition, ProcessInstance, Task

    def first(qs: Any, field: str, n: int = 4) -> list[Any]:
        return [str(v) if not isinstance(v, int) else v for v in qs.order_by("pk").values_list(field, flat=True)[:n]]

    orgs = first(Organisation.objects.all(), "code", 6)
    items = first(ServiceItem.objects.all(), "code")
    resources = first(DataResource.objects.all(), "code")
    processes = sorted(set(ProcessDefinition.objects.values_list("key", flat=True)))[:6]
    licence_types = first(LicenceType.objects.all(), "code")
    return {
        "code": items + first(Bundle.objects.all(), "code") + orgs + resources,
        "org_code": orgs, "key": processes, "process_key": processes,
        "instance_id": first(ProcessInstance.objects.all(), "pk"), "task_id": first(Task.objects.all(), "pk"),
        "grant_id": first(Grant.objects.all(), "pk"), "entry_id": first(AccessLogEntry.objects.all(), "pk"),
        "ref": first(Consent.objects.all(), "ref"), "credential_id": first(Credential.objects.all(), "id"),
        "list_id": first(StatusList.objects.all(), "id"),
        "item_code": items, "bundle_code": first(Bundle.objects.all(), "code"), "resource": resources,
        "consumer_org": orgs, "issuer_org": orgs, "window_code": orgs, "licence_type": licence_types,
    }


def _data_aware(document: dict[str, Any], values: dict[str, list[Any]]) -> dict[str, Any]:
    """A copy of the document whose path and query parameters and request-body fields named in ``values`` take
    those values (valid requests then reach real objects; invalid ones are still generated from the rest)."""
    doc = copy.deepcopy(document)
    bodies = set()
    for operations in doc["paths"].values():
        for op in operations.values():
            for param in op.get("parameters", []):
                kind = param.get("schema", {}).get("type")
                real = [v for v in values.get(param["name"], []) if isinstance(v, int) == (kind == "integer")]
                if real and param["in"] in ("path", "query"):
                    param["schema"] = {**param["schema"], "enum": real}
            for content in op.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[1])
    for name in bodies:
        properties = doc["components"]["schemas"][name].get("properties", {})
        for field, field_schema in properties.items():
            if values.get(field) and field_schema.get("type") == "string":
                properties[field] = {**field_schema, "enum": values[field]}
    return doc


def _shown(response: Any) -> str:
    """The start of a response body, JSON with its Chinese readable."""
    try:
        return json.dumps(response.json(), ensure_ascii=False)[:300]
    except ValueError:
        return response.content[:300].decode(errors="replace")


def _fuzz(operation: Any, mode: Any, role: str, role_headers: dict[str, str], allowed: set[int],
          problems: dict[tuple[str, int], str], seen: Counter[int]) -> None:
    """Send ``fuzz_examples()`` generated requests for one operation, role and generation mode; record each
    (operation, status) that is a 5xx, not documented, or has a body that does not match its documented schema
    once, with the request that got it."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.core import NotSet
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.specs.openapi.checks import response_schema_conformance

    label = f"{operation.method.upper()} {operation.path}"

    @hypothesis_settings(max_examples=fuzz_examples(), deadline=None, database=None, derandomize=fuzz_derandomized(),
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        response = case.call(headers=role_headers)
        status = response.status_code
        seen[status] += 1
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except (Failure, FailureGroup) as exc:
            if (label, -status) not in problems:
                problems[(label, -status)] = (f"{label} as {role} ({mode.value}): the {status} body does not match "
                                              f"the documented schema — {str(exc)[:400]} → {_shown(response)}")
        if (status >= 500 or status not in allowed) and (label, status) not in problems:
            sent = "" if isinstance(case.body, NotSet) else f" body={str(case.body)[:200]}"
            problems[(label, status)] = (
                f"{label} as {role} ({mode.value}): {status} "
                f"{'(server error)' if status >= 500 else 'not documented'} — {case.method} {case.formatted_path}"
                f"{f' query={case.query}' if case.query else ''}{sent} → {_shown(response)}")

    with contextlib.suppress(Unsatisfiable):  # e.g. no invalid request can be made for an operation without input
        send()


@pytest.mark.django_db
def test_fuzzing_the_api_as_three_roles_finds_no_5xx_and_no_undocumented_status(demo: None, wsgi_app: Any) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    served = Client().get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(_data_aware(served, _real_values()))
    schema.app = wsgi_app
    documented = {(m.upper(), p): {int(s) for s in op["responses"]}
                  for p, ops in served["paths"].items() for m, op in ops.items()}
    headers = {role: _role_headers(username) for role, username in FUZZ_ROLES.items()}
    problems: dict[tuple[str, int], str] = {}
    seen: Counter[int] = Counter()
    operations = 0
    with _connection_kept():
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            allowed = documented[(operation.method.upper(), operation.path)]
            for role, role_headers in headers.items():
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _fuzz(operation, mode, role, role_headers, allowed, problems, seen)

    assert operations >= 80, f"only {operations} operations in the document"
    print(f"fuzz: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
    assert sum(seen.values()) >= 3 * operations and seen[200] > 0 and seen[404] > 0, seen
    assert not problems, (
        f"{len(problems)} problem(s). A 5xx is a bug to fix; an undocumented 4xx is either a bug or a status the "
        "operation may answer: declare it with @may_answer(<status>) (tongban.core.openapi) on the view:\n"
        + "\n".join(sorted(problems.values())))
