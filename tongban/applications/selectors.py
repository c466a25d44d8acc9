"""Application reads: my applications, the case file, the window queue, the approver workbench."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from tongban.catalog import selectors as catalog_selectors
from tongban.core import pii
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import organisations_for_role
from tongban.workflow import selectors as workflow_selectors
from tongban.workflow.models import Event, Task

from .models import (
    Application,
    ApplicationItem,
    ApplicationMaterial,
    AssistanceRequest,
    InvestmentProject,
    Notice,
    ProjectStage,
    ProxyAuthorisation,
)

ITEM_PROCESS = "tongban_item_review"  # the per-item review process (workflow_bridge deploys it)


def _instance_ids(app: Application) -> list[int]:
    ids = [i for i in app.items.values_list("process_instance_id", flat=True) if i]
    if app.process_instance_id:
        ids.append(app.process_instance_id)
    return ids


def tasks_for_application(app: Application) -> list[Task]:
    return list(Task.objects.filter(instance_id__in=_instance_ids(app)).select_related("candidate_org", "assignee")
                .order_by("created_at", "id"))


def events_for_application(app: Application) -> list[Event]:
    return list(Event.objects.filter(instance_id__in=_instance_ids(app)).order_by("at", "id"))


def application_item_for_task(task: Task) -> ApplicationItem | None:
    """The application item a task decides (None for tasks of other processes)."""
    if task.instance.process_key != ITEM_PROCESS:
        return None
    item = task.instance.variables.get("item")
    ai_id = item.get("application_item_id") if isinstance(item, dict) else None
    return ApplicationItem.objects.select_related("application", "item").filter(pk=ai_id).first() if ai_id else None


def applications_of(user: User) -> QuerySet[Application]:
    """The applications a user may see as applicant: their own, and those they submitted as agent."""
    return (Application.objects.filter(Q(applicant=user) | Q(submitted_by=user))
            .select_related("item", "bundle", "proxy").prefetch_related("items__item", "items__department")
            .order_by("-created_at", "-id"))


def is_party(user: User, app: Application) -> bool:
    """The applicant, or whoever submitted for them (an agent, a window clerk)."""
    return user.is_authenticated and user.pk in {app.applicant_id, app.submitted_by_id}


def can_view(user: User, app: Application) -> bool:
    """The parties, window clerks, and the approvers and supervisors of the case's departments. A draft is the
    applicant's own until it is submitted: only its parties see it (the applicant, and whoever prepares it for
    them: an agent, or the window clerk assisting in person, recorded as its submitter) and the admin."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or is_party(user, app):
        return True
    if app.status == Application.Status.DRAFT:
        return False
    if organisations_for_role(user, Role.WINDOW_CLERK).exists():
        return True
    dept_ids = set(app.items.values_list("department_id", flat=True))
    return organisations_for_role(user, Role.APPROVER).filter(pk__in=dept_ids).exists() or \
        organisations_for_role(user, Role.SUPERVISOR).filter(pk__in=dept_ids).exists()


