"""The authorisation matrix: every API operation and every page × every demo role → allowed, hidden or denied.

One ``Row`` per operation (``kind="api"``: an OpenAPI path and method) or page (``kind="page"``: a URL pattern of
the resolver and the method exercised), sometimes in variants on different objects (a draft and a submitted
application). Each row says in words who may use it (``rule``) and, per role:

- ``allow``: the request succeeds (a list then shows the row's target object);
- ``hide``: the request succeeds but the target object is not in the answer (a list scoped to the caller);
- every other role is denied: 401 for anonymous API calls, a redirect to the login page for anonymous page
  requests, 403 or 404 for a signed-in user (or, for a page's form action, a redirect back with an error message
  and nothing changed).

``holes`` are cells where the platform does not do what the rule says today (issue 17): the expectation is the
correct one and the test of that cell is an expected failure (strict), so it turns green when the hole is closed.

The tables of docs/authorisation.md are generated from these rows (``python -m tongban.tests.authz_doc``) and a test
keeps them equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.core.demo import ID_NUMBERS
from tongban.testing import PDF

from .authz_world import OWNER_ORG, ROLE_LABELS, ROLES, World, injury_form

ALL = frozenset(ROLES)
SIGNED_IN = ALL - {"anonymous"}
APPLICANTS = frozenset({"citizen", "other_citizen", "company"})
STAFF = SIGNED_IN - APPLICANTS
ENFORCEMENT_ONLY = frozenset({"officer", "legal_reviewer", "head"})  # staff holding only enforcement roles
CLERKS = frozenset({"clerk", "township_clerk"})
SECURITY_TEAM = frozenset({"security", "admin"})  # the role security_admin; superusers hold every role
# Staff of a department (the 12345 operator works at the hotline centre, the evaluator at the evaluation centre).
DEPARTMENT_STAFF = STAFF - {"hotline", "evaluator"}
# A data-sharing request needs a department role (approver, clerk, supervisor, data owner, administrator).
GRANT_REQUESTERS = DEPARTMENT_STAFF - {"security"} - ENFORCEMENT_ONLY
GRANT_REQUEST_RULE = ("staff with a service role (not the security team, 12345, evaluators or enforcement-only staff), "
                      "for their own department")
ZHANG = ID_NUMBERS["zhangsan"]

# Holes: none is open. The ones issue 17 found (instance reads across departments, any staff member starting any
# process, overdue lists of any department, staff reading and writing drafts, consents in a citizen's name) are
# closed; docs/security.md says how. A hole found later is marked on its row with ``holes=_holes(REASON, roles)``.


def _holes(reason: str, roles: Iterable[str]) -> dict[str, str]:
    return dict.fromkeys(roles, reason)


@dataclass(frozen=True)
class Row:
    kind: str  # "api" | "page"
    method: str
    route: str  # OpenAPI path, or URL pattern as the resolver spells it
    context: str
    rule: str
    allow: frozenset[str]
    url: Callable[[World], str]
    hide: frozenset[str] = frozenset()
    holes: dict[str, str] = field(default_factory=dict)
    variant: str = ""
    body: Callable[[World, str], Any] | None = None  # JSON (api) or form fields (page); files as UploadedFile
    multipart: bool = False  # api: send ``body`` as multipart form data
    visible: Callable[[World, Any], bool] | None = None  # does an OK answer show the target?
    prepare: Callable[[World], None] | None = None  # state the request needs, set up inside the test
    refusals: frozenset[int] = frozenset()  # further statuses that refuse a signed-in user here (e.g. 409)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.variant}]" if self.variant else "")

    @property
    def label(self) -> str:
        """As the doc shows it: pages with their leading slash."""
        path = self.route if self.kind == "api" else "/" + self.route
        return f"`{self.method} {path}`" + (f" ({self.variant})" if self.variant else "")

    def expect(self, role: str) -> str:
        if role in self.allow:
            return "allow"
        return "hide" if role in self.hide else "deny"


def _const(url: str) -> Callable[[World], str]:
    return lambda w: url


def _json_has(key: str, value: Callable[[World], Any], items: str = "") -> Callable[[World, Any], bool]:
    """An OK JSON answer shows the target: a list (or ``data[items]``) with a row whose ``key`` is the value."""
    def check(w: World, response: Any) -> bool:
        data = response.json()
        rows = data[items] if items else data
        return any(str(r.get(key)) == str(value(w)) for r in rows)
    return check


def _text_has(text: Callable[[World], str]) -> Callable[[World, Any], bool]:
    return lambda w, response: text(w) in response.content.decode()


ROWS: list[Row] = []


def api(method: str, path: str, ctx: str, rule: str, allow: Iterable[str], url: Callable[[World], str] | None = None,
        **kw: Any) -> None:
    ROWS.append(Row("api", method, path, ctx, rule, frozenset(allow), url or _const(path),
                    hide=frozenset(kw.pop("hide", ())), **kw))


def page(method: str, route: str, ctx: str, rule: str, allow: Iterable[str], url: Callable[[World], str] | None = None,
         **kw: Any) -> None:
    ROWS.append(Row("page", method, route, ctx, rule, frozenset(allow), url or _const("/" + route),
                    hide=frozenset(kw.pop("hide", ())), **kw))


def _pdf(name: str = "m.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + name.encode(), "application/pdf")


# --- prepared states (through the API, as the role that may) -----------------------------------------------------


def _post_as(w: World, role: str, path: str, body: dict[str, Any] | None = None) -> None:
    response = Client().post(path, json.dumps(body or {}), content_type="application/json",
                             headers={"Authorization": f"Bearer {w.tokens[role]}"})
    assert response.status_code == 200, (path, response.status_code, response.content[:400])


def _claim_case_task(w: World) -> None:
    _post_as(w, "approver_owner", f"/api/workflow/tasks/{w.case_task}/claim")


def _suspend_case_task(w: World) -> None:
    _post_as(w, "approver_owner", f"/api/workflow/tasks/{w.case_task}/clock/suspend", {"reason": "补正材料"})


def _return_case(w: World) -> None:
    """人社局 returns the case for correction: the applicant owes a 补正."""
    _post_as(w, "approver_owner", f"/api/workbench/tasks/{w.case_task}/decide",
             {"outcome": "return", "opinion": "请补充诊断证明"})


def _suspend_credential(w: World) -> None:
    _post_as(w, "approver_owner", f"/api/credentials/{w.credential}/suspend", {"reason": "核查中"})


# ============================================================================================================
# core: sign-in, accounts
# ============================================================================================================

CORE = "core"
api("POST", "/api/auth/token", CORE, "public: anyone exchanges a valid username and password for a token", ALL,
    body=lambda w, role: {"username": ROLES[role] or "zhangsan", "password": "tongban-demo"})
api("GET", "/api/me", CORE, "any signed-in user (themself)", SIGNED_IN)
page("GET", "", CORE, "public home page", ALL)
page("GET", "site.css", CORE, "public (the site's colours)", ALL)
page("GET", "elder/", CORE, "public (elder mode on or off: a display preference kept in a cookie)", ALL,
     url=_const("/elder/?on=1&next=/catalog/"))
page("GET", "accounts/login/", CORE, "public login page", ALL)
page("POST", "accounts/logout/", CORE, "anyone (signs the session out)", ALL)
page("GET", "accounts/password_change/", CORE, "any signed-in user (own password)", SIGNED_IN)
page("GET", "accounts/password_change/done/", CORE, "any signed-in user", SIGNED_IN)
page("GET", "accounts/password_reset/", CORE, "public", ALL)
page("GET", "accounts/password_reset/done/", CORE, "public", ALL)
page("GET", "accounts/reset/<uidb64>/<token>/", CORE, "public (the link itself is the secret)", ALL,
     url=_const("/accounts/reset/MQ/bad-token/"))
page("GET", "accounts/reset/done/", CORE, "public", ALL)
page("POST", "i18n/setlang/", CORE, "public language switch", ALL, body=lambda w, role: {"language": "en", "next": "/"})

# ============================================================================================================
# catalog: public
# ============================================================================================================

CAT = "catalog"
PUBLIC = "public"
for _path, _url in [
    ("/api/catalog/items", "/api/catalog/items?q=工伤"),
    ("/api/catalog/items/{code}", "/api/catalog/items/YX-RSJ-QR-0001"),
    ("/api/catalog/bundles", "/api/catalog/bundles"),
    ("/api/catalog/bundles/{code}", "/api/catalog/bundles/YX-YJS-CS"),
    ("/api/catalog/bundles/{code}/form", "/api/catalog/bundles/YX-YJS-CS/form"),
    ("/api/lists/{org_code}/powers", f"/api/lists/{OWNER_ORG}/powers"),
    ("/api/lists/{org_code}/responsibilities", f"/api/lists/{OWNER_ORG}/responsibilities"),
    ("/api/lists/{org_code}/versions", f"/api/lists/{OWNER_ORG}/versions"),
    ("/api/lists/{org_code}/diff", "/api/lists/yx-scjg/diff"),
]:
    api("GET", _path, CAT, PUBLIC, ALL, url=_const(_url))
for _route, _url in [
    ("catalog/", "/catalog/?q=工伤"),
    ("catalog/items/<str:code>/", "/catalog/items/YX-RSJ-QR-0001/"),
    ("catalog/bundles/", "/catalog/bundles/"),
    ("catalog/bundles/<str:code>/", "/catalog/bundles/YX-YJS-CS/"),
    ("lists/", "/lists/"),
    ("lists/<str:org_code>/", f"/lists/{OWNER_ORG}/"),
    ("lists/<str:org_code>/diff/", "/lists/yx-scjg/diff/"),
]:
    page("GET", _route, CAT, PUBLIC, ALL, url=_const(_url))

# ============================================================================================================
# workflow: the engine's back office
# ============================================================================================================

WF = "workflow"
OTHER_STAFF = STAFF - {"approver_owner", "admin"}
TASK_RULE = "a candidate of the task (人社局's approvers) or the admin"
api("GET", "/api/workflow/definitions", WF, "staff", STAFF)
api("GET", "/api/workflow/definitions/{key}", WF, "staff", STAFF, url=lambda w: f"/api/workflow/definitions/{w.workflow_definition}")
api("POST", "/api/workflow/instances", WF,
    "staff allowed to start the process by its definition: for the 人社局 process, 人社局's approvers; the admin",
    {"approver_owner", "admin"},
    body=lambda w, role: {"process_key": w.start_process, "business_key": f"AUTHZ-{role}", "variables": {
        "applicant_name": "张三", "applicant_kind": "natural", "age": 34, "credit_level": "C",
        "has_social_insurance": True, "rejections_last_year": 2}})
api("GET", "/api/workflow/instances/{instance_id}", WF,
    "staff of an organisation with a task in the instance (人社局); the admin", {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/instances/{w.case_instance}")
api("POST", "/api/workflow/instances/{instance_id}/cancel", WF, "the admin", {"admin"},
    url=lambda w: f"/api/workflow/instances/{w.case_instance}/cancel", body=lambda w, role: {"reason": "测试撤销"})
api("GET", "/api/workflow/tasks", WF, "any signed-in user: the tasks they are a candidate for or hold",
    {"approver_owner", "admin"}, hide=SIGNED_IN - {"approver_owner", "admin"},
    visible=_json_has("id", lambda w: w.case_task))
api("GET", "/api/workflow/tasks/{task_id}", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}")
api("POST", "/api/workflow/tasks/{task_id}/claim", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}/claim")
api("POST", "/api/workflow/tasks/{task_id}/unclaim", WF, "the holder of the task (人社局's approver) or the admin",
    {"approver_owner", "admin"}, url=lambda w: f"/api/workflow/tasks/{w.case_task}/unclaim", prepare=_claim_case_task)
api("POST", "/api/workflow/tasks/{task_id}/complete", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}/complete",
    body=lambda w, role: {"outcome": "approve", "opinion": "同意"})
api("POST", "/api/workflow/tasks/{task_id}/opinions", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}/opinions", body=lambda w, role: {"text": "材料齐全"})
api("POST", "/api/workflow/tasks/{task_id}/clock/suspend", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}/clock/suspend", body=lambda w, role: {"reason": "专家评审"})
api("POST", "/api/workflow/tasks/{task_id}/clock/resume", WF, TASK_RULE, {"approver_owner", "admin"},
    url=lambda w: f"/api/workflow/tasks/{w.case_task}/clock/resume", prepare=_suspend_case_task)
api("GET", "/api/workflow/organisations/{code}/overdue", WF, "staff of that organisation (人社局); the admin",
    {"approver_owner", "data_owner", "admin"}, url=_const(f"/api/workflow/organisations/{OWNER_ORG}/overdue"))

page("GET", "workflow/", WF, "a redirect to workflow/tasks/ (which checks)", ALL)
page("GET", "workflow/definitions/", WF, "staff", STAFF)
page("GET", "workflow/definitions/<slug:key>/", WF, "a redirect to the diagram (which checks)", ALL,
     url=lambda w: f"/workflow/definitions/{w.workflow_definition}/")
page("GET", "workflow/definitions/<slug:key>/diagram/", WF,
     "staff; the list of recent instances shows those with a task of the reader's organisation (人社局); the admin",
     {"approver_owner", "admin"}, hide=OTHER_STAFF,
     url=lambda w: f"/workflow/definitions/{w.workflow_definition}/diagram/",
     visible=_text_has(lambda w: f"/workflow/instances/{w.case_instance}/"))
page("GET", "workflow/instances/", WF,
     "staff; the list shows an instance to staff of an organisation with a task in it (人社局) and the admin",
     {"approver_owner", "admin"}, hide=OTHER_STAFF,
     visible=_text_has(lambda w: f"/workflow/instances/{w.case_instance}/"))
page("GET", "workflow/instances/<int:pk>/", WF,
     "staff of an organisation with a task in the instance (人社局); the admin", {"approver_owner", "admin"},
     url=lambda w: f"/workflow/instances/{w.case_instance}/")
page("GET", "workflow/tasks/", WF, "staff: the tasks they are a candidate for or hold", {"approver_owner", "admin"},
     hide=OTHER_STAFF, visible=_text_has(lambda w: f"/workflow/tasks/{w.case_task}/claim/"))
page("POST", "workflow/tasks/<int:pk>/claim/", WF, TASK_RULE, {"approver_owner", "admin"},
     url=lambda w: f"/workflow/tasks/{w.case_task}/claim/", body=lambda w, role: {})
page("POST", "workflow/tasks/<int:pk>/unclaim/", WF, "the holder of the task (人社局's approver) or the admin",
     {"approver_owner", "admin"}, url=lambda w: f"/workflow/tasks/{w.case_task}/unclaim/",
     body=lambda w, role: {}, prepare=_claim_case_task)
page("POST", "workflow/tasks/<int:pk>/complete/", WF, TASK_RULE, {"approver_owner", "admin"},
     url=lambda w: f"/workflow/tasks/{w.case_task}/complete/",
     body=lambda w, role: {"outcome": "approve", "opinion": "同意"})
page("POST", "workflow/tasks/<int:pk>/opinion/", WF, TASK_RULE, {"approver_owner", "admin"},
     url=lambda w: f"/workflow/tasks/{w.case_task}/opinion/", body=lambda w, role: {"opinion": "材料齐全"})
page("POST", "workflow/tasks/<int:pk>/clock/", WF, TASK_RULE, {"approver_owner", "admin"},
     url=lambda w: f"/workflow/tasks/{w.case_task}/clock/",
     body=lambda w, role: {"action": "suspend", "reason": "专家评审"})

# ============================================================================================================
# applications: applicant, window, workbench
# ============================================================================================================

APPS = "applications"
OWNER = {"citizen"}
DRAFT_READERS = {"citizen", "admin"}
CASE_READERS = {"citizen", "clerk", "township_clerk", "approver_owner", "admin"}
READ_RULE = ("the applicant; once submitted also every window clerk and the approvers and supervisors of a "
             "department deciding one of its items (人社局); the admin")
api("GET", "/api/applications", APPS, "any signed-in user: their own applications", OWNER,
    hide=SIGNED_IN - OWNER, visible=_json_has("ref", lambda w: w.draft_ref))
api("POST", "/api/applications", APPS, "applicants with an identity (ID number or credit code); staff have none",
    APPLICANTS, body=lambda w, role: {"item_code": "YX-RSJ-QR-0001",
                                      "situations": {"YX-RSJ-QR-0001": {"situation_code": "by-worker"}}})
api("GET", "/api/applications/{ref}", APPS, READ_RULE, DRAFT_READERS, variant="draft",
    url=lambda w: f"/api/applications/{w.draft_ref}")
api("GET", "/api/applications/{ref}", APPS, READ_RULE.replace("人社局", "市场监管局"), {"company", "admin"},
    variant="company's draft, 市场监管局", url=lambda w: f"/api/applications/{w.company_draft_ref}")
api("GET", "/api/applications/{ref}", APPS, READ_RULE, CASE_READERS, variant="in review",
    url=lambda w: f"/api/applications/{w.case_ref}")
api("GET", "/api/applications/{ref}/form", APPS, READ_RULE, DRAFT_READERS, variant="draft",
    url=lambda w: f"/api/applications/{w.draft_ref}/form")
api("POST", "/api/applications/{ref}/materials/{key}/file", APPS, "the applicant, while the application is open",
    OWNER, url=lambda w: f"/api/applications/{w.draft_ref}/materials/{w.draft_material_key}/file",
    body=lambda w, role: {"file": _pdf()}, multipart=True)
api("GET", "/api/applications/{ref}/materials/{key}/evidence", APPS, READ_RULE, DRAFT_READERS, variant="draft",
    url=lambda w: f"/api/applications/{w.draft_ref}/materials/{w.draft_evidence_key}/evidence")
api("POST", "/api/applications/{ref}/materials/{key}/evidence", APPS, "the applicant (consents and fetches)", OWNER,
    url=lambda w: f"/api/applications/{w.draft_ref}/materials/{w.draft_evidence_key}/evidence",
    body=lambda w, role: {"consent": True})
api("POST", "/api/applications/{ref}/commitment", APPS, "the applicant (here the company's draft)", {"company"},
    url=lambda w: f"/api/applications/{w.company_draft_ref}/commitment",
    body=lambda w, role: {"material_keys": [w.company_commitment_key]})
api("POST", "/api/applications/{ref}/submit", APPS, "the applicant", OWNER,
    url=lambda w: f"/api/applications/{w.draft_ref}/submit", body=lambda w, role: {"form_data": injury_form()})
SUPPLEMENT_RULE = "the applicant; once submitted also a window clerk (补齐 at a window); the admin"
api("POST", "/api/applications/{ref}/supplements/{key}", APPS, SUPPLEMENT_RULE, {"citizen", "admin"}, variant="draft",
    url=lambda w: f"/api/applications/{w.draft_ref}/supplements/{w.draft_missing_key}",
    body=lambda w, role: {"file": _pdf("owed.pdf")}, multipart=True)
api("POST", "/api/applications/{ref}/supplements/{key}", APPS, SUPPLEMENT_RULE, OWNER | CLERKS | {"admin"},
    variant="in review", url=lambda w: f"/api/applications/{w.case_ref}/supplements/{w.case_owed_key}",
    body=lambda w, role: {"file": _pdf("owed.pdf")}, multipart=True)
api("POST", "/api/applications/{ref}/correction", APPS, "the applicant, after an item was returned", OWNER,
    url=lambda w: f"/api/applications/{w.case_ref}/correction", body=lambda w, role: {"note": "已补充"},
    multipart=True, prepare=_return_case)
api("GET", "/api/applications/{ref}/notices/{code}.pdf", APPS, READ_RULE, CASE_READERS,
    url=lambda w: f"/api/applications/{w.case_ref}/notices/{w.case_notice}.pdf")
api("POST", "/api/proxies", APPS, "any signed-in user registers themself as an agent", SIGNED_IN, multipart=True,
    body=lambda w, role: {"principal_name": "赵六", "principal_id_number": "910102198001011111", "scope": "代办",
                          "valid_until": "2099-12-31", "kind": "agent", "letter": _pdf("letter.pdf")})
WINDOW = CLERKS | {"admin"}
api("GET", "/api/window/queue", APPS, "window clerks (any item of any department: 一窗受理); the admin", WINDOW,
    hide=SIGNED_IN - WINDOW, visible=_json_has("ref", lambda w: w.pending_ref))
api("POST", "/api/window/applications/{ref}/accept", APPS, "window clerks; the admin", WINDOW,
    url=lambda w: f"/api/window/applications/{w.pending_ref}/accept",
    body=lambda w, role: {"tolerate": True, "supplement_days": 5})
api("POST", "/api/window/applications/{ref}/one-time-notice", APPS,
    "window clerks and the admin, once submitted (409 before)", set(), variant="draft", refusals=frozenset({409}),
    url=lambda w: f"/api/window/applications/{w.draft_ref}/one-time-notice")
api("POST", "/api/window/applications/{ref}/one-time-notice", APPS, "window clerks and the admin, once submitted",
    WINDOW, variant="submitted", url=lambda w: f"/api/window/applications/{w.pending_ref}/one-time-notice")
api("POST", "/api/window/applications/{ref}/refuse", APPS, "window clerks; the admin", WINDOW,
    url=lambda w: f"/api/window/applications/{w.pending_ref}/refuse", body=lambda w, role: {"reason": "不属于受理范围"})
api("POST", "/api/window/applications/{ref}/visits", APPS, "window clerks, at a window of theirs; the admin", WINDOW,
    url=lambda w: f"/api/window/applications/{w.pending_ref}/visits",
    body=lambda w, role: {"window_code": "qs-ch-bmfw" if role == "township_clerk" else "yx-zwzx-w01"})
APPROVER = {"approver_owner", "admin"}
api("GET", "/api/workbench/tasks", APPS, "any signed-in user: the open tasks of their departments as approver",
    {"approver_owner"}, hide=SIGNED_IN - {"approver_owner"}, visible=_json_has("id", lambda w: w.case_task))
api("GET", "/api/workbench/tasks/{task_id}", APPS, TASK_RULE, APPROVER,
    url=lambda w: f"/api/workbench/tasks/{w.case_task}")
api("POST", "/api/workbench/tasks/{task_id}/claim", APPS, TASK_RULE, APPROVER,
    url=lambda w: f"/api/workbench/tasks/{w.case_task}/claim")
api("POST", "/api/workbench/tasks/{task_id}/decide", APPS, TASK_RULE, APPROVER,
    url=lambda w: f"/api/workbench/tasks/{w.case_task}/decide", body=lambda w, role: {"outcome": "approve"})
api("GET", "/api/notices/{code}/verify", APPS, "public (masked applicant name only)", ALL,
    url=lambda w: f"/api/notices/{w.case_notice}/verify")

page("GET", "my/", APPS, "any signed-in user: their own applications", OWNER, hide=SIGNED_IN - OWNER,
     visible=_text_has(lambda w: w.draft_ref))
page("GET", "my/applications/<str:ref>/", APPS, "the applicant; the admin", {"citizen", "admin"},
     url=lambda w: f"/my/applications/{w.case_ref}/")
page("GET", "my/applications/<str:ref>/fill/", APPS, "the applicant, while the application is open", OWNER,
     url=lambda w: f"/my/applications/{w.draft_ref}/fill/")
page("POST", "my/applications/<str:ref>/supplement/", APPS, SUPPLEMENT_RULE, {"citizen", "admin"}, variant="draft",
     url=lambda w: f"/my/applications/{w.draft_ref}/supplement/",
     body=lambda w, role: {f"file-{w.draft_missing_pk}": _pdf("owed.pdf")})
page("POST", "my/applications/<str:ref>/supplement/", APPS, SUPPLEMENT_RULE, OWNER | WINDOW, variant="in review",
     url=lambda w: f"/my/applications/{w.case_ref}/supplement/",
     body=lambda w, role: {f"file-{w.case_owed_pk}": _pdf("owed.pdf")})
page("POST", "my/applications/<str:ref>/correction/", APPS, "the applicant, after an item was returned", OWNER,
     url=lambda w: f"/my/applications/{w.case_ref}/correction/", body=lambda w, role: {"note": "已补充"},
     prepare=_return_case)
page("GET", "my/proxies/", APPS, "any signed-in user: the authorisations they hold or gave", OWNER,
     hide=SIGNED_IN - OWNER, visible=_text_has(lambda w: "王五"))
page("GET", "my/proxies/<int:pk>/letter/", APPS, "the agent, the principal, window clerks; the admin",
     OWNER | WINDOW, url=lambda w: f"/my/proxies/{w.proxy}/letter/")
page("GET", "apply/", APPS, "any signed-in user", SIGNED_IN)
page("GET", "apply/item/<str:code>/", APPS, "any signed-in user", SIGNED_IN, url=_const("/apply/item/YX-RSJ-QR-0001/"))
page("GET", "apply/bundle/<str:code>/", APPS, "any signed-in user", SIGNED_IN, url=_const("/apply/bundle/YX-YJS-CS/"))
page("GET", "applications/<str:ref>/notices/<str:code>.pdf", APPS, READ_RULE, CASE_READERS,
     url=lambda w: f"/applications/{w.case_ref}/notices/{w.case_notice}.pdf")
page("GET", "applications/<str:ref>/materials/<int:pk>/file", APPS, READ_RULE, DRAFT_READERS, variant="draft",
     url=lambda w: f"/applications/{w.draft_ref}/materials/{w.draft_material_pk}/file")
page("GET", "applications/<str:ref>/materials/<int:pk>/file", APPS, READ_RULE, CASE_READERS, variant="in review",
     url=lambda w: f"/applications/{w.case_ref}/materials/{w.case_material_pk}/file")
page("GET", "window/", APPS, "window clerks; the admin", WINDOW, visible=_text_has(lambda w: w.pending_ref))
page("GET", "window/applications/<str:ref>/", APPS, "window clerks, once submitted; the admin", {"admin"},
     variant="draft", url=lambda w: f"/window/applications/{w.draft_ref}/")
page("GET", "window/applications/<str:ref>/", APPS, "window clerks, once submitted; the admin", WINDOW,
     variant="submitted", url=lambda w: f"/window/applications/{w.pending_ref}/")
page("POST", "window/applications/<str:ref>/action/", APPS, "window clerks; the admin", WINDOW,
     url=lambda w: f"/window/applications/{w.pending_ref}/action/",
     body=lambda w, role: {"action": "refuse", "reason": "不属于受理范围"})
page("GET", "window/assist/", APPS, "window clerks; the admin", WINDOW)
ASSIST_RULE = "window clerks of the request's service centre; the admin"
page("GET", "window/assistance/", APPS, ASSIST_RULE, {"clerk", "admin"}, hide={"township_clerk"},
     visible=_text_has(lambda w: f"/window/assistance/{w.assistance}/handled/"))
page("POST", "window/assistance/<int:pk>/handled/", APPS, ASSIST_RULE, {"clerk", "admin"},
     url=lambda w: f"/window/assistance/{w.assistance}/handled/", body=lambda w, role: {"note": "已电话联系"})
page("GET", "assist/", APPS, "public (帮办预约: anyone asks for assisted service)", ALL)
page("POST", "assist/", APPS, "public (帮办预约: anyone asks for assisted service)", ALL,
     body=lambda w, role: {"name": "王大爷", "phone": "13912340001", "service": "医保参保登记", "centre": "yx-zwzx"})
page("GET", "assist/done/", APPS, "public", ALL)
page("GET", "notices/verify/", APPS, "public", ALL)
page("GET", "notices/verify/<str:code>/", APPS, "public (masked applicant name only)", ALL,
     url=lambda w: f"/notices/verify/{w.case_notice}/")
page("GET", "workbench/", APPS, "approvers and the admin: the open tasks of their departments as approver",
     {"approver_owner"}, hide={"approver_other", "admin"}, visible=_text_has(lambda w: f"/workbench/tasks/{w.case_task}/"))
page("GET", "workbench/tasks/<int:task_id>/", APPS, TASK_RULE, APPROVER,
     url=lambda w: f"/workbench/tasks/{w.case_task}/")
page("POST", "workbench/tasks/<int:task_id>/action/", APPS, TASK_RULE, APPROVER,
     url=lambda w: f"/workbench/tasks/{w.case_task}/action/", body=lambda w, role: {"action": "claim"})
page("GET", "workbench/post-checks/", APPS,
     "any signed-in user: the old address of the post-checks, redirects to supervision's (issue 10)", SIGNED_IN)
page("GET", "projects/", APPS, "any signed-in user: their own projects; staff see every project",
     {"company"} | STAFF, hide=APPLICANTS - {"company"}, visible=_text_has(lambda w: w.project))
page("GET", "projects/<str:code>/", APPS, "the project's owner (the company); staff", {"company"} | STAFF,
     url=lambda w: f"/projects/{w.project}/")

# ============================================================================================================
# supervision: 审管联动, post-checks, credit, 双随机一公开
# ============================================================================================================

SUP = "supervision"
SUPERVISORS = {"supervisor", "admin"}
SUP_RULE = "supervisors of the department concerned (市场监管局); the admin"
ENTITY_READERS = {"company"} | SUPERVISORS
api("GET", "/api/supervision/entities/{uscc}/credit", SUP, "public (信用公示): grade and reasons", ALL,
    url=lambda w: f"/api/supervision/entities/{w.entity}/credit")
api("GET", "/api/supervision/plans", SUP, "public (双随机一公开)", ALL)
api("GET", "/api/supervision/draws/{draw_id}", SUP, "public (inspectors' names masked)", ALL,
    url=lambda w: f"/api/supervision/draws/{w.draw}")
api("GET", "/api/supervision/draws/{draw_id}/inputs", SUP, "public (to recompute the draw)", ALL,
    url=lambda w: f"/api/supervision/draws/{w.draw}/inputs")
api("GET", "/api/supervision/draws/{draw_id}/verify", SUP, "public", ALL,
    url=lambda w: f"/api/supervision/draws/{w.draw}/verify")
api("GET", "/api/supervision/log", SUP, "public (the log's tree head)", ALL)
api("GET", "/api/supervision/entities", SUP, "supervisors; the admin", SUPERVISORS)
api("GET", "/api/supervision/entities/{uscc}", SUP, "the entity itself (the company); supervisors; the admin",
    ENTITY_READERS, url=lambda w: f"/api/supervision/entities/{w.entity}")
api("GET", "/api/supervision/records", SUP, "any signed-in user: the records of their departments as supervisor",
    SUPERVISORS, hide=SIGNED_IN - SUPERVISORS, visible=_json_has("id", lambda w: w.sup_record))
api("POST", "/api/supervision/records/{record_id}/receive", SUP, SUP_RULE, SUPERVISORS,
    url=lambda w: f"/api/supervision/records/{w.sup_record}/receive")
for _prefix in ("/api/supervision", "/api"):
    api("GET", f"{_prefix}/post-checks", SUP,
        "any signed-in user: the post-checks of departments where they are supervisor (市场监管局)",
        SUPERVISORS, hide=SIGNED_IN - SUPERVISORS, visible=_json_has("id", lambda w: w.post_check))
    api("POST", f"{_prefix}/post-checks/{{check_id}}", SUP, SUP_RULE, SUPERVISORS,
        url=lambda w, p=_prefix: f"{p}/post-checks/{w.post_check}",
        body=lambda w, role: {"passed": True, "result": "现场核查属实"})
api("GET", "/api/supervision/leads", SUP,
    "any signed-in user: the enforcement leads and risk warnings of their departments as supervisor", SUPERVISORS,
    hide=SIGNED_IN - SUPERVISORS, visible=_json_has("id", lambda w: w.lead))
api("POST", "/api/supervision/plans", SUP, SUP_RULE + " (plans of their departments)", SUPERVISORS,
    body=lambda w, role: {"code": "AUTHZ-1", "name": "测试计划", "department": "yx-scjg", "ratios": {"B": 0.1},
                          "period_start": "2026-01-01", "period_end": "2026-12-31", "checklist": ["检查"]})
api("POST", "/api/supervision/plans/{code}/draw", SUP, SUP_RULE, SUPERVISORS,
    url=lambda w: f"/api/supervision/plans/{w.plan}/draw", body=lambda w, role: {"seed": "authz"})
api("GET", "/api/supervision/inspections", SUP,
    "any signed-in user: the inspections of their departments or assigned to them", SUPERVISORS,
    hide=SIGNED_IN - SUPERVISORS, visible=_json_has("id", lambda w: w.inspection))
api("POST", "/api/supervision/inspections/{inspection_id}", SUP, SUP_RULE + "; the inspectors drawn", SUPERVISORS,
    url=lambda w: f"/api/supervision/inspections/{w.inspection}",
    body=lambda w, role: {"passed": True, "findings": "未发现问题"})
api("POST", "/api/supervision/credit-events/{event_id}/repair", SUP,
    "the entity itself (the company); supervisors of the recording department; the admin", ENTITY_READERS,
    url=lambda w: f"/api/supervision/credit-events/{w.credit_event_free}/repair",
    body=lambda w, role: {"reason": "已整改"})
api("POST", "/api/supervision/repairs/{repair_id}/review", SUP, SUP_RULE + " (the recording department)",
    SUPERVISORS, url=lambda w: f"/api/supervision/repairs/{w.repair}/review",
    body=lambda w, role: {"approve": True, "note": "整改属实"})

page("GET", "supervision/", SUP, "supervisors; the admin", SUPERVISORS)
page("GET", "supervision/post-checks/", SUP, "supervisors; the admin: their departments' post-checks",
     SUPERVISORS, visible=_text_has(lambda w: w.post_check_ref))
page("POST", "supervision/post-checks/", SUP, SUP_RULE, SUPERVISORS, variant="complete",
     body=lambda w, role: {"check": str(w.post_check), "passed": "yes", "result": "现场核查属实"})
page("POST", "supervision/records/<int:record_id>/receive/", SUP, SUP_RULE, SUPERVISORS,
     url=lambda w: f"/supervision/records/{w.sup_record}/receive/")
page("POST", "supervision/inspections/<int:inspection_id>/", SUP, SUP_RULE + "; the inspectors drawn", SUPERVISORS,
     url=lambda w: f"/supervision/inspections/{w.inspection}/",
     body=lambda w, role: {"passed": "yes", "findings": "未发现问题"})
page("POST", "supervision/repairs/<int:repair_id>/review/", SUP, SUP_RULE + " (the recording department)",
     SUPERVISORS, url=lambda w: f"/supervision/repairs/{w.repair}/review/",
     body=lambda w, role: {"approve": "yes", "note": "整改属实"})
page("GET", "supervision/entities/<str:uscc>/", SUP, "the entity itself (the company); supervisors; the admin",
     ENTITY_READERS, url=lambda w: f"/supervision/entities/{w.entity}/")
page("POST", "supervision/entities/<str:uscc>/repair/", SUP,
     "the entity itself (the company); supervisors of the recording department; the admin", ENTITY_READERS,
     url=lambda w: f"/supervision/entities/{w.entity}/repair/",
     body=lambda w, role: {"event": str(w.credit_event_free), "reason": "已整改"})
page("GET", "supervision/draws/", SUP, "public (双随机一公开)", ALL)
page("GET", "supervision/draws/<int:draw_id>/", SUP, "public (inspectors' names masked)", ALL,
     url=lambda w: f"/supervision/draws/{w.draw}/")

# ============================================================================================================
# exchange: data sharing
# ============================================================================================================

EX = "exchange"
CONSUMER = {"approver_owner", "data_owner", "admin"}
OWNER_DATA = {"data_owner", "admin"}
CONSENTERS = OWNER | CLERKS | {"admin"}
api("GET", "/api/exchange/resources", EX, PUBLIC, ALL)
api("GET", "/api/exchange/resources/{code}", EX, PUBLIC, ALL, url=_const("/api/exchange/resources/social_insurance"))
api("POST", "/api/exchange/query", EX,
    "staff of the consuming department (人社局) with a grant (and consent where needed); a system client by key",
    CONSUMER, body=lambda w, role: {"resource": "household_register", "subject_id": ZHANG, "purpose": "工伤认定核验户籍",
                                    "consumer_org": OWNER_ORG, "consent_ref": w.consent})
api("GET", "/api/exchange/grants", EX,
    "any signed-in user: grants of their departments as consumer, and of resources they own as data owner",
    OWNER_DATA, hide=SIGNED_IN - OWNER_DATA, visible=_json_has("id", lambda w: w.grant_requested))
api("POST", "/api/exchange/grants", EX, GRANT_REQUEST_RULE, GRANT_REQUESTERS,
    body=lambda w, role: {"resource": "business_register", "fields": ["enterprise_name", "status"], "purpose": "核验市场主体",
                          "legal_basis": "《优化营商环境条例》"})
api("POST", "/api/exchange/grants/{grant_id}/decision", EX, "data owners of the resource's department (人社局)",
    OWNER_DATA, url=lambda w: f"/api/exchange/grants/{w.grant_requested}/decision",
    body=lambda w, role: {"approve": True, "note": "同意"})
api("POST", "/api/exchange/grants/{grant_id}/revoke", EX, "data owners of the resource's department (人社局)",
    OWNER_DATA, url=lambda w: f"/api/exchange/grants/{w.grant_approved}/revoke",
    body=lambda w, role: {"reason": "不再需要"})
api("POST", "/api/exchange/consents", EX,
    "the data subject (in their own name); a window clerk recording a consent given on paper; the admin",
    CONSENTERS,
    body=lambda w, role: {"code": "social_insurance", "consumer_org": OWNER_ORG, "purpose": "工伤认定",
                          "subject_id": ZHANG})
api("GET", "/api/exchange/consents", EX, "any signed-in user: the consents given in their name", OWNER,
    hide=SIGNED_IN - OWNER, visible=_json_has("ref", lambda w: w.consent))
api("POST", "/api/exchange/consents/{ref}/withdraw", EX,
    "the data subject; a window clerk recording a withdrawal on paper; the admin", CONSENTERS,
    url=lambda w: f"/api/exchange/consents/{w.consent}/withdraw")
api("POST", "/api/exchange/evidence-plan", EX,
    "any signed-in user (for themself; staff may name the subject they assist); reads no data", SIGNED_IN,
    body=lambda w, role: {"materials": [{"source": "shared", "code": "household_register"}], "consumer_org": OWNER_ORG,
                          "subject_id": ZHANG})
api("GET", "/api/exchange/my-access-log", EX, "any signed-in user: who read data about them", OWNER,
    hide=SIGNED_IN - OWNER, visible=_json_has("id", lambda w: w.log_entry))
api("GET", "/api/exchange/log/sth", EX, PUBLIC, ALL)
api("GET", "/api/exchange/log/proof/inclusion", EX, PUBLIC, ALL,
    url=lambda w: f"/api/exchange/log/proof/inclusion?seq=0&tree_size={w.tree_size}")
api("GET", "/api/exchange/log/proof/consistency", EX, PUBLIC, ALL,
    url=lambda w: f"/api/exchange/log/proof/consistency?first=1&second={w.tree_size}")
api("GET", "/api/exchange/log/entries/{entry_id}", EX, "the data subject of the entry; the admin", OWNER | {"admin"},
    url=lambda w: f"/api/exchange/log/entries/{w.log_entry}")
api("GET", "/api/exchange/jwks.json", EX, PUBLIC, ALL)

page("GET", "exchange/resources/", EX, PUBLIC, ALL)
page("GET", "exchange/resources/<slug:code>/", EX, PUBLIC, ALL, url=_const("/exchange/resources/social_insurance/"))
page("GET", "exchange/grants/", EX, "staff: grants of their departments as consumer or as data owner", OWNER_DATA,
     hide=STAFF - OWNER_DATA, visible=_text_has(lambda w: f"/exchange/grants/{w.grant_requested}/decide/"))
page("POST", "exchange/grants/new/", EX, GRANT_REQUEST_RULE, GRANT_REQUESTERS,
     body=lambda w, role: {"resource": "business_register", "consumer": w.org_of.get(role, ""), "fields": "enterprise_name status",
                           "purpose": "核验市场主体", "legal_basis": "《优化营商环境条例》"})
page("POST", "exchange/grants/<int:grant_id>/decide/", EX, "data owners of the resource's department (人社局)",
     OWNER_DATA, url=lambda w: f"/exchange/grants/{w.grant_requested}/decide/",
     body=lambda w, role: {"decision": "approve", "note": "同意"})
page("POST", "exchange/grants/<int:grant_id>/revoke/", EX, "data owners of the resource's department (人社局)",
     OWNER_DATA, url=lambda w: f"/exchange/grants/{w.grant_approved}/revoke/", body=lambda w, role: {"reason": "不再需要"})
page("GET", "exchange/my-data/", EX, "any signed-in user: reads of and consents about their own data", OWNER,
     hide=SIGNED_IN - OWNER, visible=_text_has(lambda w: w.consent))
page("POST", "exchange/my-data/consents/<str:ref>/withdraw/", EX,
     "the data subject; a window clerk recording a withdrawal on paper; the admin", CONSENTERS,
     url=lambda w: f"/exchange/my-data/consents/{w.consent}/withdraw/", body=lambda w, role: {})
page("GET", "exchange/log/", EX, PUBLIC, ALL)

# ============================================================================================================
# credentials: e-licences
# ============================================================================================================

CRED = "credentials"
HOLDER_OR_ISSUER = {"citizen", "approver_owner", "data_owner", "admin"}
ISSUER = {"approver_owner", "data_owner", "admin"}
HOLDER_RULE = "the holder (张三) and staff of the issuing department (人社局); the admin"
ISSUER_RULE = "staff of the issuing department (人社局); the admin"
api("GET", "/api/credentials/jwks.json", CRED, PUBLIC, ALL)
api("GET", "/api/credentials/root-ca.pem", CRED, PUBLIC, ALL)
api("GET", "/api/credentials/types", CRED, PUBLIC, ALL)
api("GET", "/api/credentials/issuers/{code}", CRED, PUBLIC, ALL, url=_const(f"/api/credentials/issuers/{OWNER_ORG}"))
api("GET", "/api/credentials/status/{list_id}", CRED, PUBLIC, ALL, url=lambda w: f"/api/credentials/status/{w.status_list}")
api("GET", "/api/credentials/{credential_id}/status", CRED, "public (status only, no personal data)", ALL,
    url=lambda w: f"/api/credentials/{w.credential}/status")
api("POST", "/api/credentials/verify", CRED, PUBLIC, ALL, body=lambda w, role: {"vc": w.vc_jws})
api("GET", "/api/credentials/wallet", CRED, "any signed-in user: the licences they hold", OWNER,
    hide=SIGNED_IN - OWNER, visible=_json_has("id", lambda w: w.credential, items="items"))
for _suffix in ("", "/vc", "/pdf", "/sm2"):
    api("GET", "/api/credentials/{credential_id}" + _suffix, CRED, HOLDER_RULE, HOLDER_OR_ISSUER,
        url=lambda w, s=_suffix: f"/api/credentials/{w.credential}{s}")
api("POST", "/api/credentials/issue", CRED, ISSUER_RULE, ISSUER,
    body=lambda w, role: {"licence_type": "social_security_card", "issuer_org": OWNER_ORG,
                          "holder": {"kind": "natural", "name": "李四", "id_number": ID_NUMBERS["lisi"]},
                          "data": {"name": "李四", "id_number": ID_NUMBERS["lisi"]}})
api("POST", "/api/credentials/{credential_id}/suspend", CRED, ISSUER_RULE, ISSUER,
    url=lambda w: f"/api/credentials/{w.credential}/suspend", body=lambda w, role: {"reason": "核查中"})
api("POST", "/api/credentials/{credential_id}/reinstate", CRED, ISSUER_RULE, ISSUER,
    url=lambda w: f"/api/credentials/{w.credential}/reinstate", body=lambda w, role: {"reason": "核查完毕"},
    prepare=_suspend_credential)
api("POST", "/api/credentials/{credential_id}/revoke", CRED, ISSUER_RULE, ISSUER,
    url=lambda w: f"/api/credentials/{w.credential}/revoke", body=lambda w, role: {"reason": "信息有误"})

page("GET", "verify/", CRED, PUBLIC, ALL)
page("GET", "verify/<uuid:credential_id>/", CRED, "public (validity and status, no personal data)", ALL,
     url=lambda w: f"/verify/{w.credential}/")
page("GET", "credentials/wallet/", CRED, "any signed-in user: the licences they hold", OWNER,
     hide=SIGNED_IN - OWNER, visible=_text_has(lambda w: w.credential_number))
page("GET", "credentials/manage/", CRED, "staff: the licences their department issued", ISSUER,
     hide=STAFF - ISSUER, visible=_text_has(lambda w: w.credential_number))
page("POST", "credentials/manage/<uuid:credential_id>/status/", CRED, ISSUER_RULE, ISSUER,
     url=lambda w: f"/credentials/manage/{w.credential}/status/",
     body=lambda w, role: {"action": "suspend", "reason": "核查中"})


# ============================================================================================================
# security: incidents (security team), a person's notices
# ============================================================================================================

SEC = "security"
SEC_RULE = "the security team (role security_admin)"
api("GET", "/api/security/incidents", SEC, SEC_RULE, SECURITY_TEAM, visible=_json_has("id", lambda w: w.incident))
api("GET", "/api/security/incidents/{incident_id}", SEC, SEC_RULE, SECURITY_TEAM,
    url=lambda w: f"/api/security/incidents/{w.incident}")
api("POST", "/api/security/incidents/{incident_id}/transitions", SEC, SEC_RULE, SECURITY_TEAM,
    url=lambda w: f"/api/security/incidents/{w.incident}/transitions",
    body=lambda w, role: {"action": "close", "note": "结案报告：已处置，未发生泄露"})
api("GET", "/api/security/my-notices", SEC, "any signed-in user: the notices about incidents involving their data",
    {"citizen"}, hide=SIGNED_IN - {"citizen"}, visible=_json_has("id", lambda w: w.incident_notice))
page("GET", "security/incidents/", SEC, SEC_RULE, SECURITY_TEAM, visible=_text_has(lambda w: f"#{w.incident}<"))
page("GET", "security/incidents/<int:incident_id>/", SEC, SEC_RULE, SECURITY_TEAM,
     url=lambda w: f"/security/incidents/{w.incident}/")
page("POST", "security/incidents/<int:incident_id>/transition/", SEC, SEC_RULE, SECURITY_TEAM,
     url=lambda w: f"/security/incidents/{w.incident}/transition/",
     body=lambda w, role: {"action": "close", "note": "结案报告：已处置，未发生泄露"})
page("GET", "security/my-notices/", SEC, "any signed-in user: the notices about incidents involving their data",
     {"citizen"}, hide=SIGNED_IN - {"citizen"}, visible=_text_has(lambda w: f"安全事件 #{w.incident}"))
page("POST", "security/my-notices/<int:notice_id>/read/", SEC, "the person the notice is for", {"citizen"},
     url=lambda w: f"/security/my-notices/{w.incident_notice}/read/")


# ============================================================================================================
# core: unified identity (统一身份认证, OpenID Connect; off in this world: both send back to the password login)
# ============================================================================================================

OIDC_RULE = "anyone: the way to sign in (to the identity provider when configured, else back to the login page)"
page("GET", "oidc/authenticate/", "core", OIDC_RULE, ALL)
page("GET", "oidc/callback/", "core", OIDC_RULE, ALL, url=_const("/oidc/callback/?code=x&state=y"))


# ============================================================================================================
# notifications: a person's messages (我的消息) and channel choices
# ============================================================================================================

NTF = "notifications"
OWN_MESSAGES = "any signed-in user: their own messages only"
api("GET", "/api/notifications/messages", NTF, OWN_MESSAGES, {"citizen"}, hide=SIGNED_IN - {"citizen"},
    visible=_json_has("id", lambda w: w.message, items="messages"))
api("POST", "/api/notifications/messages/{message_id}/read", NTF, "the person the message is for", {"citizen"},
    url=lambda w: f"/api/notifications/messages/{w.message}/read")
api("GET", "/api/notifications/preferences", NTF, "any signed-in user: their own choices", SIGNED_IN)
api("POST", "/api/notifications/preferences", NTF, "any signed-in user: their own choices", SIGNED_IN,
    body=lambda w, role: {"channels": ["sms"]})
page("GET", "messages/", NTF, OWN_MESSAGES, {"citizen"}, hide=SIGNED_IN - {"citizen"},
     visible=_text_has(lambda w: f"/messages/{w.message}/"))
page("GET", "messages/<int:message_id>/", NTF, "the person the message is for", {"citizen"},
     url=lambda w: f"/messages/{w.message}/")
page("POST", "messages/read-all/", NTF, "any signed-in user: marks their own messages read", SIGNED_IN)
page("GET", "messages/settings/", NTF, "any signed-in user: their own choices", SIGNED_IN)
page("POST", "messages/settings/", NTF, "any signed-in user: their own choices", SIGNED_IN,
     body=lambda w, role: {"channels": ["sms"]})


# ============================================================================================================
# feedback: 好差评 ratings, rectification, 12345 work orders, third-party evaluation
# ============================================================================================================

FB = "feedback"
RATER = {"citizen"}  # the person served (张三)
DEPT = {"approver_owner", "data_owner", "admin"}  # staff of 人社局 (the rated / handling department); the admin
OPERATORS = {"hotline", "admin"}
EVALUATORS = {"evaluator", "admin"}
OFFICE = {"admin"}  # the service-management office (administrator role)
ORDER_VIEWERS = {"citizen", "hotline", "evaluator", "admin"}
DEPT_RULE = "staff of the department concerned (人社局); the admin"
OPERATOR_RULE = "12345 operators; the admin"
EVALUATOR_RULE = "third-party evaluators (read-only, personal data masked); the admin"
APPLICANT_OR_OPERATOR = APPLICANTS | OPERATORS


def _appeal(w: World) -> None:
    _post_as(w, "approver_owner", f"/api/ratings/rectifications/{w.rectification}/appeal", {"reason": "排队属高峰期"})


def _verify(w: World) -> None:
    _post_as(w, "approver_owner", f"/api/ratings/rectifications/{w.rectification}/verify", {"note": "属实", "days": 5})


def _verify_and_rectify(w: World) -> None:
    _verify(w)
    _post_as(w, "approver_owner", f"/api/ratings/rectifications/{w.rectification}/rectify", {"note": "增开窗口"})


def _calls_csv(w: World, role: str) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("calls.csv", "诉求内容,类型\n路灯坏了,求助\n".encode(), "text/csv")}


api("POST", "/api/ratings", FB, "the person served, for their own service (once)", RATER,
    body=lambda w, role: {"service": w.rate_service, "level": 5})
api("POST", "/api/ratings/window-services", FB, "window clerks of the window (综合窗口 of the city centre); the admin",
    {"clerk", "admin"}, body=lambda w, role: {"window": "yx-zwzx-w01", "department": OWNER_ORG, "person_name": "王五"})
api("GET", "/api/ratings/stats", FB, PUBLIC, ALL, url=_const(f"/api/ratings/stats?org={OWNER_ORG}"))
api("GET", "/api/ratings/ranking", FB, PUBLIC, ALL)
api("GET", "/api/ratings/services", FB, "any signed-in user: the services they may rate", RATER,
    hide=SIGNED_IN - RATER, visible=_json_has("ref", lambda w: w.rate_service))
api("GET", "/api/ratings/rectifications", FB, "staff: their departments' rectifications; the service office all",
    DEPT, hide=SIGNED_IN - DEPT, visible=_json_has("id", lambda w: w.rectification))
api("POST", "/api/ratings/rectifications/{pk}/verify", FB, DEPT_RULE, DEPT,
    url=lambda w: f"/api/ratings/rectifications/{w.rectification}/verify", body=lambda w, role: {"note": "属实", "days": 5})
api("POST", "/api/ratings/rectifications/{pk}/rectify", FB, DEPT_RULE, DEPT, prepare=_verify,
    url=lambda w: f"/api/ratings/rectifications/{w.rectification}/rectify", body=lambda w, role: {"note": "增开窗口"})
api("POST", "/api/ratings/rectifications/{pk}/appeal", FB, DEPT_RULE, DEPT,
    url=lambda w: f"/api/ratings/rectifications/{w.rectification}/appeal", body=lambda w, role: {"reason": "不实"})
api("POST", "/api/ratings/rectifications/{pk}/decide", FB, "the service-management office (administrators)", OFFICE,
    prepare=_appeal, url=lambda w: f"/api/ratings/rectifications/{w.rectification}/decide",
    body=lambda w, role: {"upheld": True, "decision": "申诉成立"})
api("POST", "/api/ratings/rectifications/{pk}/revisit", FB, DEPT_RULE, DEPT, prepare=_verify_and_rectify,
    url=lambda w: f"/api/ratings/rectifications/{w.rectification}/revisit", body=lambda w, role: {"result": "satisfied"})
api("POST", "/api/hotline/classify", FB, OPERATOR_RULE, OPERATORS, body=lambda w, role: {"text": "路灯坏了"})
api("POST", "/api/hotline/orders", FB, "citizens and businesses (their own request); 12345 operators; the admin",
    APPLICANT_OR_OPERATOR, body=lambda w, role: {"text": "小区门口路灯坏了"})
api("GET", "/api/hotline/orders", FB, "any signed-in user: operators all, departments theirs, people their own",
    {"citizen", "hotline", "admin"}, hide=SIGNED_IN - {"citizen", "hotline", "admin"},
    visible=_json_has("number", lambda w: w.order))
api("GET", "/api/hotline/orders/{number}", FB, "the person, 12345 operators, evaluators (masked), the admin",
    ORDER_VIEWERS, url=lambda w: f"/api/hotline/orders/{w.order}")
api("POST", "/api/hotline/orders/{number}/dispatch", FB, OPERATOR_RULE, OPERATORS,
    url=lambda w: f"/api/hotline/orders/{w.order}/dispatch", body=lambda w, role: {"department": OWNER_ORG})
api("POST", "/api/hotline/orders/{number}/receive", FB, DEPT_RULE, DEPT,
    url=lambda w: f"/api/hotline/orders/{w.order_dispatched}/receive")
api("POST", "/api/hotline/orders/{number}/return", FB, DEPT_RULE, DEPT,
    url=lambda w: f"/api/hotline/orders/{w.order_dispatched}/return", body=lambda w, role: {"reason": "不属本部门职责"})
api("POST", "/api/hotline/orders/{number}/answer", FB, DEPT_RULE, DEPT,
    url=lambda w: f"/api/hotline/orders/{w.order_dispatched}/answer", body=lambda w, role: {"text": "已处理"})
api("POST", "/api/hotline/orders/{number}/confirm", FB, "the person; 12345 operators after a call-back; the admin",
    {"citizen", "hotline", "admin"}, url=lambda w: f"/api/hotline/orders/{w.order_answered}/confirm",
    body=lambda w, role: {"satisfied": True})
api("POST", "/api/hotline/orders/{number}/merge", FB, OPERATOR_RULE, OPERATORS,
    url=lambda w: f"/api/hotline/orders/{w.order_dup}/merge", body=lambda w, role: {"into": w.order})
api("GET", "/api/hotline/orders/{number}/duplicates", FB, OPERATOR_RULE, OPERATORS,
    url=lambda w: f"/api/hotline/orders/{w.order}/duplicates")
api("POST", "/api/hotline/import", FB, OPERATOR_RULE, OPERATORS, body=_calls_csv, multipart=True)
api("GET", "/api/hotline/knowledge", FB, "public (service-catalogue guides)", ALL, url=_const("/api/hotline/knowledge?q=工伤认定"))
api("GET", "/api/evaluation/data/{dataset}", FB, EVALUATOR_RULE, EVALUATORS, url=_const("/api/evaluation/data/ratings"))
api("GET", "/api/evaluation/data/{dataset}/export", FB, EVALUATOR_RULE, EVALUATORS,
    url=_const("/api/evaluation/data/orders/export?format=parquet"))
api("POST", "/api/evaluation/sample", FB, EVALUATOR_RULE, EVALUATORS, body=lambda w, role: {"size": 3, "seed": 42})

page("GET", "feedback/stats/", FB, PUBLIC, ALL)
page("GET", "feedback/rate/", FB, "any signed-in user: the services they may rate", RATER,
     hide=SIGNED_IN - RATER, visible=_text_has(lambda w: w.rate_service))
page("GET", "feedback/rate/<str:ref>/", FB, "the person served", RATER, url=lambda w: f"/feedback/rate/{w.rate_service}/")
page("POST", "feedback/rate/<str:ref>/", FB, "the person served, for their own service (once)", RATER,
     url=lambda w: f"/feedback/rate/{w.rate_service}/", body=lambda w, role: {"level": "5"})
page("GET", "feedback/pad/<str:token>/", FB, "public: the window's rating pad (the signed 30-minute link is the secret)",
     ALL, url=lambda w: w.pad_url)
page("POST", "feedback/pad/<str:token>/", FB, "public: the window's rating pad (the signed 30-minute link is the secret)",
     ALL, url=lambda w: w.pad_url, body=lambda w, role: {"level": "5"})
page("GET", "feedback/orders/", FB, "any signed-in user: their own 12345 requests", RATER,
     hide=SIGNED_IN - RATER, visible=_text_has(lambda w: w.order))
page("POST", "feedback/orders/", FB, "citizens and businesses (staff go through the 12345 operators)", APPLICANTS,
     body=lambda w, role: {"text": "小区门口路灯坏了"})
page("GET", "feedback/orders/<str:number>/", FB, "the person who filed it", RATER,
     url=lambda w: f"/feedback/orders/{w.order_answered}/")
page("POST", "feedback/orders/<str:number>/", FB, "the person who filed it (confirms the answer)", RATER,
     url=lambda w: f"/feedback/orders/{w.order_answered}/", body=lambda w, role: {"satisfied": "1"})
page("GET", "feedback/department/", FB, "staff: their departments' orders and rectifications", DEPT,
     hide=STAFF - DEPT, visible=_text_has(lambda w: w.order_dispatched))
page("GET", "feedback/department/orders/<str:number>/", FB, DEPT_RULE, DEPT,
     url=lambda w: f"/feedback/department/orders/{w.order_dispatched}/")
page("POST", "feedback/department/orders/<str:number>/", FB, DEPT_RULE, DEPT,
     url=lambda w: f"/feedback/department/orders/{w.order_dispatched}/", body=lambda w, role: {"action": "receive"})
page("GET", "feedback/department/rectifications/<int:pk>/", FB, DEPT_RULE + " (the office decides appeals)", DEPT,
     url=lambda w: f"/feedback/department/rectifications/{w.rectification}/")
page("POST", "feedback/department/rectifications/<int:pk>/", FB, DEPT_RULE, DEPT,
     url=lambda w: f"/feedback/department/rectifications/{w.rectification}/",
     body=lambda w, role: {"action": "verify", "note": "属实", "days": "5"})
page("GET", "feedback/evaluation/", FB, EVALUATOR_RULE, EVALUATORS)
page("POST", "feedback/evaluation/", FB, EVALUATOR_RULE + " (a seeded sample draw)", EVALUATORS,
     body=lambda w, role: {"size": "3", "seed": "42"})
page("GET", "hotline/", FB, OPERATOR_RULE, OPERATORS)
page("POST", "hotline/", FB, OPERATOR_RULE, OPERATORS, body=lambda w, role: {"text": "小区门口路灯坏了"})
page("GET", "hotline/import/", FB, OPERATOR_RULE, OPERATORS)
page("POST", "hotline/import/", FB, OPERATOR_RULE, OPERATORS, body=_calls_csv)
page("GET", "hotline/orders/<str:number>/", FB, OPERATOR_RULE, OPERATORS, url=lambda w: f"/hotline/orders/{w.order}/")
page("POST", "hotline/orders/<str:number>/", FB, OPERATOR_RULE, OPERATORS, url=lambda w: f"/hotline/orders/{w.order}/",
     body=lambda w, role: {"action": "dispatch", "department": OWNER_ORG})


# ============================================================================================================
# enforcement: administrative penalty cases (市场监管局's officer, legal reviewer and head)
# ============================================================================================================

ENF = "enforcement"
ENF_STAFF = {"officer", "legal_reviewer", "head", "admin"}
ENF_OFFICER = {"officer", "admin"}
ENF_REVIEWER = {"legal_reviewer", "admin"}
ENF_HEAD = {"head", "admin"}
ENF_STAFF_RULE = "enforcement staff (officer, legal reviewer, head) of the case's department (市场监管局); the admin"
OFFICER_RULE = "the enforcement officers of the case's department (市场监管局); the admin"
REVIEWER_RULE = "the legal reviewers of the case's department (市场监管局); the admin"
HEAD_RULE = "the enforcement head of the case's department (市场监管局); the admin"


def _enf(step: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/enforcement/cases/{w.enf[step]}{suffix}"


api("GET", "/api/enforcement/items", ENF, PUBLIC, ALL)
api("GET", "/api/enforcement/items/{code}", ENF, PUBLIC, ALL, url=_const("/api/enforcement/items/SP-122"))
api("POST", "/api/enforcement/discretion", ENF, PUBLIC, ALL,
    body=lambda w, role: {"item": "SP-122", "facts": {"goods_value": 1500}})
api("GET", "/api/enforcement/public", ENF, "public (personal data masked)", ALL)
api("GET", "/api/enforcement/bodies", ENF, PUBLIC, ALL)
api("GET", "/api/enforcement/leads", ENF, "enforcement staff: the leads of their departments", ENF_STAFF,
    hide=SIGNED_IN - ENF_STAFF, visible=_json_has("ref", lambda w: w.enf["lead"]))
api("POST", "/api/enforcement/leads", ENF, "enforcement officers, for their department", ENF_OFFICER,
    body=lambda w, role: {"source": "manual", "entity_name": "某店", "item_code": "SP-122", "description": "巡查发现"})
api("GET", "/api/enforcement/cases", ENF, "enforcement staff: the cases of their departments", ENF_STAFF,
    hide=SIGNED_IN - ENF_STAFF, visible=_json_has("case_no", lambda w: w.enf["filing"]))
api("POST", "/api/enforcement/cases", ENF, "enforcement officers of the item's department (市场监管局); the admin",
    ENF_OFFICER, body=lambda w, role: {"item": "SP-122", "party_name": "某店", "facts": {"goods_value": 100}})
api("GET", "/api/enforcement/cases/{case_no}", ENF, ENF_STAFF_RULE, ENF_STAFF, url=_enf("filing"))
api("GET", "/api/enforcement/cases/{case_no}/records", ENF, ENF_STAFF_RULE, ENF_STAFF, url=_enf("filing", "/records"))
api("POST", "/api/enforcement/cases/{case_no}/records", ENF, ENF_STAFF_RULE, ENF_STAFF,
    url=_enf("investigating", "/records"), body=lambda w, role: {"action": "询问笔录", "text": "询问当事人"})
api("POST", "/api/enforcement/cases/{case_no}/filing", ENF, HEAD_RULE, ENF_HEAD, url=_enf("filing", "/filing"),
    body=lambda w, role: {"approve": True})
api("POST", "/api/enforcement/cases/{case_no}/facts", ENF, OFFICER_RULE, ENF_OFFICER,
    url=_enf("investigating", "/facts"), body=lambda w, role: {"facts": {"goods_value": 800}})
api("POST", "/api/enforcement/cases/{case_no}/investigation", ENF, OFFICER_RULE, ENF_OFFICER,
    url=_enf("investigating", "/investigation"), body=lambda w, role: {"penalty_kinds": ["fine"], "fine": 50000})
api("POST", "/api/enforcement/cases/{case_no}/legal-review", ENF, REVIEWER_RULE, ENF_REVIEWER,
    url=_enf("legal_review", "/legal-review"), body=lambda w, role: {"approve": True, "opinion": "同意"})
api("POST", "/api/enforcement/cases/{case_no}/notice", ENF, OFFICER_RULE, ENF_OFFICER, url=_enf("notifying", "/notice"),
    body=lambda w, role: {"action": "give"})
api("POST", "/api/enforcement/cases/{case_no}/hearing", ENF, OFFICER_RULE, ENF_OFFICER, url=_enf("hearing", "/hearing"),
    body=lambda w, role: {"transcript": "当事人无异议"})
api("POST", "/api/enforcement/cases/{case_no}/extension", ENF, HEAD_RULE, ENF_HEAD,
    url=_enf("investigating", "/extension"), body=lambda w, role: {"days": 30, "reason": "案情复杂"})
api("POST", "/api/enforcement/cases/{case_no}/decision", ENF, HEAD_RULE, ENF_HEAD, url=_enf("deciding", "/decision"),
    body=lambda w, role: {"penalty_kinds": ["fine"], "fine": 50000})
api("POST", "/api/enforcement/cases/{case_no}/service", ENF, OFFICER_RULE, ENF_OFFICER, url=_enf("serving", "/service"),
    body=lambda w, role: {"note": "直接送达"})
api("POST", "/api/enforcement/cases/{case_no}/execution", ENF, OFFICER_RULE, ENF_OFFICER,
    url=_enf("executing", "/execution"), body=lambda w, role: {"note": "罚款已缴纳"})
api("POST", "/api/enforcement/cases/{case_no}/closure", ENF, OFFICER_RULE, ENF_OFFICER, url=_enf("closing", "/closure"))
api("POST", "/api/enforcement/cases/{case_no}/publication", ENF, OFFICER_RULE, ENF_OFFICER,
    url=_enf("serving", "/publication"))
api("POST", "/api/enforcement/cases/{case_no}/withdrawal", ENF, HEAD_RULE, ENF_HEAD, url=_enf("published", "/withdrawal"),
    body=lambda w, role: {"reason": "信用修复"})

page("GET", "enforcement/items/", ENF, PUBLIC, ALL)
page("GET", "enforcement/public/", ENF, "public (personal data masked)", ALL)
page("GET", "enforcement/bodies/", ENF, PUBLIC, ALL)
page("GET", "enforcement/cases/", ENF, "enforcement officers: their departments' cases and leads", ENF_OFFICER)
page("POST", "enforcement/cases/new/", ENF, "enforcement officers of the item's department (市场监管局); the admin",
     ENF_OFFICER, body=lambda w, role: {"item": "SP-122", "party_name": "某店", "facts": '{"goods_value": 100}'})
page("GET", "enforcement/cases/<str:case_no>/", ENF, ENF_STAFF_RULE, ENF_STAFF,
     url=lambda w: f"/enforcement/cases/{w.enf['filing']}/")
for _variant, _step, _allow, _rule, _body in (
        ("立案审批", "filing", ENF_HEAD, HEAD_RULE, {"action": "filing", "decision": "approve"}),
        ("法制审核", "legal_review", ENF_REVIEWER, REVIEWER_RULE,
         {"action": "review", "decision": "approve", "opinion": "同意"}),
        ("作出决定", "deciding", ENF_HEAD, HEAD_RULE, {"action": "decision", "penalty_kinds": "fine", "fine": "50000"}),
        ("追加记录", "investigating", ENF_STAFF, ENF_STAFF_RULE, {"action": "record", "record_action": "询问笔录"}),
        ("公示", "serving", ENF_OFFICER, OFFICER_RULE, {"action": "publish"}),
        ("撤下公示", "published", ENF_HEAD, HEAD_RULE, {"action": "withdraw", "reason": "信用修复"})):
    page("POST", "enforcement/cases/<str:case_no>/act/", ENF, _rule, _allow, variant=_variant,
         url=lambda w, s=_step: f"/enforcement/cases/{w.enf[s]}/act/", body=lambda w, role, b=_body: dict(b))
page("GET", "enforcement/cases/<str:case_no>/decision.pdf", ENF, ENF_STAFF_RULE, ENF_STAFF,
     url=lambda w: f"/enforcement/cases/{w.enf['serving']}/decision.pdf")
page("GET", "enforcement/review/", ENF, "legal reviewers: the cases waiting for 法制审核 in their departments",
     ENF_REVIEWER)
page("GET", "enforcement/head/", ENF, "enforcement heads: filings, decisions, deadlines, overdue publications",
     ENF_HEAD)


# ============================================================================================================
# insight: indicators (public figures; the staff dashboard and drill-down are for staff)
# ============================================================================================================

INS = "insight"
api("GET", "/api/insight/indicators", INS, "public (open to third parties and the public)", ALL,
    url=_const("/api/insight/indicators?period=2026-03"))
page("GET", "insight/", INS, "public dashboard (figures, trends, rankings; no case lists)", ALL,
     url=_const("/insight/?period=2026-03"))
page("GET", "insight/export.csv", INS, "public", ALL, url=_const("/insight/export.csv?period=2026-03"))
page("GET", "insight/export.xlsx", INS, "public", ALL, url=_const("/insight/export.xlsx?period=2026-03"))
page("GET", "insight/report.pdf", INS, "public monthly report", ALL, url=_const("/insight/report.pdf?period=2026-03"))
page("GET", "insight/staff/", INS, "staff (工作人员)", STAFF, url=_const("/insight/staff/?period=2026-03"))
page("GET", "insight/staff/drill/", INS,
     "staff: administrators and evaluators any organisation's cases, other staff their own organisation's", STAFF,
     url=_const("/insight/staff/drill/?indicator=on_time_rate&period=2026-03"))

# insight: process mining (the service-management office and third-party evaluators)
MINERS = {"admin", "evaluator"}
MINING_RULE = "the service-management office (administrators) and third-party evaluators"
api("GET", "/api/insight/mining/processes", INS, MINING_RULE, MINERS)
api("GET", "/api/insight/mining", INS, MINING_RULE, MINERS, url=_const("/api/insight/mining?process=tongban_item_review"))
page("GET", "insight/mining/", INS, MINING_RULE, MINERS, url=_const("/insight/mining/?process=tongban_item_review"))

# insight: 容错纠错 (accountability leads of 人社局 naming approver-rsj; the office decides)
LEAD_VIEWERS = {"approver_owner", "data_owner", "admin"}
LEAD_RULE = "staff: the leads of their own departments; the service-management office (administrators) every lead"
APPLY_RULE = "the official named on the lead (none named: the department's staff)"
DECIDE_RULE = ("the service-management office (administrators) or the department's discipline officers (纪检监察); "
               "never the official on the lead")
page("GET", "insight/accountability/", INS, LEAD_RULE, LEAD_VIEWERS, hide=STAFF - LEAD_VIEWERS,
     visible=_text_has(lambda w: f'id="lead-{w.lead_open}"'))
page("GET", "insight/accountability/<int:lead_id>/", INS, LEAD_RULE, LEAD_VIEWERS,
     url=lambda w: f"/insight/accountability/{w.lead_applied}/")
page("GET", "insight/accountability/<int:lead_id>/apply/", INS, APPLY_RULE, {"approver_owner"},
     url=lambda w: f"/insight/accountability/{w.lead_open}/apply/")
page("POST", "insight/accountability/<int:lead_id>/apply/", INS, APPLY_RULE, {"approver_owner"},
     url=lambda w: f"/insight/accountability/{w.lead_open}/apply/",
     body=lambda w, role: {"reform_reason": "推行并联审批改革，试行新的审查方式", "criteria": ["reform", "no_gain"]})
page("GET", "insight/accountability/<int:lead_id>/decide/", INS, DECIDE_RULE, {"admin"},
     url=lambda w: f"/insight/accountability/{w.lead_applied}/decide/")
page("POST", "insight/accountability/<int:lead_id>/decide/", INS, DECIDE_RULE, {"admin"},
     url=lambda w: f"/insight/accountability/{w.lead_applied}/decide/",
     body=lambda w, role: {"decision": "lenient", "criteria_met": ["reform", "no_gain", "diligent"],
                           "reason": "属改革探索，未谋私利，已尽责"})


# ============================================================================================================
# policies: 免申即享 (proactive notices for the person matched; policy management for the administration)
# ============================================================================================================

POL = "policies"
POL_OFFICER = frozenset({"admin"})  # the role administrator (政务服务管理机构); superusers hold every role
POL_RULE = "policy officers (role administrator)"
POL_OWNER = "the person (or entity) the notice is for"
api("GET", "/api/policies/my-notices", POL, "any signed-in user: the notices of policies they qualify for",
    {"company"}, hide=SIGNED_IN - {"company"}, visible=_json_has("id", lambda w: w.policy_notice))
api("POST", "/api/policies/my-notices/{notice_id}/confirm", POL, POL_OWNER, {"company"},
    url=lambda w: f"/api/policies/my-notices/{w.policy_notice}/confirm")
api("POST", "/api/policies/my-notices/{notice_id}/decline", POL, POL_OWNER, {"company"},
    url=lambda w: f"/api/policies/my-notices/{w.policy_notice}/decline")
api("POST", "/api/policies/opt-out", POL, "any signed-in person or entity with a verified identity (证件号码)",
    APPLICANTS, body=lambda w, role: {"all_policies": True})
api("GET", "/api/policies/", POL, POL_RULE, POL_OFFICER)
api("POST", "/api/policies/{code}/dry-run", POL, POL_RULE, POL_OFFICER,
    url=lambda w: f"/api/policies/{w.policy_draft}/dry-run")
api("POST", "/api/policies/{code}/publish", POL, POL_RULE, POL_OFFICER,
    url=lambda w: f"/api/policies/{w.policy_draft}/publish")
page("GET", "policies/", POL, POL_RULE, POL_OFFICER, visible=_text_has(lambda w: "个体工商户一次性创业补贴"))
page("GET", "policies/my/", POL, "any signed-in user: the notices of policies they qualify for", {"company"},
     hide=SIGNED_IN - {"company"}, visible=_text_has(lambda w: f'id="match-{w.policy_notice}"'))
page("POST", "policies/my/<int:match_id>/<str:action>/", POL, POL_OWNER, {"company"},
     url=lambda w: f"/policies/my/{w.policy_notice}/decline/")
page("POST", "policies/manage/<str:code>/<str:action>/", POL, POL_RULE, POL_OFFICER,
     url=lambda w: f"/policies/manage/{w.policy_draft}/dry-run/")


# ============================================================================================================
# the table in docs/authorisation.md
# ============================================================================================================

MARKS = {"allow": "✓", "hide": "∅", "deny": "✗"}


def markdown_tables() -> str:
    """The matrix as Markdown: one table per context, a row per operation/page, a column per role."""
    roles = list(ROLES)
    out: list[str] = []
    head = "| operation / page | rule | " + " | ".join(_short(r) for r in roles) + " |"
    for context in dict.fromkeys(r.context for r in ROWS):
        for kind, title in (("api", "API"), ("page", "pages")):
            rows = [r for r in ROWS if r.context == context and r.kind == kind]
            if not rows:
                continue
            out += [f"### {context}: {title}", "", head, "|---|---|" + "---|" * len(roles)]
            for r in rows:
                cells = [MARKS[r.expect(role)] + ("!" if role in r.holes else "") for role in roles]
                out.append(f"| {r.label} | {r.rule} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def holes_list() -> str:
    lines = []
    for r in ROWS:
        by_reason: dict[str, list[str]] = {}
        for role, reason in r.holes.items():
            by_reason.setdefault(reason, []).append(role)
        for reason, roles in by_reason.items():
            who = ", ".join(ROLE_LABELS[x] for x in ROLES if x in roles)
            lines.append(f"- {r.label} — {who}: {reason.removeprefix('hole: ')}")
    return "\n".join(lines)


def _short(role: str) -> str:
    return {"anonymous": "anon", "citizen": "zhangsan", "other_citizen": "lisi", "company": "yunxi-tech",
            "clerk": "clerk", "township_clerk": "clerk-ch", "approver_owner": "approver-rsj (owner)",
            "approver_other": "approver-ga (other)", "supervisor": "supervisor", "data_owner": "data-rsj",
            "security": "security", "admin": "admin", "hotline": "hotline", "evaluator": "evaluator",
            "officer": "officer-scjg", "legal_reviewer": "legal-scjg", "head": "head-scjg"}[role]
