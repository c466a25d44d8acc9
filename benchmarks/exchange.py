#!/usr/bin/env python
"""Benchmark of the data exchange (数据共享交换).

1. Granted evidence queries per second *with the access-log append included* (grant check, consent
   check, provider read, JSON Schema check of the answer, masking, RFC 6962 log append committed),
   against a plain query of the same provider table for the same subjects (the same indexed SQL read
   the local provider does; the Django ORM read is printed for reference), in the same run, with the
   same number of worker processes. Reported as a ratio.
2. Inclusion-proof size against log size (1k, 10k, 100k entries by default): the audit path read
   from the database node cache; it must grow as log2(n). Each proof is verified.

Runs on its own scratch database: a temporary SQLite file by default, or ``--database-url`` (a
PostgreSQL database whose name contains "bench"; it is dropped and re-created). The last line is
``ratio_vs_plain_query=X.XX``.

    .venv/bin/python benchmarks/exchange.py
    .venv/bin/python benchmarks/exchange.py --database-url postgres://postgres@127.0.0.1:5432/tongban_bench
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESOURCE = "household_register"
CONSUMER = "yx-scjg"
CASE = "BENCH-1"


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def subject(i: int) -> str:
    return f"91010219{i:010d}"[:17] + "X" if i % 11 == 0 else f"910102{i:012d}"


def _prepare(env: dict[str, str], subjects: int) -> None:
    _setup(env)
    from django.core.management import call_command
    from rich.console import Console

    from tongban.core import demo as core_demo
    from tongban.exchange import demo as exchange_demo
    from tongban.exchange.models import Consent, DataResource, ProviderRecord

    call_command("migrate", interactive=False, verbosity=0)
    core_demo.load(Console(quiet=True))
    exchange_demo.load(Console(quiet=True))
    resource = DataResource.objects.get(code=RESOURCE)
    template = exchange_demo.RECORDS[RESOURCE][0]
    from tongban.core.models import Organisation

    consumer = Organisation.objects.get(code=CONSUMER)
    records, consents = [], []
    for i in range(subjects):
        sid = subject(i)
        records.append(ProviderRecord(resource=resource, subject_id=sid,
                                      data={**template, "id_number": sid, "name": f"测试{i % 97}号"}))
        consents.append(Consent(subject_id=sid, source="shared", code=RESOURCE, consumer=consumer, case_ref=CASE,
                                purpose="基准测试"))
    ProviderRecord.objects.bulk_create(records, batch_size=2000)
    Consent.objects.bulk_create(consents, batch_size=2000)


def _worker(env: dict[str, str], mode: str, count: int, subjects: int, seed: int, barrier, out) -> None:
    _setup(env)
    from django.db import connection

    from tongban.core import evidence
    from tongban.core.evidence import SHARED, EvidenceRequest
    from tongban.exchange.models import DataResource, ProviderRecord
    from tongban.exchange.providers import read_record

    rnd = random.Random(seed)
    ids = [subject(rnd.randrange(subjects)) for _ in range(count)]
    connection.ensure_connection()
    # warm up (connection, caches, validators)
    for sid in ids[:20]:
        ProviderRecord.objects.filter(resource__code=RESOURCE, subject_id=sid).values_list("data", flat=True).first()
    barrier.wait()
    start = time.perf_counter()
    t0 = time.time()
    if mode == "plain":  # the same indexed read of the same table the local provider does
        resource_id = DataResource.objects.values_list("pk", flat=True).get(code=RESOURCE)
        for sid in ids:
            row = read_record(resource_id, sid)
            assert row is not None
    elif mode == "orm":  # the same read through the ORM, for reference
        for sid in ids:
            row = (ProviderRecord.objects.filter(resource__code=RESOURCE, subject_id=sid)
                   .values_list("data", flat=True).first())
            assert row is not None
    else:
        for sid in ids:
            ev = evidence.fetch(EvidenceRequest(source=SHARED, code=RESOURCE, subject_id=sid, requester_org=CONSUMER,
                                                purpose="基准测试", case_ref=CASE))
            assert ev.data["id_number"] == sid
    elapsed = time.perf_counter() - start
    out.put((count, t0, t0 + elapsed))


def throughput(ctx, env: dict[str, str], mode: str, workers: int, count: int, subjects: int) -> float:
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(env, mode, count, subjects, 1000 + n, barrier, out))
             for n in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"{mode} worker failed with exit code {p.exitcode}")
    total = sum(r[0] for r in results)
    span = max(r[2] for r in results) - min(r[1] for r in results)
    return total / span


def proof_sizes(env: dict[str, str], sizes: list[int]) -> list[tuple[int, int, float, float]]:
    """Grow the log to each size (bulk, synthetic entries), sync the tree, time proofs from the database."""
    _setup(env)
    from django.db import transaction
    from django.utils import timezone

    from tongban.exchange import accesslog, merkle
    from tongban.exchange.models import AccessLogEntry

    rows = []
    rnd = random.Random(7)
    for target in sizes:
        accesslog.sync_tree()
        size = accesslog.log_size()
        now = timezone.now()
        while size < target:  # synthetic entries, written unsequenced like real appends (in bulk)
            batch = []
            for i in range(size, min(size + 5000, target)):
                e = AccessLogEntry(at=now, actor="bench", consumer_org=CONSUMER, source="shared", resource=RESOURCE,
                                   subject_id=subject(i % 1000), case_ref=CASE, purpose="基准测试", fields=["name"],
                                   masked_fields=[], outcome="granted", leaf_hash="")
                e.leaf_hash = accesslog.compute_leaf_hash(e)
                batch.append(e)
            with transaction.atomic():
                AccessLogEntry.objects.bulk_create(batch)
            size += len(batch)
        t = time.perf_counter()
        accesslog.sign_tree_head()  # sequences the new entries, stores their subtree hashes, signs
        sync_s = time.perf_counter() - t
        lengths, times = [], []
        root = accesslog.root_at(target)  # the tree at that size (the log may already be larger)
        for seq in [0, target - 1, *(rnd.randrange(target) for _ in range(20))]:
            t = time.perf_counter()
            proof = accesslog.inclusion_proof(seq, target)
            times.append(time.perf_counter() - t)
            path = [bytes.fromhex(h) for h in proof["audit_path"]]
            assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), seq, target, path, root)
            lengths.append(len(path))
        rows.append((target, max(lengths), sum(times) / len(times) * 1000, sync_s))
    return rows


def _admin_connection(url: str):
    import psycopg
    from dj_database_url import parse

    cfg = parse(url)
    conn = psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                           password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    return conn, cfg["NAME"]


def _drop_postgres(url: str) -> None:
    from psycopg import sql

    conn, name = _admin_connection(url)
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def _scratch_postgres(url: str, force: bool) -> None:
    from psycopg import sql

    conn, name = _admin_connection(url)
    if "bench" not in name and not force:
        conn.close()
        raise SystemExit(f"refusing to drop database {name!r}: use a name containing 'bench' or --force")
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="scratch PostgreSQL database (name must contain 'bench')")
    parser.add_argument("--force", action="store_true", help="allow a scratch database name without 'bench'")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes (default: cores)")
    parser.add_argument("--queries", type=int, default=2000, help="queries per worker and mode")
    parser.add_argument("--subjects", type=int, default=10000, help="records in the provider table")
    parser.add_argument("--sizes", default="1000,10000,100000", help="log sizes for the proof-size table")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and TONGBAN_HOME")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="tongban-bench-exchange-")
    env = {"TONGBAN_HOME": home, "DJANGO_SETTINGS_MODULE": "tongban.settings", "TONGBAN_LOG_LEVEL": "ERROR"}
    if args.database_url:
        _scratch_postgres(args.database_url, args.force)
        env["DATABASE_URL"] = args.database_url
        env["TONGBAN_CONN_MAX_AGE"] = "600"
        backend = "PostgreSQL"
    else:
        env.pop("DATABASE_URL", None)
        os.environ.pop("DATABASE_URL", None)
        backend = f"SQLite ({home}/tongban.sqlite3)"
    ctx = mp.get_context("spawn")
    print(f"# tongban exchange benchmark: {backend}, {args.workers} worker processes, "
          f"{args.queries} queries per worker and mode, {args.subjects} subjects, {os.cpu_count()} CPUs")
    prep = ctx.Process(target=_prepare, args=(env, args.subjects))
    prep.start()
    prep.join()
    if prep.exitcode:
        raise SystemExit("preparing the scratch database failed")

    plain = throughput(ctx, env, "plain", args.workers, args.queries, args.subjects)
    orm = throughput(ctx, env, "orm", args.workers, args.queries, args.subjects)
    fetched = throughput(ctx, env, "evidence", args.workers, args.queries, args.subjects)
    print(f"plain provider-table query (SQL):     {plain:10.0f} queries/s")
    print(f"same query through the Django ORM:    {orm:10.0f} queries/s")
    print(f"granted evidence query + log append:  {fetched:10.0f} queries/s  "
          f"(grant+consent check, provider read, schema check, masking, durable log append)")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    q = ctx.Queue()
    proc = ctx.Process(target=_proof_sizes_to_queue, args=(env, sizes, q))
    proc.start()
    rows = q.get()
    proc.join()
    print()
    print(f"{'log size':>10} {'proof hashes':>13} {'proof bytes':>12} {'ceil(log2 n)':>13} {'proof ms':>9} "
          f"{'sync+sign s':>12}")
    for n, hashes, ms, sync_s in rows:
        print(f"{n:>10} {hashes:>13} {hashes * 32:>12} {(n - 1).bit_length():>13} {ms:>9.2f} {sync_s:>12.2f}")
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
        if args.database_url:
            _drop_postgres(args.database_url)
    print()
    print(f"ratio_vs_plain_query={fetched / plain:.2f}")


def _proof_sizes_to_queue(env, sizes, q) -> None:
    q.put(proof_sizes(env, sizes))


if __name__ == "__main__":
    main()
