"""Demo data for insight: seven months of synthetic closed cases of the demo city (云溪市), with their clocks,
visits, one-time notices, corrections, materials, the departments' review tasks of one-thing bundles, 好差评
ratings and their rectification, 12345 work orders older than feedback's own, post-checks, data-sharing grants and
security incidents — with realistic variation: departments differ in speed and care, the city improves month by
month (more online, fewer visits, fewer late cases), and holidays follow the working-day calendar.

Written with ``bulk_create`` (seconds, not minutes); deterministic (fixed seed) and idempotent (skipped when the
synthetic cases exist). The synthetic cases are closed: they appear in no work queue. Every case number starts
with ``DEMO-INS-``; no applicant account owns them.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rich.console import Console

from tongban.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    ApplicationMaterial,
    Notice,
    StoredFile,
    Visit,
)
from tongban.catalog.models import Bundle, ItemStatus, ServiceItem
from tongban.core.calendar import default_calendar
from tongban.core.models import Division, Organisation
from tongban.exchange.models import DataResource, Grant
from tongban.feedback.models import Rating, Rectification, ServiceRecord, WorkOrder
from tongban.security.models import SecurityIncident
from tongban.supervision.models import PostCheck
from tongban.workflow.models import ProcessDefinition, ProcessInstance, Task

SEED = 1313
MONTHS = 7
CASES_PER_MONTH = 260
PREFIX = "DEMO-INS-"
NAMES = ["陈一", "林二", "黄三", "何四", "罗五", "梁六", "宋七", "郑八", "谢九", "韩十"]
ID_NUMBER = "910102198001010000"
ORDER_TEXTS = [
    ("consult", "咨询新生儿落户需要哪些材料"), ("complaint", "窗口排队时间太长，叫号系统经常出错"),
    ("help", "网上申报系统无法上传材料，请求协助"), ("suggestion", "建议延长政务服务中心周末开放时间"),
    ("complaint", "办理营业执照变更被要求重复提交材料"), ("consult", "咨询社保转移接续的办理流程"),
    ("report", "举报某餐馆无证经营"), ("help", "企业开办一件事进度长时间未更新"),
]
BLOB_SHA = "d" * 64  # the synthetic notices share one placeholder file record (never served)


def _local(day: dt.date, hour: float) -> dt.datetime:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, dt.time(int(hour), int((hour % 1) * 60)), tz)


class _Gen:
    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng, self.today, self.cal = rng, today, default_calendar()
        self.items = list(ServiceItem.objects.filter(status=ItemStatus.PUBLISHED, competent_department__isnull=False,
                                                     children__isnull=True).select_related("competent_department")
                          .order_by("code"))
        self.bundles = [(b, list(b.items.filter(competent_department__isnull=False)
                                 .select_related("competent_department")))
                        for b in Bundle.objects.filter(status=ItemStatus.PUBLISHED, lead_department__isnull=False)
                        .order_by("code")]
        self.bundles = [(b, items) for b, items in self.bundles if len(items) >= 2]
        self.windows = list(Organisation.objects.filter(kind=Organisation.Kind.WINDOW).order_by("code"))
        depts = sorted({i.competent_department.code for i in self.items})
        # each department's habits: speed (share of the limit used), care (notices, corrections), online push
        self.habit = {code: {"speed": rng.uniform(0.25, 0.8), "late": rng.uniform(0.01, 0.12),
                             "notice": rng.uniform(0.05, 0.3), "correct": rng.uniform(0.02, 0.12),
                             "online": rng.uniform(0.45, 0.85), "bad": rng.uniform(0.02, 0.12)} for code in depts}
        self.definition = (ProcessDefinition.objects.filter(key="tongban_item_review").order_by("-version").first()
                           or ProcessDefinition.objects.order_by("-version").first())

    def workday_on_or_after(self, day: dt.date) -> dt.date:
        while not self.cal.is_workday(day):
            day += dt.timedelta(days=1)
        return day


def _month_starts(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for k in range(MONTHS, 0, -1):
        y, m = first.year, first.month - k
        while m < 1:
            y, m = y - 1, m + 12
        out.append(dt.date(y, m, 1))
    return out


def _cases(g: _Gen) -> dict[str, Any]:
    rng = g.rng
    apps: list[Application] = []
    plans: list[dict[str, Any]] = []
    n = 0
    for month_index, start in enumerate(_month_starts(g.today)):
        improve = month_index / MONTHS  # the city gets better month by month
        days_in_month = ((start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - start).days
        for _ in range(int(CASES_PER_MONTH * rng.uniform(0.85, 1.15))):
            n += 1
            day = g.workday_on_or_after(start + dt.timedelta(days=rng.randrange(days_in_month)))
            if day >= g.today or day.month != start.month:
                continue
            bundle = None
            if g.bundles and rng.random() < 0.12:
                bundle, items = rng.choice(g.bundles)
            else:
                items = [rng.choice(g.items)]
            lead = bundle.lead_department.code if bundle else items[0].competent_department.code
            habit = g.habit.get(lead) or next(iter(g.habit.values()))
            online = rng.random() < min(0.95, habit["online"] + 0.25 * improve)
            fully_online = any(i.online_level == "fully_online" for i in items)
            notices = 0 if online and rng.random() < 0.7 else (
                (1 if rng.random() < 0.85 else 2) if rng.random() < habit["notice"] * (1 - 0.4 * improve) else 0)
            refused = rng.random() < 0.02
            submitted = _local(day, rng.uniform(8.5, 17))
            accept_day = g.cal.add_working_days(day, notices * rng.randint(1, 3)) if notices else day
            accepted = _local(accept_day, min(17.5, submitted.hour + rng.uniform(0.2, 2))) if not refused else None
            visits = 0 if online and fully_online else rng.choice([1, 1, 1, 2]) + (notices if not online else 0)
            visits = max(0, visits - (1 if rng.random() < 0.3 * improve else 0))
            app = Application(
                ref=f"{PREFIX}{n:05d}", item=None if bundle else items[0], bundle=bundle,
                title=bundle.name if bundle else items[0].name, applicant_name=rng.choice(NAMES),
                applicant_id_number=ID_NUMBER, channel="online" if online else "window",
                window=None if online or not g.windows else rng.choice(g.windows),
                status=Application.Status.REFUSED if refused else Application.Status.APPROVED,
                promised_limit_days=bundle.promised_limit_days if bundle else items[0].promised_limit_days,
                promised_visits=0 if fully_online else 1, created_at=submitted, submitted_at=submitted,
                accepted_at=accepted, refusal_reason="不属于本机关职权范围" if refused else "")
            apps.append(app)
            plans.append({"app": app, "items": items, "habit": habit, "improve": improve, "notices": notices,
                          "visits": visits, "refused": refused, "accept_day": accept_day, "bundle": bundle})
    Application.objects.bulk_create(apps, batch_size=500)
    return {"plans": plans}


def _decide(g: _Gen, plans: list[dict[str, Any]]) -> dict[str, int]:
    rng = g.rng
    instances: list[ProcessInstance] = []
    rows: list[tuple[dict[str, Any], ServiceItem, dt.date, dt.date, int, dt.datetime]] = []
    for plan in plans:
        if plan["refused"]:
            continue
        for item in plan["items"]:
            limit = item.promised_limit_days or 0
            start = plan["accept_day"]
            due = g.cal.add_working_days(start, limit)
            habit = g.habit.get(item.competent_department.code) or plan["habit"]
            used = round(limit * rng.uniform(0.1, 1.0) * habit["speed"] * 1.3)
            if limit and rng.random() < habit["late"] * (1 - 0.5 * plan["improve"]):
                used = limit + rng.randint(1, 4)
            decided_day = g.cal.add_working_days(start, min(used, 60))
            decided = _local(decided_day, rng.uniform(9, 17.5))
            if decided_day >= g.today:
                decided = _local(g.today - dt.timedelta(days=1), 12)
                decided_day = decided.date()
            instances.append(ProcessInstance(
                definition=g.definition, process_key=g.definition.key, business_key=f"{plan['app'].ref}/{item.code}",
                status=ProcessInstance.Status.COMPLETED, started_at=_local(start, 9), ended_at=decided,
                limit_days=limit, statutory_limit_days=item.statutory_limit_days, started_on=start, due_on=due,
                light="red" if decided_day > due else "green"))
            rows.append((plan, item, start, due, limit, decided))
    ProcessInstance.objects.bulk_create(instances, batch_size=500)
    ai_rows, tasks = [], []
    for (plan, item, _start, due, _limit, decided), pi in zip(rows, instances, strict=True):
        rejected = rng.random() < 0.03
        ai_rows.append(ApplicationItem(
            application=plan["app"], item=item, department=item.competent_department,
            status=ApplicationItem.Status.REJECTED if rejected else ApplicationItem.Status.APPROVED,
            process_instance_id=pi.pk, decided_at=decided, decided_by="审批人员",
            opinion="不符合法定条件" if rejected else "准予许可"))
        plan.setdefault("decided", []).append(decided)
        if plan["bundle"] is not None:
            tasks.append(Task(instance=pi, element_id="review", name=f"{item.competent_department.name}审查",
                              candidate_org=item.competent_department, state=Task.State.COMPLETED, outcome="approve",
                              created_at=_local(plan["accept_day"], 9), completed_at=decided, due_on=due,
                              limit_days=item.promised_limit_days, started_on=plan["accept_day"],
                              light="red" if decided.date() > due else "green"))
    for plan in plans:
        if plan["refused"]:
            plan["app"].status = Application.Status.REFUSED
            continue
        last = max(plan["decided"])
        plan["app"].decided_at = plan["app"].completed_at = last
    ApplicationItem.objects.bulk_create(ai_rows, batch_size=500)
    Application.objects.bulk_update([p["app"] for p in plans], ["decided_at", "completed_at"], batch_size=500)
    Task.objects.bulk_create(tasks, batch_size=500)
    return {"items": len(ai_rows), "tasks": len(tasks)}


def _details(g: _Gen, plans: list[dict[str, Any]]) -> None:
    rng = g.rng
    blob, _ = StoredFile.objects.get_or_create(sha256=BLOB_SHA, defaults={"size": 0, "content_type": "application/pdf",
                                                                         "original_name": "演示告知书.pdf"})
    visits, notices, events, materials = [], [], [], []
    windows = g.windows or list(Organisation.objects.order_by("code")[:1])
    for plan in plans:
        app = plan["app"]
        for k in range(plan["visits"]):
            visits.append(Visit(application=app, window=app.window or rng.choice(windows), purpose="现场提交材料",
                                at=app.submitted_at + dt.timedelta(days=k)))
        for k in range(plan["notices"]):
            notices.append(Notice(application=app, kind=Notice.Kind.ONE_TIME, code=f"DI{app.pk:07d}{k}", file=blob,
                                  content={"demo": True}, issued_at=app.submitted_at + dt.timedelta(hours=2 + k)))
        if not plan["refused"] and rng.random() < plan["habit"]["correct"] * (1 - 0.4 * plan["improve"]):
            events.append(ApplicationEvent(application=app, kind="corrected", message="申请人已补正",
                                           at=app.accepted_at + dt.timedelta(days=1)))
        share = 0.2 + 0.45 * plan["improve"]
        for k in range(rng.randint(2, 5)):
            status = "fetched" if rng.random() < share else rng.choice(["provided", "provided", "supplemented",
                                                                       "waived", "commitment"])
            materials.append(ApplicationMaterial(application=app, key=f"m{k}", name=f"申请材料{k + 1}", status=status,
                                                 provided_at=app.submitted_at))
    Visit.objects.bulk_create(visits, batch_size=1000)
    Notice.objects.bulk_create(notices, batch_size=1000)
    ApplicationEvent.objects.bulk_create(events, batch_size=1000)
    ApplicationMaterial.objects.bulk_create(materials, batch_size=1000)


def _ratings(g: _Gen, plans: list[dict[str, Any]]) -> None:
    rng = g.rng
    records: list[ServiceRecord] = []
    for plan in plans:
        app = plan["app"]
        if plan["refused"] or rng.random() > 0.35:
            continue
        item = plan["items"][0]
        served = app.completed_at
        records.append(ServiceRecord(
            ref=f"{app.ref}:{item.code}", application_ref=app.ref, item_code=item.code, item_name=item.name,
            department=item.competent_department, window=app.window, person_name=app.applicant_name,
            person_id_number=ID_NUMBER, outcome="approved", served_at=served,
            rate_until=served + dt.timedelta(days=30)))
    ServiceRecord.objects.bulk_create(records, batch_size=500)
    ratings = []
    by_ref = {p["app"].ref: p for p in plans}
    for r in records:
        plan = by_ref[r.application_ref]
        bad = plan["habit"]["bad"] * (1 - 0.5 * plan["improve"]) + 0.04 * plan["visits"]
        level = rng.choice([2, 1]) if rng.random() < bad else rng.choices([5, 4, 3], weights=[70, 22, 8])[0]
        ratings.append(Rating(service=r, level=level, comment="", real_name=True, department=r.department,
                              channel="pad" if r.window_id else rng.choice(["web", "mobile"]), window=r.window,
                              item_code=r.item_code, created_at=r.served_at + dt.timedelta(hours=rng.uniform(1, 48))))
    Rating.objects.bulk_create(ratings, batch_size=500)
    rects = []
    for rating in ratings:
        if rating.level > 2:
            continue
        at = rating.created_at
        limit = rng.choice([5, 10, 15])
        due = g.cal.add_working_days(timezone.localdate(at), limit)
        rect = Rectification(rating=rating, department=rating.department, created_at=at, limit_days=limit,
                             due_on=due, verified_at=at + dt.timedelta(days=1), verification="经核实，情况属实",
                             status=Rectification.Status.DONE)
        late = rng.random() < 0.15
        rect.rectified_at = _local(g.cal.add_working_days(due, 2) if late else
                                   g.cal.add_working_days(timezone.localdate(at), max(1, limit - 2)), 15)
        rect.rectification = "已整改"
        if rng.random() < 0.9:
            rect.revisited_at, rect.revisit_result = rect.rectified_at + dt.timedelta(days=1), "satisfied"
        else:
            rect.status = Rectification.Status.REVISITING
        rects.append(rect)
    Rectification.objects.bulk_create(rects, batch_size=500)


def _orders(g: _Gen) -> None:
    """12345 work orders for the months before feedback's own demo orders (its last 120 days)."""
    rng = g.rng
    depts = list(Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by("code"))
    divisions = list(Division.objects.filter(level__in=["county", "township"]).order_by("code"))
    if not depts:
        return
    orders = []
    for i in range(420):
        created = timezone.now() - dt.timedelta(days=rng.uniform(121, 30 * (MONTHS + 1)), hours=rng.uniform(0, 9))
        kind, text = rng.choice(ORDER_TEXTS)
        due = g.cal.add_working_days(timezone.localdate(created), rng.choice([1, 3, 5, 10]))
        answered = _local(g.cal.add_working_days(timezone.localdate(created), rng.randint(0, 6)),
                          rng.uniform(9, 17))
        orders.append(WorkOrder(
            number=f"GD{timezone.localdate(created):%Y%m%d}8{i:04d}", channel=rng.choice(["phone", "web", "api"]),
            text=text, type=kind, division=rng.choice(divisions) if divisions else None, department=rng.choice(depts),
            status=WorkOrder.Status.CLOSED, dispatched_at=created + dt.timedelta(minutes=20),
            received_at=created + dt.timedelta(hours=1), handling_due=due, answered_at=answered,
            answer="已按政策规定处理并电话告知诉求人。",
            satisfaction="satisfied" if rng.random() < 0.86 else "dissatisfied",
            confirmed_at=answered + dt.timedelta(days=1), created_at=created))
    WorkOrder.objects.bulk_create(orders, batch_size=500)


