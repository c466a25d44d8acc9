"""Applications JSON API: the whole applicant, window and approver journey (办件接口).

Authentication: ``Authorization: Bearer <token>`` from ``POST /api/auth/token``, or the browser session.
Errors: ``{"code": "<stable code>", "message": "<中文说明>", "detail": {...}}`` with a 4xx status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from tongban.core.auth import API_AUTH, AuthedRequest
from tongban.core.models import Organisation
from tongban.core.openapi import ErrorOut, public
from tongban.workflow import services as wf
from tongban.workflow.models import Task

from . import documents, files, selectors
from .errors import ApplicationError
from .models import Application, ProxyAuthorisation
from .services import decisions, guide, intake, materials, proxies, supplements, window

router = Router(tags=["applications 办件"], auth=API_AUTH)


# --- schemas -----------------------------------------------------------------------------------------------



class SituationChoice(Schema):
    situation_code: str = ""
    answers: dict[str, Any] | None = None


class ApplicationIn(Schema):
    item_code: str = ""
    bundle_code: str = ""
    situations: dict[str, SituationChoice] = {}
    form_data: dict[str, Any] = {}
    proxy_id: int | None = None
    channel: str = Application.Channel.ONLINE
    window_code: str = ""
    applicant_phone: str = ""


class SubmitIn(Schema):
    form_data: dict[str, Any] | None = None


class CommitmentIn(Schema):
    material_keys: list[str]
    text: str = ""


class AcceptIn(Schema):
    tolerate: bool = False
    supplement_days: int | None = None


class ReasonIn(Schema):
    reason: str


class VisitIn(Schema):
    window_code: str
    purpose: str = "现场办理"


class DecideIn(Schema):
    outcome: str
    opinion: str = ""


class ProxyIn(Schema):
    principal_name: str
    principal_id_number: str
    scope: str
    valid_until: dt.date
    kind: str = ProxyAuthorisation.Kind.AGENT


class EvidenceIn(Schema):
    consent: bool


def _dt(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def application_summary(app: Application) -> dict[str, Any]:
    return {
        "ref": app.ref, "title": app.title, "status": app.status, "status_label": app.get_status_display(),
        "item_code": app.item.code if app.item else None, "bundle_code": app.bundle.code if app.bundle else None,
        "applicant_name": app.applicant_name, "channel": app.channel,
        "created_at": _dt(app.created_at), "submitted_at": _dt(app.submitted_at), "accepted_at": _dt(app.accepted_at),
        "completed_at": _dt(app.completed_at), "promised_limit_days": app.promised_limit_days,
    }


def application_detail(app: Application, written: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    case = selectors.case_file(app, workflow_events=False, written=written)
    proxy = app.proxy
    return {
        **application_summary(app),
        "form_data": app.form_data,
        "proxy": {"id": proxy.pk, "kind": proxy.kind, "agent": str(proxy.agent), "scope": proxy.scope,
                  "valid_until": proxy.valid_until.isoformat()} if proxy else None,
        "items": [{"item_code": ai.item.code, "name": ai.item.name, "department": ai.department.code,
                   "department_name": ai.department.name, "situation": ai.situation.code if ai.situation else None,
                   "status": ai.status, "status_label": ai.get_status_display(), "opinion": ai.opinion,
                   "decided_at": _dt(ai.decided_at), "by_commitment": ai.by_commitment} for ai in case.items],
        "materials": [{"key": m.key, "name": m.name, "items": m.item_codes, "requirement": m.requirement,
                       "source": m.source, "status": m.status, "status_label": m.get_status_display(),
                       "sha256": m.file.sha256 if m.file_id else None, "evidence": m.evidence or None}
                      for m in case.materials],
        "notices": [{"kind": n.kind, "title": n.get_kind_display(), "code": n.code, "issued_at": _dt(n.issued_at),
                     "pdf": f"/api/applications/{app.ref}/notices/{n.code}.pdf"} for n in case.notices],
        "timeline": [{"at": _dt(e.at), "kind": e.kind, "message": e.message, "actor": e.actor_label}
                     for e in case.timeline],
        "tasks": [{"id": t.pk, "name": t.name, "department": t.candidate_org.code if t.candidate_org else None,
                   "state": t.state, "outcome": t.outcome, "light": t.light, "due_on": t.due_on.isoformat()
                   if t.due_on else None, "created_at": _dt(t.created_at), "completed_at": _dt(t.completed_at)}
                  for t in case.tasks],
        "visits": case.visits,
        "supplements": [{"materials": s.material_keys, "deadline": s.deadline.isoformat(),
                         "fulfilled_at": _dt(s.fulfilled_at), "reminders": s.reminders} for s in case.supplements],
    }


def _app_for(request: AuthedRequest, ref: str, *, lock: bool = False) -> Application:
    """The case the request names, if the user may see it; ``lock`` (inside ``transaction.atomic``): read with
    its row lock, for a service that changes it (told with ``locked=True``, it does not read it again)."""
    app = selectors.get_application(ref, light=True, lock=lock)
    if app is None or not selectors.can_view(request.user, app):
        raise ApplicationError(f"办件“{ref}”不存在或无权查看", code="application.not_found", status=404)
    return app


def _window(code: str) -> Organisation:
    window_org = Organisation.objects.filter(code=code).first()
    if window_org is None:
        raise ApplicationError(f"窗口“{code}”不存在", code="window.not_found", status=404)
    return window_org


# --- applicant ---------------------------------------------------------------------------------------------


@router.get("/applications", summary="我的办件")
def my_applications(request: AuthedRequest) -> list[dict[str, Any]]:
    return [application_summary(a) for a in selectors.applications_of(request.user)[:200]]


@router.post("/applications", response={201: dict, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="创建申请（单个事项或一件事）")
def create(request: AuthedRequest, payload: ApplicationIn):
    proxy = None
    if payload.proxy_id:
        proxy = ProxyAuthorisation.objects.filter(pk=payload.proxy_id).first()
        if proxy is None:
            raise ApplicationError("代办授权不存在", code="proxy.not_found", status=404)
    window_org = _window(payload.window_code) if payload.window_code else None
    choices = {code: guide.Selection(code, c.situation_code, c.answers) for code, c in payload.situations.items()}
    app = intake.create_application(
        user=request.user, item_code=payload.item_code, bundle_code=payload.bundle_code, situations=choices,
        form_data=payload.form_data, proxy=proxy, channel=payload.channel, window=window_org,
        applicant_phone=payload.applicant_phone)
    return 201, application_detail(app, written=app.written)  # just created: answered from the rows written


@router.get("/applications/{ref}", summary="办件详情（全部材料、进度、结果）")
def detail(request: AuthedRequest, ref: str) -> dict[str, Any]:
    return application_detail(_app_for(request, ref))


@router.get("/applications/{ref}/form", summary="申请表 JSON Schema（一件事为合并后的一张表）")
def form(request: AuthedRequest, ref: str) -> dict[str, Any]:
    return guide.application_schema(_app_for(request, ref))


@router.post("/applications/{ref}/materials/{key}/file", summary="上传材料（同一内容只存一份）")
def upload(request: AuthedRequest, ref: str, key: str, file: UploadedFile = File(...)) -> dict[str, Any]:
    with transaction.atomic():  # the case read once, locked, for the whole step
        app = _app_for(request, ref, lock=True)
        stored = materials.store_upload(file)
        row = materials.attach_file(app, key, stored, request.user, locked=True)
    return {"key": row.key, "status": row.status, "sha256": stored.sha256, "size": stored.size}


@router.get("/applications/{ref}/materials/{key}/evidence", summary="免证办理：将从哪个部门调取什么（同意前展示）")
def evidence_plan(request: AuthedRequest, ref: str, key: str) -> dict[str, Any]:
    return materials.evidence_plan(_app_for(request, ref), key)


@router.post("/applications/{ref}/materials/{key}/evidence", summary="同意并调取证明材料（免证办理）")
def fetch_evidence(request: AuthedRequest, ref: str, key: str, payload: EvidenceIn) -> dict[str, Any]:
    app = _app_for(request, ref)
    if not payload.consent:
        raise ApplicationError("调取前须经您同意", code="evidence.consent_required")
    row = materials.fetch_evidence(app, key, request.user)
    return {"key": key, "status": row.status, "evidence": row.evidence}


@router.post("/applications/{ref}/commitment", summary="签署告知承诺书")
def commitment(request: AuthedRequest, ref: str, payload: CommitmentIn) -> dict[str, Any]:
    c = materials.sign_commitment(_app_for(request, ref), request.user, payload.material_keys, payload.text)
    return {"signed_at": _dt(c.signed_at), "material_keys": c.material_keys, "text": c.text}


@router.post("/applications/{ref}/submit", summary="提交申请")
def submit(request: AuthedRequest, ref: str, payload: SubmitIn) -> dict[str, Any]:
    with transaction.atomic():  # the case read once, locked, for the whole submission
        app = intake.submit(_app_for(request, ref, lock=True), request.user, payload.form_data, locked=True)
    return application_detail(app)


@router.post("/applications/{ref}/supplements/{key}", summary="补齐容缺材料")
def supplement(request: AuthedRequest, ref: str, key: str, file: UploadedFile = File(...)) -> dict[str, Any]:
    app = _app_for(request, ref)
    stored = materials.store_upload(file)
    row = supplements.supplement_material(app, key, stored, request.user)
    app.refresh_from_db()
    return {"key": row.key, "status": row.status, "application_status": app.status}


@router.post("/applications/{ref}/correction", summary="申请人补正（答复退回补正，可附替换材料）")
def correction(request: AuthedRequest, ref: str, note: Form[str] = "", material_key: Form[str] = "",
               file: UploadedFile | None = File(None)) -> dict[str, Any]:
    app = _app_for(request, ref)
    replacements = {}
    if file is not None:
        if not material_key:
            raise ApplicationError("请说明替换的是哪一项材料（material_key）", code="correction.material_key_required")
        replacements[material_key] = materials.store_upload(file)
    done = supplements.complete_correction(app, request.user, note=note, replacements=replacements)
    app.refresh_from_db()
    return {"corrected_items": done, "application": application_summary(app)}


@router.get("/applications/{ref}/notices/{code}.pdf", summary="下载告知文书 PDF")
def notice_pdf(request: AuthedRequest, ref: str, code: str) -> HttpResponse:
    app = _app_for(request, ref)
    notice = get_object_or_404(app.notices, code=code)
    with files.open_file(notice.file) as fh:
        response = HttpResponse(fh.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{app.ref}-{notice.kind}.pdf"'
    return response


@router.post("/proxies", response={201: dict, 400: ErrorOut}, summary="登记代办授权（帮办代办），附授权委托书")
def create_proxy(request: AuthedRequest, payload: Form[ProxyIn], letter: UploadedFile | None = File(None)):
    document = None
    if letter is not None:
        document = materials.store_upload(letter, "letter")
    proxy = proxies.authorise_proxy(agent=request.user, principal_name=payload.principal_name,
                                    principal_id_number=payload.principal_id_number, scope=payload.scope,
                                    valid_until=payload.valid_until, kind=payload.kind, document=document,
                                    recorded_by=request.user)
    return 201, {"id": proxy.pk, "principal_name": proxy.principal_name, "scope": proxy.scope,
                 "valid_until": proxy.valid_until.isoformat(), "kind": proxy.kind,
                 "principal_has_account": proxy.principal_id is not None}


# --- window ------------------------------------------------------------------------------------------------


@router.get("/window/queue", summary="综合窗口待受理办件（任一部门任一事项）")
def window_queue(request: AuthedRequest) -> list[dict[str, Any]]:
    return [application_summary(a) for a in selectors.window_queue(request.user)[:200]]


@router.post("/window/applications/{ref}/accept", summary="受理（可容缺受理）")
def accept(request: AuthedRequest, ref: str, payload: AcceptIn) -> dict[str, Any]:
    app = window.accept(_app_for(request, ref), request.user, tolerate=payload.tolerate,
                        supplement_days=payload.supplement_days)
    return application_detail(app)


@router.post("/window/applications/{ref}/one-time-notice", summary="一次性告知")
def one_time_notice(request: AuthedRequest, ref: str) -> dict[str, Any]:
    notice = window.issue_one_time_notice(_app_for(request, ref), request.user)
    return {"code": notice.code, "missing": notice.content["lists"][0][1],
            "pdf": f"/api/applications/{ref}/notices/{notice.code}.pdf"}


@router.post("/window/applications/{ref}/refuse", summary="不予受理")
def refuse(request: AuthedRequest, ref: str, payload: ReasonIn) -> dict[str, Any]:
    notice = window.refuse(_app_for(request, ref), request.user, payload.reason)
    return {"code": notice.code, "pdf": f"/api/applications/{ref}/notices/{notice.code}.pdf"}


@router.post("/window/applications/{ref}/visits", summary="登记现场跑动")
def visit(request: AuthedRequest, ref: str, payload: VisitIn) -> dict[str, Any]:
    window_org = _window(payload.window_code)
    app = _app_for(request, ref)
    window.record_visit(app, request.user, window_org, payload.purpose)
    return selectors.visit_report(app)


# --- approver workbench ------------------------------------------------------------------------------------


def task_out(task: Task) -> dict[str, Any]:
    ai = selectors.task_application(task)
    return {"id": task.pk, "name": task.name, "state": task.state, "outcomes": task.outcomes,
            "department": task.candidate_org.code if task.candidate_org else None,
            "assignee": str(task.assignee) if task.assignee_id else None, "light": task.light,
            "limit_days": task.limit_days, "due_on": task.due_on.isoformat() if task.due_on else None,
            "created_at": _dt(task.created_at),
            "application_ref": ai.application.ref if ai else None, "item_code": ai.item.code if ai else None,
            "item_name": ai.item.name if ai else None}


def _task_for(request: AuthedRequest, task_id: int) -> Task:
    task = Task.objects.select_related("instance", "candidate_org", "assignee").filter(pk=task_id).first()
    if task is None or not (wf.is_candidate(task, request.user) or task.assignee_id == request.user.pk):
        raise ApplicationError("任务不存在或不属于您的部门", code="task.not_found", status=404)
    return task


@router.get("/workbench/tasks", summary="审批工作台：本部门待办（含红黄灯）")
def workbench(request: AuthedRequest, state: str = "open") -> list[dict[str, Any]]:
    return [task_out(t) for t in selectors.workbench_tasks(request.user, state=state)[:200]]


@router.get("/workbench/tasks/{task_id}", summary="任务及完整案卷")
def workbench_task(request: AuthedRequest, task_id: int) -> dict[str, Any]:
    task = _task_for(request, task_id)
    ai = selectors.task_application(task)
    return {"task": task_out(task), "application": application_detail(ai.application) if ai else None}


@router.post("/workbench/tasks/{task_id}/claim", summary="认领")
def claim(request: AuthedRequest, task_id: int) -> dict[str, Any]:
    return task_out(wf.claim(_task_for(request, task_id), request.user))


@router.post("/workbench/tasks/{task_id}/decide", summary="审批决定：approve / reject（须说明理由）/ return（退回补正）")
def decide(request: AuthedRequest, task_id: int, payload: DecideIn) -> dict[str, Any]:
    task = decisions.decide_task(_task_for(request, task_id), request.user, payload.outcome, payload.opinion)
    ai = selectors.task_application(task)
    return {"task": task_out(task),
            "application": application_summary(Application.objects.get(pk=ai.application_id)) if ai else None}


# --- public ------------------------------------------------------------------------------------------------


@router.get("/notices/{code}/verify", auth=None, summary="告知文书真伪查验（公开）")
@public
def verify_notice(request: HttpRequest, code: str) -> dict[str, Any]:
    notice = selectors.verify_notice(code)
    if notice is None:
        raise ApplicationError("查验码不存在，文书可能为伪造", code="notice.not_found", status=404)
    app = notice.application
    return {"valid": True, "kind": notice.kind, "title": notice.get_kind_display(), "ref": app.ref,
            "application_title": app.title, "applicant": documents.mask_name(app.applicant_name),
            "issued_at": _dt(notice.issued_at), "sealed": bool(notice.content.get("seal")),
            "seal_signer": (notice.content.get("seal") or {}).get("signer", "")}
