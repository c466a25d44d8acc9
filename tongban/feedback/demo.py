"""Demo data for feedback: the 12345 hotline centre and its operator ``hotline``, the third-party evaluator
``evaluator``, 人社局's discipline officer ``discipline-rsj``; several hundred services with 好差评 ratings (and
the rectification of the real-name bad ones at every stage) and several hundred 12345 work orders over the last four
months; the trained classifier. Deterministic (fixed seed) and idempotent."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone
from rich.console import Console

from tongban.catalog.models import ItemStatus, ServiceItem
from tongban.core import services as core_services
from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
from tongban.core.models import Division, Organisation, Role, User

from . import classifier, conf
from .models import Rating, Rectification, ServiceRecord, WorkOrder, WorkOrderEvent

SEED = 2026
DAYS = 120
SERVICES = 420
ORDERS = 360

# (code, name, short name, kind, parent)
ORGANISATIONS = [
    ("yx-12345", "云溪市12345政务服务便民热线", "12345热线", Organisation.Kind.SERVICE_CENTRE, "yx-zwfw"),
    ("yx-pg", "云溪市政务服务第三方评估中心", "第三方评估中心", Organisation.Kind.OTHER, None),
]
# (username, display name, organisation, [(role, organisation)])
ACCOUNTS = [
    ("hotline", "高热线（12345话务员）", "yx-12345", [(Role.HOTLINE_OPERATOR, "yx-12345")]),
    ("evaluator", "林评估（第三方评估）", "yx-pg", [(Role.EVALUATOR, "yx-gov")]),
    ("discipline-rsj", "严纪检（人社局纪检）", "yx-rsj", [(Role.DISCIPLINE, "yx-rsj")]),
]
PEOPLE = [("王五", "910102197001011111"), ("赵六", "910103198506062222"), ("钱七", "910102199212123333"),
          ("孙八", "910103197707074444"), ("周九", "910102200001015555"), ("吴十", "910103196603036666")]
COMMENTS_GOOD = ["办理很快，工作人员很耐心", "一次就办好了", "网上办很方便", "指南清楚，材料一次备齐", ""]
COMMENTS_BAD = ["等了两个多小时才叫号", "窗口人员态度不好", "材料要求前后不一致，跑了两次", "网上系统经常卡顿",
                "办理时间比承诺的长"]


def ensure_accounts(console: Console) -> None:
    core_services.ensure_standard_roles()
    division = Division.objects.get(code="910100000000")
    for code, name, short, kind, parent in ORGANISATIONS:
        core_services.upsert_organisation(code, name, division=division, short_name=short, kind=kind,
                                          parent=Organisation.objects.filter(code=parent).first() if parent else None)
    for username, display, org, grants in ACCOUNTS:
        user = core_services.upsert_user(username, password=DEMO_PASSWORD, display_name=display,
                                         kind=User.Kind.STAFF, organisation=Organisation.objects.get(code=org),
                                         is_staff=True)
        for role, org_code in grants:
            core_services.grant_role(user, role, Organisation.objects.get(code=org_code))


def _people() -> list[tuple[User | None, str, str]]:
    users = {u.username: u for u in User.objects.filter(username__in=["zhangsan", "lisi", "yunxi-tech"])}
    out: list[tuple[User | None, str, str]] = [(u, u.display_name, u.id_number or ID_NUMBERS.get(n, ""))
                                               for n, u in users.items()]
    return out + [(None, name, number) for name, number in PEOPLE]


def _services(rng: random.Random, now: dt.datetime) -> list[ServiceRecord]:
    items = list(ServiceItem.objects.filter(status=ItemStatus.PUBLISHED, competent_department__isnull=False)
                 .select_related("competent_department").order_by("code"))
    if not items:
        return []
    windows = list(Organisation.objects.filter(kind=Organisation.Kind.WINDOW).order_by("code"))
    clerk = User.objects.filter(username="clerk").first()
    people = _people()
    records = []
    for i in range(SERVICES):
        item = rng.choice(items)
        person, name, number = rng.choice(people)
        at_window = bool(windows) and rng.random() < 0.45
        served = now - dt.timedelta(days=rng.uniform(0.5, DAYS), hours=rng.uniform(0, 8))
        kind = ServiceRecord.Kind.CASE if rng.random() < 0.9 else ServiceRecord.Kind.REFUSAL
        records.append(ServiceRecord(
            ref=f"DEMO-FB-{i + 1:04d}:{item.code}", kind=kind, application_ref=f"DEMO-FB-{i + 1:04d}",
            item_code=item.code, item_name=item.name, department=item.competent_department,
            window=rng.choice(windows) if at_window else None, staff=clerk if at_window else None,
            staff_label=str(clerk) if at_window and clerk else "", person=person, person_name=name,
            person_id_number=number, outcome="approved" if kind == ServiceRecord.Kind.CASE else "rejected",
            served_at=served, rate_until=served + dt.timedelta(days=conf.rating_window_days())))
    return ServiceRecord.objects.bulk_create(records)


def _ratings(rng: random.Random, records: list[ServiceRecord], now: dt.datetime) -> tuple[int, int]:
    ratings, rects = [], []
    for record in records:
        if record.rate_until > now and rng.random() < 0.4:
            continue  # not rated yet (still open to rating)
        if rng.random() < 0.12:
            continue  # never rated
        level = rng.choices([5, 4, 3, 2, 1], weights=[62, 22, 8, 5, 3])[0]
        online = record.window_id is None
        names = ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性") if online else ("服务效率", "服务水平", "服务态度")
        indicators = {n: max(1, min(5, level + rng.choice([-1, 0, 0, 1]))) for n in names} if rng.random() < 0.6 else {}
        comment = rng.choice(COMMENTS_BAD if level <= 2 else COMMENTS_GOOD)
        at = min(now, record.served_at + dt.timedelta(hours=rng.uniform(1, 72)))
        ratings.append(Rating(service=record, level=level, indicators=indicators, comment=comment,
                              channel=Rating.Channel.PAD if not online else rng.choice(["web", "mobile"]),
                              real_name=rng.random() < 0.85, rater=record.person, department=record.department,
                              window=record.window, item_code=record.item_code, created_at=at))
    Rating.objects.bulk_create(ratings)
    for rating in Rating.objects.filter(service__in=records, level__lte=2, real_name=True).select_related("service"):
        at = rating.created_at
        stage = rng.random() if (now - at).days > 20 else rng.random() * 0.6
        rect = Rectification(rating=rating, department=rating.department, created_at=at)
        if stage > 0.15:
            rect.verified_at, rect.verification = at + dt.timedelta(days=1), "经核实，情况属实"
            rect.limit_days = rng.choice([0, 5, 10, 15])
            rect.due_on = (at + dt.timedelta(days=1 + rect.limit_days * 7 // 5)).date()
            rect.status = Rectification.Status.RECTIFYING
        if stage > 0.35:
            rect.rectified_at, rect.rectification = at + dt.timedelta(days=3), "已对窗口人员进行批评教育并优化叫号流程"
            rect.status = Rectification.Status.REVISITING
        if stage > 0.5:
            rect.revisited_at, rect.revisit_result = at + dt.timedelta(days=5), rng.choice(["satisfied", "basic"])
            rect.revisit_note = "电话回访，群众对整改结果表示认可"
            rect.status = Rectification.Status.DONE
        rects.append(rect)
    Rectification.objects.bulk_create(rects)
    return len(ratings), len(rects)


def _orders(rng: random.Random, now: dt.datetime, operator: User | None) -> int:
    corpus = classifier.load_corpus()
    model = classifier.load(conf.model_path())
    departments = {o.code: o for o in Organisation.objects.filter(code__in={e.department for e in corpus})}
    divisions = list(Division.objects.filter(level__in=["county", "township"]).order_by("code"))
    picks = rng.sample(corpus, min(ORDERS, len(corpus)))
    texts = [p.text for p in picks]
    type_proba = model.type_model.predict_proba(texts)
    dept_proba = model.department_model.predict_proba(texts)
    days = conf.handling_days()
    orders, events = [], []
    for i, example in enumerate(picks):
        created = now - dt.timedelta(days=rng.uniform(0.2, DAYS), hours=rng.uniform(0, 10))
        ti, di = int(type_proba[i].argmax()), int(dept_proba[i].argmax())
        anonymous = rng.random() < 0.15
        department = departments.get(example.department)
        order = WorkOrder(
            number=f"GD{timezone.localdate(created):%Y%m%d}9{i:04d}", channel=rng.choice(["phone", "phone", "web", "api"]),
            text=example.text, type=example.type, urgency="urgent" if rng.random() < 0.08 else "normal",
            division=rng.choice(divisions) if divisions else None, anonymous=anonymous,
            contact_name="" if anonymous else rng.choice(PEOPLE)[0],
            contact_phone="" if anonymous else f"139{rng.randrange(10**8):08d}",
            proposed_type=str(model.type_model.classes_[ti]),
            proposed_department=departments.get(str(model.department_model.classes_[di])),
            confidence=round(float(min(type_proba[i][ti], dept_proba[i][di])), 4), created_at=created,
            created_by=operator)
        age = (now - created).days
        if department is not None and age >= 1:
            order.department, order.dispatched_at = department, created + dt.timedelta(minutes=20)
            order.receipt_due = order.dispatched_at + dt.timedelta(hours=conf.receipt_hours())
            order.handling_due = (created + dt.timedelta(days=days[order.type] * 7 // 5 + 1)).date()
            order.status = WorkOrder.Status.DISPATCHED
            if age >= 2 or rng.random() < 0.5:
                order.received_at, order.status = order.dispatched_at + dt.timedelta(hours=1), "received"
            if age >= 3 and rng.random() < 0.9:
                order.answered_at = created + dt.timedelta(days=rng.uniform(0.5, days[order.type] * 1.4))
                order.answer, order.status = "经核查，已按政策规定处理并电话告知诉求人。", WorkOrder.Status.ANSWERED
                if age >= 6 and rng.random() < 0.85:
                    order.satisfaction = "satisfied" if rng.random() < 0.88 else "dissatisfied"
                    order.confirmed_at, order.status = order.answered_at + dt.timedelta(days=1), "closed"
        orders.append(order)
    WorkOrder.objects.bulk_create(orders)
    for order in WorkOrder.objects.filter(number__in=[o.number for o in orders]):
        events.append(WorkOrderEvent(order=order, at=order.created_at, kind="intake", actor_label="高热线（12345话务员）",
                                     message=f"受理（{order.get_channel_display()}）"))
        if order.dispatched_at:
            events.append(WorkOrderEvent(order=order, at=order.dispatched_at, kind="dispatch",
                                         actor_label="高热线（12345话务员）", message=f"派单至{order.department}"))
        if order.answered_at:
            events.append(WorkOrderEvent(order=order, at=order.answered_at, kind="answer",
                                         actor_label=str(order.department), message="答复"))
    WorkOrderEvent.objects.bulk_create(events)
    return len(orders)


def ensure_model() -> None:
    """Train and store the classifier once (``tongban hotline train`` retrains it and reports its macro-F1)."""
    if not conf.model_path().exists():
        classifier.save(classifier.fit(classifier.load_corpus()), conf.model_path())


@transaction.atomic
def load(console: Console) -> None:
    ensure_accounts(console)
    ensure_model()
    rng = random.Random(SEED)
    now = timezone.now()
    if not ServiceRecord.objects.filter(ref__startswith="DEMO-FB-").exists():
        records = _services(rng, now)
        _ratings(rng, records, now)
    if not WorkOrder.objects.filter(number__regex=r"^GD\d{8}9\d{4}$").exists():
        _orders(rng, now, User.objects.filter(username="hotline").first())
    console.print(f"[green]feedback[/green]: {Rating.objects.count()} 条好差评（{Rectification.objects.count()} 条差评整改）, "
                  f"{WorkOrder.objects.count()} 张12345工单; 账号 hotline / evaluator / discipline-rsj")