def _oversight(g: _Gen, plans: list[dict[str, Any]]) -> None:
    """Post-checks of commitment approvals, data-sharing grants decided, security incidents, month by month."""
    rng = g.rng
    checks = []
    for plan in plans:
        if plan["refused"] or rng.random() > 0.08:
            continue
        app, item = plan["app"], plan["items"][0]
        checked = app.completed_at + dt.timedelta(days=rng.randint(5, 25))
        if checked >= timezone.now():
            continue
        checks.append(PostCheck(application_ref=app.ref, title=item.name, item_codes=[item.code],
                                subject_name=app.applicant_name, department=item.competent_department,
                                created_at=app.completed_at, due_on=checked.date() + dt.timedelta(days=10),
                                status="failed" if rng.random() < 0.06 else "passed", checked_at=checked))
    PostCheck.objects.bulk_create(checks, batch_size=500)
    resources = list(DataResource.objects.order_by("code"))
    consumers = list(Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by("code"))
    grants, incidents = [], []
    for start in _month_starts(g.today):
        for _ in range(rng.randint(2, 5) if resources and consumers else 0):
            requested = _local(g.workday_on_or_after(start + dt.timedelta(days=rng.randrange(20))), 10)
            decided = _local(g.cal.add_working_days(requested.date(), rng.choice([1, 2, 2, 3, 3, 5, 6, 8, 9, 12])), 15)
            grants.append(Grant(resource=rng.choice(resources), consumer=rng.choice(consumers), fields=[],
                                purpose="办件核验（演示）", legal_basis="《政务信息资源共享管理暂行办法》",
                                status=Grant.Status.EXPIRED, requested_at=requested, decided_at=decided,
                                expires_at=decided + dt.timedelta(days=30)))
        for k in range(rng.randint(0, 3)):
            opened = _local(start + dt.timedelta(days=rng.randrange(27)), rng.uniform(0, 23))
            org = rng.choice(consumers) if consumers else None
            incidents.append(SecurityIncident(
                rule="demo_history", title="历史安全事件（演示）", severity=rng.choice(["low", "medium", "high"]),
                status="closed", dismissed=rng.random() < 0.4, opened_at=opened, closed_at=opened + dt.timedelta(days=2),
                subject_org=org.code if org else "", dedup_key=f"demo-insight-{start:%Y%m}-{k}"))
    Grant.objects.bulk_create(grants)
    SecurityIncident.objects.bulk_create(incidents)


