"""Catalogue search benchmark: the API's item search selector against a plain ORM filter, same run, same data.

    .venv/bin/python benchmarks/catalog.py [--items 5000] [--seconds 1.0] [--postgres URL]

Builds a synthetic catalogue of ``--items`` published items (Chinese names over 16 departments) in a fresh
SQLite database under a temporary TONGBAN_HOME (or in the PostgreSQL database given by ``--postgres``; its
synthetic rows are deleted afterwards), then, for each query, measures queries per second of

- ``search``: ``tongban.catalog.selectors.search_items(q)``: what ``GET /api/catalog/items?q=`` runs
  (every word of q in name or code, published only, total count, first page of 20 with departments);
- ``baseline``: ``list(ServiceItem.objects.filter(name__contains=q)[:20])``.

Prints a table and, as its last line, ``ratio_vs_plain_filter=X.XX`` (search queries/s ÷ baseline queries/s,
over all queries; 1.00 would mean the selector costs nothing over the plain filter).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

QUERIES = ["食品", "经营许可", "登记 变更", "公积金", "消防 检查", "BENCH-0042", "出生", "不存在的事项"]
SUBJECTS = ["食品", "药品", "医疗器械", "建筑工程", "道路运输", "户籍", "社会保险", "住房公积金", "消防", "户外广告",
            "出租汽车", "民办学校", "养老机构", "危险化学品", "城镇排水", "林木采伐", "烟草专卖", "出生医学证明",
            "特种设备", "网络餐饮", "二手车", "殡葬服务", "农药经营", "水土保持"]
ACTIONS = ["经营许可", "登记", "备案", "变更登记", "注销登记", "延续", "年度检查", "资格认定", "补贴申领", "证明开具",
           "安全检查", "信息查询", "许可证核发", "许可证补发"]


def _setup(postgres: str | None) -> None:
    if postgres:
        os.environ["DATABASE_URL"] = postgres
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("TONGBAN_HOME", tempfile.mkdtemp(prefix="tongban-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _build(n: int) -> None:
    from rich.console import Console

    from tongban.catalog.models import ServiceItem
    from tongban.core import demo as core_demo
    from tongban.core.models import Organisation

    core_demo.load(Console(quiet=True))
    orgs = list(Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT))
    rng = random.Random(42)
    types = ["licensing", "confirmation", "payment", "filing", "other_power", "public_service"]
    levels = ["city", "county", "township"]
    items = []
    for i in range(n):
        org = orgs[i % len(orgs)]
        items.append(ServiceItem(
            code=f"BENCH-{i:04d}", name=f"{rng.choice(SUBJECTS)}{rng.choice(ACTIONS)}（{org.short_name}{i}）",
            item_type=rng.choice(types), competent_department=org, implementing_org=org,
            exercise_level=rng.choice(levels), status="published" if i % 10 else "draft",
            conditions="条件" * 40, legal_basis=[{"law": "《中华人民共和国行政许可法》", "article": "第十二条"}],
        ))
    ServiceItem.objects.bulk_create(items, batch_size=1000)


def _rate(fn, seconds: float) -> tuple[float, int]:
    fn()  # warm up
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per query and method")
    parser.add_argument("--postgres", help="run against this PostgreSQL database URL instead of a fresh SQLite")
    args = parser.parse_args()
    _setup(args.postgres)

    from django.db import connection
    from rich.console import Console
    from rich.table import Table

    from tongban.catalog import selectors
    from tongban.catalog.models import ServiceItem

    try:
        _build(args.items)
        table = Table(title=f"catalogue search, {args.items} items, {connection.vendor}")
        for column in ("query", "matches", "search q/s", "baseline q/s", "ratio"):
            table.add_column(column, justify="right" if column != "query" else "left")
        search_times, base_times = [], []  # seconds per call, per query
        for q in QUERIES:
            first = q.split()[0]
            count = selectors.search_items(q).count
            search, _ = _rate(lambda q=q: selectors.search_items(q), args.seconds)
            base, _ = _rate(lambda first=first: list(ServiceItem.objects.filter(name__contains=first)[:20]),
                            args.seconds)
            search_times.append(1 / search)
            base_times.append(1 / base)
            table.add_row(q, str(count), f"{search:,.0f}", f"{base:,.0f}", f"{search / base:.2f}")
        Console().print(table)
        # Every query weighs the same: mean time per call of each method over the queries.
        mean_search = sum(search_times) / len(search_times)
        mean_base = sum(base_times) / len(base_times)
        print(f"search {1 / mean_search:,.0f} q/s, baseline {1 / mean_base:,.0f} q/s (mean over {len(QUERIES)} queries)")
        print(f"ratio_vs_plain_filter={mean_base / mean_search:.2f}")
    finally:
        if args.postgres:
            ServiceItem.objects.filter(code__startswith="BENCH-").delete()


if __name__ == "__main__":
    main()
