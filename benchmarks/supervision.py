#!/usr/bin/env python
"""Benchmark of supervision (事中事后监管) over a large market-entity register.

1. A 双随机 draw at about 5% with per-grade ratios (A 2%, B 5%, C 10%, D 30%) over ``--entities`` entities: the whole
   ``services.run_draw`` (scope query and inputs snapshot, the SHA-256 ranking, inspector avoidance, storing the draw,
   its inspections and the log entry), and the ranking alone;
2. the same draw done by the database: ``ORDER BY random() LIMIT k`` per grade (no inspectors, no snapshot, not
   reproducible) — the ratio draw / ORDER BY random() is printed;
3. a full credit recompute (``services.recompute_credit``) with credit records for about 10% of the entities.

Runs on its own scratch database: a temporary SQLite file by default, or ``--database-url`` (a PostgreSQL database
whose name contains "bench"; it is dropped and re-created, and dropped again at the end unless ``--keep``).

    .venv/bin/python benchmarks/supervision.py --entities 1000000
    .venv/bin/python benchmarks/supervision.py --entities 1000000 --database-url postgres://postgres@127.0.0.1:5432/tongban_bench_sup
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATIOS = {"A": 0.02, "B": 0.05, "C": 0.10, "D": 0.30}
GRADE_SHARE = [("A", 0.55), ("B", 0.30), ("C", 0.10), ("D", 0.05)]
DIVISIONS = ["910102001000", "910102101000", "910103001000", "910102000000", "910103000000"]


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


def prepare(n: int, seed: int = 1) -> None:
    """The demo city, 20 inspectors of 市场监管局, ``n`` entities with a grade mix and ~10% with credit records."""
    from django.core.management import call_command
    from rich.console import Console

    from tongban.core import demo as core_demo
    from tongban.core.models import Division, Organisation
    from tongban.supervision import services, uscc
    from tongban.supervision.models import CreditEvent, MarketEntity

    call_command("migrate", interactive=False, verbosity=0)
    core_demo.load(Console(quiet=True))
    rng = random.Random(seed)
    divisions = {d.code: d.pk for d in Division.objects.filter(code__in=DIVISIONS)}
    dept = Organisation.objects.get(code="yx-scjg")
    for i in range(20):
        services.save_inspector(code=f"B-{i:03d}", name=f"检查员{i}", department="yx-scjg",
                                division=DIVISIONS[i % len(DIVISIONS)])
    through = MarketEntity.supervising_departments.through
    grades = [g for g, share in GRADE_SHARE for _ in range(int(share * 100))]
    batch = 20000
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(n, start + batch)):
            division = DIVISIONS[i % len(DIVISIONS)]
            rows.append(MarketEntity(uscc=uscc.make(f"91{division[:6]}", f"B{i:08d}"), name=f"基准企业{i}",
                                     division_id=divisions[division], industry=rng.choice("FHIO"),
                                     grade=rng.choice(grades), source="register"))
        created = MarketEntity.objects.bulk_create(rows, batch_size=5000)
        through.objects.bulk_create([through(marketentity_id=e.pk, organisation_id=dept.pk) for e in created],
                                    batch_size=5000)
        today = date.today()
        events = [CreditEvent(entity_id=e.pk, kind="penalty", points=-20, description="基准处罚",
                              occurred_on=today - timedelta(days=rng.randrange(1, 1500)))
                  for e in created if rng.random() < 0.1]
        CreditEvent.objects.bulk_create(events, batch_size=5000)
    print(f"prepared {n} entities in {time.perf_counter() - t0:.1f} s")


def order_by_random(plan_department_id: int) -> tuple[float, int]:
    """The baseline: per grade, COUNT then ORDER BY random() LIMIT k in SQL."""
    import math

    from django.db import connection

    t0 = time.perf_counter()
    total = 0
    with connection.cursor() as cur:
        for grade, ratio in RATIOS.items():
            cur.execute("SELECT COUNT(*) FROM supervision_marketentity WHERE grade = %s AND status = 'active'",
                        [grade])
            k = math.ceil(round(cur.fetchone()[0] * ratio, 9))
            cur.execute(
                "SELECT e.uscc FROM supervision_marketentity e WHERE e.grade = %s AND e.status = 'active' AND e.id IN "
                "(SELECT marketentity_id FROM supervision_marketentity_supervising_departments "
                "WHERE organisation_id = %s) ORDER BY random() LIMIT %s", [grade, plan_department_id, k])
            total += len(cur.fetchall())
    return time.perf_counter() - t0, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="", help="scratch PostgreSQL database (name must contain 'bench')")
    parser.add_argument("--force", action="store_true", help="allow a scratch database name without 'bench'")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and TONGBAN_HOME")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="tongban-bench-supervision-")
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
    from tongban.supervision import drawing, services

    print(f"# tongban supervision benchmark: {backend}, {args.entities} entities, ratios {RATIOS}, "
          f"{os.cpu_count()} CPUs")
    prepare(args.entities)
    plan = services.save_plan(code="BENCH-1", name="基准抽查", department="yx-scjg", ratios=RATIOS,
                              period_start="2026-01-01", period_end="2026-12-31", checklist=["基准检查"])
    t0 = time.perf_counter()
    inputs = services.draw_inputs(plan)
    snapshot_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    picked = drawing.pick_entities("bench-seed", inputs["entities"], inputs["ratios"])
    ranking_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    draw = services.run_draw(plan, seed="bench-seed")
    draw_s = time.perf_counter() - t0
    assert [(r["uscc"], r["grade"]) for r in draw.outcome] == picked
    eligible = sum(len(v) for v in inputs["entities"].values())
    t0 = time.perf_counter()
    identical = services.redraw(draw) is None
    redraw_s = time.perf_counter() - t0
    random_s, random_n = order_by_random(plan.department_id)
    t0 = time.perf_counter()
    counts = services.recompute_credit()
    recompute_s = time.perf_counter() - t0
    print(f"inputs snapshot (scope query):        {snapshot_s:8.2f} s  ({eligible} eligible)")
    print(f"SHA-256 ranking of the entities:      {ranking_s:8.2f} s  ({len(picked)} drawn)")
    print(f"whole draw (snapshot, rank, store, log): {draw_s:5.2f} s  (target < 5 s)")
    print(f"redraw from the stored inputs:        {redraw_s:8.2f} s  identical={identical}")
    print(f"ORDER BY random() per grade (SQL):    {random_s:8.2f} s  ({random_n} drawn)")
    print(f"full credit recompute:                {recompute_s:8.2f} s  {counts} (target < 60 s)")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
        if args.database_url:
            from django.db import connections

            connections.close_all()
            _scratch_postgres(args.database_url, args.force, create=False)
    print(f"ratio_draw_vs_order_by_random={draw_s / random_s:.2f}")


if __name__ == "__main__":
    main()