def may_supplement(user: User, app: Application) -> bool:
    """Who provides owed materials: the case's parties; once submitted also any window clerk (补齐 at a window);
    the admin. A clerk adds nothing to a draft that is not theirs to prepare."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or is_party(user, app):
        return True
    return app.status != Application.Status.DRAFT and organisations_for_role(user, Role.WINDOW_CLERK).exists()


def get_application(ref: str, *, light: bool = False, lock: bool = False) -> Application | None:
    """Application ``ref``; ``light`` (the API) leaves the applicant's, submitter's and window's rows to be read
    when used; ``lock``: its row locked until the caller's transaction ends (``select_for_update``; the
    related rows, and its commitment if any, are read, not locked)."""
    related: tuple[str, ...] = ("item", "bundle", "proxy") if light else (
        "item", "bundle", "proxy", "applicant", "submitted_by", "window")
    if lock:  # a changing service checks the signed commitment (告知承诺) too: read with the case
        related += ("commitment",)
    rows = Application.objects.select_related(*related).filter(ref=ref).order_by()
    if lock:
        rows = rows.select_for_update(of=("self",))
    return next(iter(rows[:1]), None)


CASE_ITEM_RELATED = ("item", "situation", "department", "item__implementing_org__division")


def case_items(app: Application) -> list[ApplicationItem]:
    """The items of a case with their catalogue item, situation, department and implementing organisation: those
    prefetched by :func:`prefetch_case` when a service reads them several times in one step, else one query."""
    if "items" in getattr(app, "_prefetched_objects_cache", {}):
        return list(app.items.all())
    return list(app.items.select_related(*CASE_ITEM_RELATED))


def prefetch_case(app: Application) -> None:
    """Read a case's items (as :func:`case_items`, with their earlier 秒批 record) and material rows once for a
    step that consults them several times (submission, acceptance); ``app.items.all()`` and ``app.materials.all()`` then answer from memory. A
    step that changes those rows with ``update()`` changes the rows in memory as well, or drops them."""
    prefetch_related_objects([app], Prefetch("items", queryset=ApplicationItem.objects.select_related(
        *CASE_ITEM_RELATED, "auto_decision")),
        Prefetch("materials", queryset=ApplicationMaterial.objects.select_related("file")))


def forget_prefetched(app: Application) -> None:
    """Drop what :func:`prefetch_case` read for one step, so that whoever keeps the object reads afresh."""
    getattr(app, "_prefetched_objects_cache", {}).clear()


@dataclass
class CaseFile:
    application: Application
    items: list[ApplicationItem]
    materials: list[Any]
    notices: list[Notice]
    timeline: list[Any]
    tasks: list[Task]
    workflow_events: list[Any]
    visits: dict[str, Any]
    supplements: list[Any]


def case_file(app: Application, *, workflow_events: bool = True, written: dict[str, list[Any]] | None = None
              ) -> CaseFile:
    """Everything of one case for its pages and the API's detail (the engine's event log only when asked for).
    ``written``: the rows of a case created by this very request (``create_application`` leaves them in
    ``app.written``: items with their item, department and situation, material rows, timeline): nothing else of
    it exists yet, so nothing is read back."""
    if written is not None:
        return CaseFile(application=app, items=written["items"], materials=written["materials"], notices=[],
                        timeline=written["events"], tasks=[], workflow_events=[],
                        visits=_visits(app, 0), supplements=[])
    items = list(app.items.select_related("item", "department", "situation"))
    instance_ids = [ai.process_instance_id for ai in items if ai.process_instance_id]
    if app.process_instance_id:
        instance_ids.append(app.process_instance_id)
    tasks = list(Task.objects.filter(instance_id__in=instance_ids).select_related("candidate_org", "assignee")
                 .order_by("created_at", "id")) if instance_ids else []
    events = list(Event.objects.filter(instance_id__in=instance_ids).order_by("at", "id")) \
        if instance_ids and workflow_events else []
    return CaseFile(
        application=app,
        items=items,
        materials=list(app.materials.select_related("file")),
        notices=list(app.notices.all()),
        timeline=list(app.events.all()),
        tasks=tasks,
        workflow_events=events,
        visits=visit_report(app),
        supplements=list(app.supplements.all()),
    )


def clerk_place_ids(user: User) -> set[int] | None:
    """The township and community centres whose delegated (下沉) items ``user`` may accept (None: any, the admin):
    the centres of the clerk's windows and those above them, and the service points right below a local centre
    (a township clerk serves its community stations' items too)."""
    if user.is_superuser:
        return None
    ids: set[int] = set()
    for org in organisations_for_role(user, Role.WINDOW_CLERK).select_related("division"):
        if org.kind == Organisation.Kind.SERVICE_CENTRE and org.division.level in catalog_selectors.LOCAL_LEVELS:
            ids |= set(Organisation.objects.filter(parent=org).values_list("pk", flat=True))
        node: Organisation | None = org
        while node is not None and node.pk not in ids:
            ids.add(node.pk)
            node = node.parent
    return ids


def window_queue(user: User) -> QuerySet[Application]:
    """Applications waiting for intake at a window (any item of any department: 一窗受理), except those with an item
    delegated (下沉) to a township or community centre the clerk does not serve: they wait at that centre."""
    if not organisations_for_role(user, Role.WINDOW_CLERK).exists() and not user.is_superuser:
        return Application.objects.none()
    queue = Application.objects.filter(status__in=Application.PENDING_STATUSES)
    places = clerk_place_ids(user)
    if places is not None:
        elsewhere = (ApplicationItem.objects.filter(
            item__implementing_org__division__level__in=catalog_selectors.LOCAL_LEVELS)
            .exclude(item__implementing_org=F("item__competent_department"))
            .exclude(item__implementing_org_id__in=places).values("application_id"))
        queue = queue.exclude(pk__in=elsewhere)
    return queue.select_related("item", "bundle").order_by("submitted_at", "id")


def workbench_tasks(user: User, *, state: str = "open") -> QuerySet[Task]:
    """Approver workbench (审批工作台): open tasks of the user's departments (and tasks they hold), lights first."""
    orgs = organisations_for_role(user, Role.APPROVER)
    qs = Task.objects.filter(Q(candidate_org__in=orgs, candidate_role=Role.APPROVER) | Q(assignee=user))
    if state == "open":
        qs = qs.filter(state__in=Task.OPEN_STATES)
    elif state == "done":
        qs = qs.filter(state=Task.State.COMPLETED, assignee=user)
    return qs.select_related("instance", "candidate_org", "assignee").order_by("due_on", "id")


def task_application(task: Task) -> ApplicationItem | None:
    return application_item_for_task(task)


def visit_report(app: Application) -> dict[str, Any]:
    """On-site visits of one case against the catalogue's promised number (最多跑一次)."""
    return _visits(app, app.visits.count())


def _visits(app: Application, real: int) -> dict[str, Any]:
    return {"promised": app.promised_visits, "actual": real, "kept": real <= app.promised_visits}


def commitment_allowed(app: Application) -> bool:
    """告知承诺制 applies only where every item of the application allows it."""
    return all(ai.item.commitment_allowed for ai in app.items.select_related("item"))


def verify_notice(code: str) -> Notice | None:
    return Notice.objects.select_related("application").filter(code=code.strip().upper()).first()


def visit_statistics(since: dt.date | None = None) -> dict[str, Any]:
    """Real on-site visits against the catalogue's promise, over completed applications."""
    qs = Application.objects.exclude(status__in=[Application.Status.DRAFT])
    if since:
        qs = qs.filter(created_at__date__gte=since)
    total = kept = visits = 0
    for app in qs.prefetch_related("visits"):
        n = len(app.visits.all())
        total += 1
        visits += n
        kept += n <= app.promised_visits
    return {"applications": total, "visits": visits, "kept_promise": kept,
            "share_kept": round(kept / total, 4) if total else None, "as_of": timezone.now().isoformat()}


def windows_of(user: User) -> QuerySet[Organisation]:
    return organisations_for_role(user, Role.WINDOW_CLERK).filter(kind=Organisation.Kind.WINDOW)


# --- reads of the HTML pages (hportal): proxies, correction tasks, task clocks, investment projects ----------


def proxies_as_agent(user: User) -> QuerySet[ProxyAuthorisation]:
    """Authorisations in which ``user`` is the agent (帮办代办), newest first."""
    return ProxyAuthorisation.objects.filter(agent=user).select_related("principal", "document")


def proxies_as_principal(user: User) -> QuerySet[ProxyAuthorisation]:
    """Authorisations given by ``user`` (as account, or by their id number) to an agent or a window clerk."""
    q = Q(principal=user)
    if user.id_number:
        q |= pii.matching("principal_id_number", user.id_number)
    return ProxyAuthorisation.objects.filter(q).select_related("agent", "document")


def open_correction_tasks(app: Application) -> list[Task]:
    """The applicant's open 补正 tasks of an application (after an approver returned an item for correction)."""
    return [t for t in tasks_for_application(app)
            if t.element_id == "correction" and t.state in Task.OPEN_STATES]


def task_clock(task: Task) -> Any:
    """The statutory clock of a task (``workflow.clock.ClockStatus``; frozen once the task is completed), or None
    without a limit: the workflow's own clock."""
    return workflow_selectors.task_clock(task)


def projects_visible_to(user: User) -> QuerySet[InvestmentProject]:
    """Investment projects (投资项目): the owner's own; every project for staff."""
    qs = InvestmentProject.objects.select_related("owner")
    if user.is_staff or user.is_superuser:
        return qs
    return qs.filter(owner=user)


def get_project(code: str) -> InvestmentProject | None:
    """A project with its stages, each stage's applications and their items (the project status page)."""
    stages = ProjectStage.objects.select_related("bundle").prefetch_related(
        "applications__items__item", "applications__items__department").order_by("order")
    return (InvestmentProject.objects.select_related("owner").prefetch_related(Prefetch("stages", queryset=stages))
            .filter(code=code).first())


def auto_decision_view(ai: ApplicationItem) -> dict[str, Any] | None:
    """秒批: the recorded automatic decision of an item for pages (inputs with their Chinese labels), or None."""
    from .models import AutoDecision

    rec = AutoDecision.objects.filter(application_item=ai).first()
    if rec is None:
        return None
    labels = (rec.result or {}).get("labels") or {}
    shown = {True: "是", False: "否", None: "（缺）"}
    inputs = [{"label": labels.get(k, k), "value": shown.get(v, v) if isinstance(v, bool) or v is None else v}
              for k, v in (rec.inputs or {}).items()]
    return {"record": rec, "inputs": inputs, "missing": [labels.get(k, k) for k in rec.missing]}


def next_services(app: Application, limit: int = 5) -> list[dict[str, Any]]:
    """Life-event suggestions (下一步可能需要办理): after an approval, the services the person will likely need next.

    From the catalogue's links (items that ask for the licence just issued; the other items of a 一件事 the item
    belongs to) and from the event log (what other applicants whose same item was approved applied for next),
    without the items this applicant already applied for. Each suggestion says why, in plain Chinese."""
    from tongban.catalog.models import BundleItem, ItemStatus, Material, ServiceItem

    if app.status not in {Application.Status.APPROVED, Application.Status.PARTIAL}:
        return []
    approved = list(app.items.filter(status=ApplicationItem.Status.APPROVED).select_related("item"))
    if not approved:
        return []
    item_ids = {ai.item_id for ai in approved}
    mine = set(ApplicationItem.objects.filter(application__applicant_id=app.applicant_id).values_list(
        "item_id", flat=True)) if app.applicant_id else set(item_ids)
    scores: dict[int, float] = {}
    reasons: dict[int, str] = {}

    def offer(item_id: int, score: float, reason: str) -> None:
        if item_id in mine or item_id in item_ids:
            return
        scores[item_id] = scores.get(item_id, 0.0) + score
        reasons.setdefault(item_id, reason)

    licences = {ai.item.result_licence_type: ai.item.result_name or ai.item.name for ai in approved
                if ai.item.result_licence_type}
    for item_id, licence in Material.objects.filter(licence_type__in=list(licences)).values_list(
            "item_id", "licence_type"):
        offer(item_id, 2.0, f"需要您刚取得的“{licences[licence]}”，可免于提交")
    links = BundleItem.objects.filter(bundle__bundle_items__item_id__in=item_ids,
                                      bundle__status=ItemStatus.PUBLISHED).values_list("item_id", "bundle__name")
    for item_id, bundle_name in links:
        offer(item_id, 1.5, f"属于“{bundle_name}”，可一次申请")
    others = Application.objects.filter(items__item_id__in=item_ids, items__status=ApplicationItem.Status.APPROVED
                                        ).exclude(applicant_id=app.applicant_id).values("applicant_id")
    follow = (ApplicationItem.objects.filter(application__applicant_id__in=others)
              .exclude(item_id__in=item_ids).values_list("item_id").annotate(n=Count("application__applicant_id", distinct=True))
              .order_by("-n")[:20])
    for item_id, n in follow:
        offer(item_id, 1.0 * n, f"办过同一事项的人中有 {n} 人接着办理了它")
    if not scores:
        return []
    ranked = sorted(scores, key=lambda i: -scores[i])
    items = {i.pk: i for i in ServiceItem.objects.filter(pk__in=ranked, status=ItemStatus.PUBLISHED)}
    return [{"code": items[i].code, "name": items[i].name, "reason": reasons[i]} for i in ranked
            if i in items][:limit]


# --- 帮办预约 (assisted service requests) ---------------------------------------------------------------------


def assistance_centres() -> QuerySet[Organisation]:
    """The service centres a person may ask for assisted service at (政务服务中心 and 便民服务中心)."""
    return Organisation.objects.filter(kind=Organisation.Kind.SERVICE_CENTRE).order_by("code")


def centres_of_clerk(user: User) -> QuerySet[Organisation]:
    """The service centres whose requests ``user`` handles: where they are a window clerk (every centre for the
    admin)."""
    if user.is_superuser:
        return assistance_centres()
    return organisations_for_role(user, Role.WINDOW_CLERK).filter(kind=Organisation.Kind.SERVICE_CENTRE)


def assistance_requests_for(user: User, *, handled: bool = False) -> QuerySet[AssistanceRequest]:
    """The requests of the clerk's centres: open ones oldest first (or handled ones, newest first)."""
    qs = AssistanceRequest.objects.filter(centre__in=centres_of_clerk(user), handled_at__isnull=not handled)
    qs = qs.select_related("centre", "item", "handled_by")
    return qs.order_by("-handled_at") if handled else qs.order_by("created_at")
