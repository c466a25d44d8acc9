"""Third-party evaluation (第三方评估): read-only data sets with personal data masked, exported as CSV or Parquet,
and a seeded, reproducible random sample of cases for mystery-shopper checks."""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from tongban.workflow import selectors as workflow

from .errors import FeedbackError
from .models import Rating, ServiceRecord, WorkOrder


def mask_name(name: str) -> str:
    """张三 → 张*, 某某星火科技有限公司 → 某某**********司 (first and, when long, last character kept)."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def mask_text(text: str) -> str:
    """Long digit runs (phone, ID numbers) in free text are masked too."""
    out, run = [], []
    for ch in text + "\0":
        if ch.isdigit() or (run and ch in "Xx"):
            run.append(ch)
            continue
        if run:
            out.append("".join(run) if len(run) < 7 else run[0] + "*" * (len(run) - 2) + run[-1])
            run = []
        if ch != "\0":
            out.append(ch)
    return "".join(out)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def rating_rows(limit: int | None = None) -> list[dict[str, Any]]:
    qs: QuerySet[Rating] = Rating.objects.select_related("service", "department", "window", "rectification")
    qs = qs.order_by("-created_at", "-id")
    rows = []
    for r in qs[:limit] if limit else qs:
        rect = getattr(r, "rectification", None)
        rows.append({
            "service_ref": r.service.ref, "item_code": r.item_code, "item_name": r.service.item_name,
            "department": r.department.code, "department_name": r.department.name,
            "window": r.window.code if r.window_id else "", "level": r.level, "level_label": r.get_level_display(),
            "indicators": ";".join(f"{k}={v}" for k, v in r.indicators.items()), "comment": mask_text(r.comment),
            "channel": r.channel, "real_name": r.real_name, "person": mask_name(r.service.person_name),
            "served_at": _local(r.service.served_at), "rated_at": _local(r.created_at),
            "rectification_status": rect.status if rect else "", "rectified_at": _local(rect.rectified_at if rect else None),
            "revisited_at": _local(rect.revisited_at if rect else None),
        })
    return rows


def order_rows(limit: int | None = None) -> list[dict[str, Any]]:
    qs = WorkOrder.objects.select_related("department", "division").order_by("-created_at", "-id")
    rows = []
    for o in qs[:limit] if limit else qs:
        rows.append({
            "number": o.number, "channel": o.channel, "type": o.type, "type_label": o.get_type_display(),
            "urgency": o.urgency, "division": o.division.code if o.division_id else "", "text": mask_text(o.text),
            "contact_name": "匿名" if o.anonymous else mask_name(o.contact_name),
            "contact_phone": mask_phone(o.contact_phone), "department": o.department.code if o.department_id else "",
            "status": o.status, "created_at": _local(o.created_at), "dispatched_at": _local(o.dispatched_at),
            "received_at": _local(o.received_at), "answered_at": _local(o.answered_at),
            "handling_due": str(o.handling_due or ""), "satisfaction": o.satisfaction, "reopen_count": o.reopen_count,
            "proposed_type": o.proposed_type, "confidence": o.confidence,
        })
    return rows


def case_rows(limit: int | None = None) -> list[dict[str, Any]]:
    """Case timings: each root process instance of a case (business key = the case), its clock and light."""
    qs = workflow.instances().filter(parent__isnull=True).exclude(business_key="")
    rows = []
    for i in qs[:limit] if limit else qs:
        rows.append({
            "business_key": i.business_key, "process_key": i.process_key, "status": i.status,
            "started_at": _local(i.started_at), "ended_at": _local(i.ended_at), "limit_days": i.limit_days,
            "statutory_limit_days": i.statutory_limit_days, "due_on": str(i.due_on or ""),
            "statutory_due_on": str(i.statutory_due_on or ""), "light": i.light,
        })
    return rows


DATASETS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    "ratings": rating_rows, "orders": order_rows, "cases": case_rows}


def rows(dataset: str, limit: int | None = None) -> list[dict[str, Any]]:
    if dataset not in DATASETS:
        raise FeedbackError(f"数据集 {dataset} 不存在，可选：{'、'.join(DATASETS)}", code="feedback.not_found",
                            status=404)
    return DATASETS[dataset](limit)


def to_csv(data: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    if data:
        writer = csv.DictWriter(buffer, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # a BOM: spreadsheet programs read it as UTF-8


def to_parquet(data: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(data) if data else pa.table({})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def sample_cases(size: int, seed: int) -> dict[str, Any]:
    """A reproducible random draw of closed cases (the same seed over the same cases draws the same ones)."""
    if not 1 <= size <= 500:
        raise FeedbackError("抽样数量须为 1–500", detail={"field": "size"})
    population = sorted(set(ServiceRecord.objects.exclude(application_ref="").values_list("application_ref",
                                                                                           flat=True)))
    digest = hashlib.sha256("\n".join(population).encode()).hexdigest()
    drawn = sorted(random.Random(seed).sample(population, min(size, len(population))))
    return {"seed": seed, "size": size, "population": len(population), "population_sha256": digest,
            "cases": drawn}