def _accountability(g: _Gen) -> dict[str, int]:
    """容错纠错: raise the leads of the whole demo (as ``tongban insight raise-leads`` would), then decide a few so the
    pages and the dashboards' "已剔除 N 件（容错）" show something: a red light of the last complete month is exempted
    (免责, every criterion met: it leaves 按时办结率 and the bundle-task figures of its department), a failed
    post-check is refused (不予容错: it stays counted), and one more lead waits for the determination."""
    from tongban.core.models import User
    from tongban.insight.accountability import services as acc
    from tongban.insight.accountability.criteria import CRITERIA
    from tongban.insight.accountability.models import AccountabilityLead as Lead

    new = acc.raise_new_leads(g.today)
    office = User.objects.filter(username="admin").first()
    if office is None:
        return {"leads": len(new), "decided": 0}
    first = g.today.replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)

    def applicant(lead: Lead) -> User | None:
        return lead.official or User.objects.filter(kind=User.Kind.STAFF, organisation=lead.department,
                                                   is_superuser=False).order_by("username").first()

    decided = 0
    picks = [
        (Lead.objects.filter(source=Lead.Source.RED_LIGHT, status=Lead.Status.OPEN, occurred_on__gte=last_month,
                             occurred_on__lt=first).order_by("occurred_on", "pk"),
         "在一件事并联审批中试行容缺受理，申请人补正材料后集中审查，审查环节因此超过时限",
         list(CRITERIA), "exempt", "属推进一件事改革中的探索，依规集体研究，未谋私利，已尽责并主动加派人手消除积压，予以免责"),
        (Lead.objects.filter(source=Lead.Source.POST_CHECK, status=Lead.Status.OPEN).order_by("occurred_on", "pk"),
         "推行告知承诺制改革，审批时依承诺办理，事后核查发现申请人承诺不实",
         ["reform", "no_gain"], "refused", "审批时未按规定核验可共享获取的信息，属履职不到位，不予容错"),
        (Lead.objects.filter(source=Lead.Source.RECTIFICATION, status=Lead.Status.OPEN).order_by("occurred_on", "pk"),
         "试行预约延时服务，窗口人手调整期间差评整改未能按期完成",
         ["reform", "no_gain", "remedied"], "", ""),
    ]
    for qs, reason, claimed, decision, why in picks:
        lead = qs.first()
        who = applicant(lead) if lead else None
        if lead is None or who is None:
            continue
        acc.apply_for_tolerance(lead.pk, who, reason, claimed)
        if decision:
            met = claimed if decision != "refused" else ["reform"]
            acc.decide(lead.pk, office, decision, met, why)
            decided += 1
    return {"leads": len(new), "decided": decided}


@transaction.atomic
def load(console: Console) -> None:
    if Application.objects.filter(ref__startswith=PREFIX).exists():
        return
    began = time.perf_counter()
    g = _Gen(random.Random(SEED), timezone.localdate())
    if not g.items or g.definition is None:
        console.print("insight: no published items or deployed processes, no synthetic history")
        return
    plans = _cases(g)["plans"]
    counts = _decide(g, plans)
    _details(g, plans)
    _ratings(g, plans)
    _orders(g)
    _oversight(g, plans)
    leads = _accountability(g)
    console.print(f"insight: {len(plans)} synthetic cases ({counts['items']} items) over {MONTHS} months, "
                  f"ratings, work orders, checks, grants and incidents; {leads['leads']} accountability leads "
                  f"({leads['decided']} decided) in {time.perf_counter() - began:.1f} s")
