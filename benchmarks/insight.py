#!/usr/bin/env python
"""Benchmark of the evaluation indicators (insight) over a large case log.

Prepares ``--cases`` synthetic cases of the demo city spread over ``--months`` months (default 12), with their
process clocks, materials (2 per case), visits, one-time notices, corrections, ratings (30% of cases), bad-rating
rectifications, 12345 work orders (10% of the cases), post-checks (5%), access-log entries (20%) and the review
tasks of one-thing bundles (8% of the cases are bundles of two items), then:

1. computes **all** indicators of the file for one month (the last prepared month) with
   ``insight.indicators.compute`` — one aggregate SQL query per fact, on the database itself;
2. computes the same figures of a subset (the 14 indicators over the facts items_closed, submissions, materials,
   ratings and post_checks) the ORM way: ``.values()`` rows of the month with annotated counts, working days from
   ``WorkingCalendar`` in Python — on a sample of ``--orm-sample`` rows per fact, scaled linearly to the month
   (said in the output) — and checks on the sample that it gives the same figures as the SQL;
3. prints seconds and the ratio ORM / SQL for the subset (the same figures both ways).

Runs on a scratch database: a temporary SQLite file by default, or ``--database-url`` (a PostgreSQL database whose
name contains "bench"; dropped and re-created, and dropped again at the end unless ``--keep``).

    .venv/bin/python benchmarks/insight.py --cases 1000000
    .venv/bin/python benchmarks/insight.py --cases 1000000 --database-url postgres://postgres@127.0.0.1:5432/tongban_bench_insight
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBSET = ["on_time_rate", "mean_workdays_used", "time_used_ratio", "immediate_share", "fully_online_share",
          "mean_visits", "at_most_once_rate", "first_pass_rate", "one_time_notice_rate", "correction_rate",
          "exempt_material_share", "good_rating_rate", "post_check_failure_rate", "national_effectiveness"]
BATCH = 20000


def _admin_connection(url: str):
    import psycopg
    from dj_database_url import parse

    cfg = parse(url)
    conn = psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                           password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    return conn, cfg["NAME"]


def _scratch_postgres(url: str, force: bool, *, create: bool = True) -> None:
    from psycopg import sql

    conn, name = _admin_connection(url)
    if "bench" not in name and not force:
        conn.close()
        raise SystemExit(f"refusing to drop database {name!r}: use a name containing 'bench' or --force")
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- fast inserts: every column from a template instance, a few varying per row -----------------------------------

class Inserter:
    """``INSERT`` rows of a model through the driver: all columns prepared once from a template instance (encrypted
    fields included), the varying ones given per row (Python values, adapted here)."""

    def __init__(self, model: Any, template: Any, varying: list[str]) -> None:
        from django.db import connection

        self.connection = connection
        self.fields = [f for f in model._meta.concrete_fields if f.name in varying or not f.primary_key]
        by_name = {f.name: f for f in model._meta.concrete_fields}
        self.vary = [by_name[n] for n in varying]
        fixed = [f for f in self.fields if f.name not in varying]
        self.fixed_values = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fixed]
        cols = [f.column for f in self.vary] + [f.column for f in fixed]
        qn = connection.ops.quote_name
        self.copy_sql = (f"COPY {qn(model._meta.db_table)} ({', '.join(qn(c) for c in cols)}) FROM STDIN")
        self.sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in cols)}) "
                    f"VALUES ({', '.join(['%s'] * len(cols))})")

    def _adapt(self, field: Any, value: Any) -> Any:
        ops = self.connection.ops
        if value is None:
            return None
        if isinstance(value, datetime):
            return ops.adapt_datetimefield_value(value)
        if isinstance(value, date):
            return ops.adapt_datefield_value(value)
        return value

    def insert(self, rows: Iterable[tuple]) -> int:
        if self.connection.vendor == "postgresql":
            return self._copy(rows)
        n = 0
        with self.connection.cursor() as cur:
            chunk: list[list[Any]] = []
            for row in rows:
                chunk.append([self._adapt(f, v) for f, v in zip(self.vary, row, strict=True)] + self.fixed_values)
                if len(chunk) >= BATCH:
                    cur.executemany(self.sql, chunk)
                    n += len(chunk)
                    chunk = []
            if chunk:
                cur.executemany(self.sql, chunk)
                n += len(chunk)
        return n


    def _copy(self, rows: Iterable[tuple]) -> int:
        """PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3), far faster than row inserts."""
        n = 0
        with self.connection.cursor() as cur, cur.cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row([self._adapt(f, v) for f, v in zip(self.vary, row, strict=True)] + self.fixed_values)
                n += 1
        return n


def prepare(n: int, months: int, seed: int = 7) -> tuple[str, dict[str, float]]:
    """The demo city's organisations and catalogue, then ``n`` cases over ``months`` months ending last month."""
    from django.core.management import call_command
    from django.db import connection, transaction
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
    from tongban.catalog import demo as catalog_demo
    from tongban.catalog.models import Bundle, ServiceItem
    from tongban.core import demo as core_demo
    from tongban.core.calendar import default_calendar
    from tongban.exchange.models import AccessLogEntry
    from tongban.feedback.models import Rating, Rectification, ServiceRecord, WorkOrder
    from tongban.insight.indicators.compute import current_period
    from tongban.supervision.models import PostCheck
    from tongban.workflow.models import ProcessDefinition, ProcessInstance, Task

    call_command("migrate", interactive=False, verbosity=0)
    core_demo.load(Console(quiet=True))
    catalog_demo.load(Console(quiet=True))
    rng = random.Random(seed)
    cal = default_calendar()
    tz = timezone.get_current_timezone()
    last = current_period().previous()
    periods = [last.previous(k) for k in range(months - 1, -1, -1)]
    items = list(ServiceItem.objects.filter(status="published", competent_department__isnull=False,
                                            children__isnull=True).order_by("code"))
    bundles = [b for b in Bundle.objects.filter(status="published", lead_department__isnull=False)]
    definition = ProcessDefinition.objects.create(key="bench", version=1, bpmn_xml="<x/>", checksum="bench")
    blob = StoredFile.objects.create(sha256="b" * 64, size=0, content_type="application/pdf")
    window = items[0].implementing_org
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    # one plan per case, kept small: (id, period index, day, item index, bundle?, online, notices, visits, ...)
    workdays_by_period = [[d for d in (p.first_day + timedelta(days=k) for k in range((p.next_day - p.first_day).days))
                           if cal.is_workday(d)] for p in periods]

    def local(day: date, hour: float) -> datetime:
        return datetime(day.year, day.month, day.day, int(hour), int(hour % 1 * 60), tzinfo=tz)

    app_t = Application(ref="x", title="基准办件", applicant_name="基准", applicant_id_number="910102198001010000",
                        status="approved", created_at=timezone.now())
    ai_t = ApplicationItem(item=items[0], department=items[0].competent_department, status="approved",
                           decided_by="审批人员")
    pi_t = ProcessInstance(definition=definition, process_key="bench", status="completed")
    apps = Inserter(Application, app_t, ["id", "ref", "item", "bundle", "channel", "status", "submitted_at",
                                         "accepted_at", "decided_at", "completed_at", "created_at", "window"])
    pis = Inserter(ProcessInstance, pi_t, ["id", "started_on", "due_on", "limit_days", "started_at", "ended_at"])
    ais = Inserter(ApplicationItem, ai_t, ["id", "application", "item", "department", "process_instance_id",
                                           "decided_at"])
    mats = Inserter(ApplicationMaterial, ApplicationMaterial(key="m", name="材料"), ["application", "key", "status"])
    visits = Inserter(Visit, Visit(window=window, purpose="现场", at=timezone.now()), ["application", "at"])
    notices = Inserter(Notice, Notice(kind="one_time", code="x", file=blob, issued_at=timezone.now()),
                       ["application", "code"])
    events = Inserter(ApplicationEvent, ApplicationEvent(kind="corrected", message="申请人已补正", at=timezone.now()),
                      ["application"])
    tasks = Inserter(Task, Task(element_id="review", name="审查", state="completed", created_at=timezone.now()),
                     ["instance", "candidate_org", "due_on", "completed_at"])
    records = Inserter(ServiceRecord, ServiceRecord(ref="x", department=window, served_at=timezone.now(),
                                                    rate_until=timezone.now(), person_id_number="910102198001010000"),
                       ["id", "ref", "application_ref", "item_code", "department", "served_at"])
    ratings = Inserter(Rating, Rating(level=5, department=window, created_at=timezone.now()),
                       ["id", "service", "level", "channel", "department", "item_code", "created_at"])
    rects = Inserter(Rectification, Rectification(department=window, created_at=timezone.now(), status="done"),
                     ["rating", "department", "created_at", "due_on", "rectified_at", "revisited_at"])
    orders = Inserter(WorkOrder, WorkOrder(number="x", text="诉求", type="complaint", created_at=timezone.now(),
                                           status="closed"),
                      ["number", "department", "created_at", "handling_due", "answered_at", "satisfaction"])
    checks = Inserter(PostCheck, PostCheck(application_ref="x", subject_name="基准企业", department=window,
                                           due_on=date.today(), created_at=timezone.now()),
                      ["application_ref", "department", "status", "checked_at"])
    logs = Inserter(AccessLogEntry, AccessLogEntry(at=timezone.now(), consumer_org="yx-rsj", source="shared",
                                                   resource="hukou", subject_id="910102198001010000",
                                                   outcome="granted", leaf_hash="0" * 64),
                    ["seq", "at", "case_ref", "outcome"])

    def cases(first: int, last: int) -> Iterator[dict[str, Any]]:
        for i in range(first, last):
            p = rng.randrange(months)
            day = rng.choice(workdays_by_period[p])
            bundle = rng.choice(bundles) if bundles and rng.random() < 0.08 else None
            its = rng.sample(items, 2) if bundle else [rng.choice(items)]
            notices_n = 1 if rng.random() < 0.1 else 0
            accept = cal.add_working_days(day, notices_n)
            decided = []
            for it in its:
                limit = it.promised_limit_days or 0
                used = min(limit + (rng.randint(1, 3) if rng.random() < 0.05 else 0), int(limit * rng.uniform(0, 1.1)))
                decided.append((it, limit, cal.add_working_days(accept, limit),
                                local(cal.add_working_days(accept, used), rng.uniform(9, 17))))
            yield {"id": i, "day": day, "bundle": bundle, "items": decided, "online": rng.random() < 0.7,
                   "notices": notices_n, "accept": accept, "visits": 0 if rng.random() < 0.6 else rng.randint(1, 3),
                   "refused": rng.random() < 0.02}

    depts = sorted({it.competent_department_id for it in items})
    counters = {"pi": 0, "record": 0, "order": 0, "log": 0}
    chunk_size = 100_000
    for first in range(1, n + 1, chunk_size):
        with transaction.atomic():
            plans = list(cases(first, min(n + 1, first + chunk_size)))
            apps.insert((c["id"], f"B{c['id']:08d}", None if c["bundle"] else c["items"][0][0].pk,
                         c["bundle"].pk if c["bundle"] else None, "online" if c["online"] else "window",
                         "refused" if c["refused"] else "approved", local(c["day"], 9.5),
                         None if c["refused"] else local(c["accept"], 10),
                         None if c["refused"] else max(d[3] for d in c["items"]),
                         None if c["refused"] else max(d[3] for d in c["items"]), local(c["day"], 9.5),
                         None if c["online"] else window.pk) for c in plans)
            pi_rows, ai_rows, task_rows = [], [], []
            for c in plans:
                if c["refused"]:
                    continue
                for it, limit, due, dec in c["items"]:
                    counters["pi"] += 1
                    k = counters["pi"]
                    pi_rows.append((k, c["accept"], due, limit, local(c["accept"], 10), dec))
                    ai_rows.append((k, c["id"], it.pk, it.competent_department_id, k, dec))
                    if c["bundle"]:
                        task_rows.append((k, it.competent_department_id, due, dec))
            pis.insert(pi_rows)
            ais.insert(ai_rows)
            tasks.insert(task_rows)
            mats.insert((c["id"], f"m{j}", rng.choice(["fetched", "provided", "provided", "supplemented", "waived"]))
                        for c in plans for j in range(2))
            visits.insert((c["id"], local(c["day"], 10)) for c in plans for _ in range(c["visits"]))
            notices.insert((c["id"], f"N{c['id']:09d}") for c in plans if c["notices"])
            events.insert((c["id"],) for c in plans if not c["refused"] and rng.random() < 0.05)
            rated = []
            for c in plans:
                if not c["refused"] and rng.random() < 0.3:
                    counters["record"] += 1
                    rated.append((counters["record"], c, rng.choices([5, 4, 3, 2, 1], weights=[70, 18, 6, 4, 2])[0]))
            records.insert((j, f"S{c['id']:09d}", f"B{c['id']:08d}", c["items"][0][0].code,
                            c["items"][0][0].competent_department_id, c["items"][0][3]) for j, c, _lv in rated)
            ratings.insert((j, j, lv, rng.choice(["web", "mobile", "pad"]), c["items"][0][0].competent_department_id,
                            c["items"][0][0].code, c["items"][0][3] + timedelta(hours=2)) for j, c, lv in rated)
            rects.insert((j, c["items"][0][0].competent_department_id, c["items"][0][3] + timedelta(hours=2),
                          c["items"][0][3].date() + timedelta(days=14), c["items"][0][3] + timedelta(days=5),
                          c["items"][0][3] + timedelta(days=6) if rng.random() < 0.9 else None)
                         for j, c, lv in rated if lv <= 2)
            orders.insert((f"GDB{c['id']:09d}", rng.choice(depts), local(c["day"], 11), c["day"] + timedelta(days=5),
                           local(c["day"] + timedelta(days=rng.randint(0, 8)), 15),
                           rng.choice(["satisfied", "satisfied", "dissatisfied", ""])) for c in plans[::10])
            checks.insert((f"B{c['id']:08d}", c["items"][0][0].competent_department_id,
                           "failed" if rng.random() < 0.05 else "passed", c["items"][0][3] + timedelta(days=3))
                          for c in plans[::20] if not c["refused"])
            log_rows = []
            for c in plans[::5]:
                log_rows.append((counters["log"], local(c["day"], 10), f"B{c['id']:08d}",
                                 "granted" if rng.random() < 0.97 else "refused"))
                counters["log"] += 1
            logs.insert(log_rows)
        print(f"  {min(n, first + chunk_size - 1)} cases inserted ({time.perf_counter() - t0:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    timings["insert"] = time.perf_counter() - t0
    return last.text, timings


# --- the ORM baseline ----------------------------------------------------------------------------------------------

def orm_figures(period_text: str, sample: int) -> tuple[dict[str, float | None], float, dict[str, tuple[int, int]]]:
    """The subset's figures the ORM way on at most ``sample`` rows per fact; returns (figures, seconds, {fact:
    (rows read, rows in the month)})."""
    from django.db.models import Count, Exists, OuterRef, Q
    from django.utils import timezone

    from tongban.applications.models import (
        Application,
        ApplicationEvent,
        ApplicationItem,
        ApplicationMaterial,
    )
    from tongban.core.calendar import WorkingCalendar
    from tongban.feedback.models import Rating
    from tongban.insight.indicators import parse_period
    from tongban.supervision.models import PostCheck
    from tongban.workflow.models import ProcessInstance

    period = parse_period(period_text)
    start, end = period.start, period.end
    cal = WorkingCalendar.load()
    t0 = time.perf_counter()
    sizes: dict[str, tuple[int, int]] = {}

    def take(qs: Any, name: str) -> list[dict[str, Any]]:
        rows = list(qs[:sample])
        sizes[name] = (len(rows), qs.count() if len(rows) == sample else len(rows))
        return rows

    # items_closed
    closed = take(ApplicationItem.objects.filter(decided_at__gte=start, decided_at__lt=end,
                                                 status__in=["approved", "rejected"])
                  .annotate(visits=Count("application__visits", distinct=True))
                  .values("decided_at", "process_instance_id", "application__channel",
                          "item__promised_limit_days", "visits").order_by("pk"), "items_closed")
    clocks = {p["id"]: p for p in ProcessInstance.objects.filter(
        pk__in=[r["process_instance_id"] for r in closed]).values("id", "started_on", "due_on", "limit_days")}
    m = dict.fromkeys(["clocked", "on_time", "used", "limit", "immediate", "online", "visits", "once"], 0)
    for r in closed:
        day = timezone.localdate(r["decided_at"])
        pi = clocks.get(r["process_instance_id"])
        if pi and pi["due_on"] is not None:
            m["clocked"] += 1
            m["on_time"] += day <= pi["due_on"]
            m["used"] += cal.working_days_between(pi["started_on"], day)
            m["limit"] += pi["limit_days"] or 0
        m["immediate"] += r["item__promised_limit_days"] == 0
        m["online"] += r["application__channel"] == "online" and r["visits"] == 0
        m["visits"] += r["visits"]
        m["once"] += r["visits"] <= 1
    total = len(closed)
    # submissions
    subs = take(Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
                .annotate(n_notices=Count("notices", filter=Q(notices__kind="one_time"), distinct=True),
                          corrected=Exists(ApplicationEvent.objects.filter(application=OuterRef("pk"),
                                                                          kind="corrected")))
                .values("accepted_at", "status", "n_notices", "corrected").order_by("pk"), "submissions")
    s = dict.fromkeys(["screened", "first", "noticed", "once", "accepted", "corrected"], 0)
    for r in subs:
        accepted = r["accepted_at"] is not None
        r["notices"] = r["n_notices"]
        s["screened"] += accepted or r["status"] == "refused" or r["notices"] > 0
        s["first"] += accepted and r["notices"] == 0
        s["noticed"] += r["notices"] > 0
        s["once"] += r["notices"] == 1
        s["accepted"] += accepted
        s["corrected"] += bool(r["corrected"])
    mats = take(ApplicationMaterial.objects.filter(application__submitted_at__gte=start,
                                                   application__submitted_at__lt=end)
                .values("status").order_by("pk"), "materials")
    delivered = sum(r["status"] in ("provided", "supplemented", "fetched", "waived", "commitment") for r in mats)
    exempt = sum(r["status"] in ("fetched", "waived") for r in mats)
    rates = take(Rating.objects.filter(created_at__gte=start, created_at__lt=end).values("level", "channel")
                 .order_by("pk"), "ratings")
    good = sum(r["level"] >= 3 for r in rates)
    online = [r for r in rates if r["channel"] in ("web", "mobile", "api")]
    checks = take(PostCheck.objects.filter(checked_at__gte=start, checked_at__lt=end, status__in=["passed", "failed"])
                  .values("status").order_by("pk"), "post_checks")

    def pct(a: float, b: float) -> float | None:
        return None if not b else round(100 * a / b, 2)

    figures = {
        "on_time_rate": pct(m["on_time"], m["clocked"]),
        "mean_workdays_used": None if not m["clocked"] else round(m["used"] / m["clocked"], 2),
        "time_used_ratio": pct(m["used"], m["limit"]), "immediate_share": pct(m["immediate"], total),
        "fully_online_share": pct(m["online"], total),
        "mean_visits": None if not total else round(m["visits"] / total, 2), "at_most_once_rate": pct(m["once"], total),
        "first_pass_rate": pct(s["first"], s["screened"]), "one_time_notice_rate": pct(s["once"], s["noticed"]),
        "correction_rate": pct(s["corrected"], s["accepted"]), "exempt_material_share": pct(exempt, delivered),
        "good_rating_rate": pct(good, len(rates)),
        "post_check_failure_rate": pct(sum(r["status"] == "failed" for r in checks), len(checks)),
        "national_effectiveness": pct(sum(r["level"] >= 3 for r in online), len(online)),
    }
    return figures, time.perf_counter() - t0, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--orm-sample", type=int, default=50_000, help="rows per fact the ORM baseline reads")
    parser.add_argument("--database-url", default="", help="scratch PostgreSQL database (name must contain 'bench')")
    parser.add_argument("--force", action="store_true", help="allow a scratch database name without 'bench'")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and TONGBAN_HOME")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="tongban-bench-insight-")
    os.environ.update({"TONGBAN_HOME": home, "DJANGO_SETTINGS_MODULE": "tongban.settings",
                       "TONGBAN_LOG_LEVEL": "ERROR"})
    if args.database_url:
        _scratch_postgres(args.database_url, args.force)
        os.environ["DATABASE_URL"] = args.database_url
        backend = "PostgreSQL"
    else:
        os.environ.pop("DATABASE_URL", None)
        backend = f"SQLite ({home})"
    import django

    django.setup()
    from tongban.insight.indicators import compute, current

    print(f"# tongban insight benchmark: {backend}, {args.cases} cases over {args.months} months, "
          f"{os.cpu_count()} CPUs")
    period, timings = prepare(args.cases, args.months)
    print(f"prepared in {timings['insert']:.1f} s; month measured: {period}")
    defs = current()
    compute(period, indicators=["on_time_rate"], definitions=defs)  # fills the working-day numbers once
    t0 = time.perf_counter()
    figures = compute(period, definitions=defs)
    all_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subset_sql = {f.indicator.id: f.value for f in compute(period, indicators=SUBSET, definitions=defs)}
    subset_s = time.perf_counter() - t0
    closed = next(f for f in figures if f.indicator.id == "mean_workdays_used").measures["clocked"]
    orm, orm_s, sizes = orm_figures(period, args.orm_sample)
    sampled = any(read < total for read, total in sizes.values())
    scale = max(total / read for read, total in sizes.values() if read) if sizes else 1.0
    orm_scaled = orm_s * scale
    if not sampled:
        diff = {k: (orm[k], subset_sql[k]) for k in SUBSET if orm[k] != subset_sql[k]}
        assert not diff, f"ORM and SQL disagree: {diff}"
        check = "identical figures"
    else:
        check = "sample: figures not compared (the SQL covers the whole month)"
    print(f"all {len(defs.indicators)} indicators, one month (SQL on the database): {all_s:8.2f} s  "
          f"({closed} closed items in the month; target < 30 s)")
    print(f"subset of {len(SUBSET)} indicators, SQL:                       {subset_s:8.2f} s")
    print(f"subset of {len(SUBSET)} indicators, ORM + Python:              {orm_s:8.2f} s  rows read {sizes}"
          + (f"; scaled ×{scale:.1f} to the month: {orm_scaled:.2f} s" if sampled else "") + f"; {check}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
        if args.database_url:
            from django.db import connections

            connections.close_all()
            _scratch_postgres(args.database_url, args.force, create=False)
    print(f"ratio_orm_vs_sql={orm_scaled / subset_s:.2f}")
    print(f"seconds_all_indicators={all_s:.2f}")


if __name__ == "__main__":
    main()
