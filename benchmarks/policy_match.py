#!/usr/bin/env python
"""Benchmark of 免申即享 policy matching over a large population (docs/smart-services.md, docs/benchmarks.md).

A synthetic register of ``--entities`` market entities (kind, credit grade, days since establishment, industry,
status, division, employees, insured staff) is generated inside DuckDB, and ``--policies`` random policies
(1–4 conditions each, the operators of ``tongban.policies.rules``) are evaluated over all of it: every policy's
rule is compiled to SQL by ``rules.to_sql`` and counted (one ``count(*) … WHERE`` per policy). The baseline is the platform's own row-by-row evaluation
(``rules.compile_rule``, the one ``services.match`` uses) over a ``--sample`` of entities, timed and scaled up to
the population; both give the same counts on the sample (checked). The ratio is baseline ÷ DuckDB.

    .venv/bin/python benchmarks/policy_match.py --entities 10000000 --policies 200
    .venv/bin/python benchmarks/policy_match.py --entities 200000 --policies 50      # quick
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ["legal_person", "individual_business"]
GRADES = ["A", "B", "C", "D"]
INDUSTRIES = list("ABCDEFGHIJKLMNOPQRST")
STATUSES = ["active", "cancelled"]
DIVISIONS = [f"9101{d:02d}" for d in range(1, 21)]

# column → (kind of value, choices or range)
COLUMNS = {
    "entity.kind": ("cat", KINDS),
    "entity.credit_grade": ("cat", GRADES),
    "entity.industry": ("cat", INDUSTRIES),
    "entity.status": ("cat", STATUSES),
    "entity.division": ("cat", DIVISIONS),
    "entity.established_days": ("num", (0, 15000)),
    "entity.employees": ("num", (0, 500)),
    "entity.insured_staff": ("num", (0, 500)),
}


ENUMS = {"kind_t": KINDS, "grade_t": GRADES, "industry_t": INDUSTRIES, "status_t": STATUSES, "division_t": DIVISIONS}


def _enum_values(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def generate(con, n: int, name: str = "population") -> None:
    """The synthetic register, deterministic (hashes of the row number), skewed like a real one. Categorical
    attributes are ENUM columns and numbers SMALLINT: a columnar export of the register would store them so."""
    for type_name, values in ENUMS.items():
        if not con.execute("SELECT 1 FROM duckdb_types() WHERE type_name = ?", [type_name]).fetchone():
            con.execute(f"CREATE TYPE {type_name} AS ENUM ({_enum_values(values)})")

    def pick(values: list[str], salt: int) -> str:
        return f"list_extract([{_enum_values(values)}], (hash(i * {salt}) % {len(values)})::INTEGER + 1)"

    con.execute(f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT i AS id,
               (CASE WHEN hash(i * 7) % 100 < 35 THEN 'legal_person' ELSE 'individual_business' END)::kind_t
                 AS entity__kind,
               (CASE WHEN hash(i * 11) % 100 < 55 THEN 'A' WHEN hash(i * 11) % 100 < 85 THEN 'B'
                     WHEN hash(i * 11) % 100 < 95 THEN 'C' ELSE 'D' END)::grade_t AS entity__credit_grade,
               {pick(INDUSTRIES, 13)}::industry_t AS entity__industry,
               (CASE WHEN hash(i * 17) % 100 < 92 THEN 'active' ELSE 'cancelled' END)::status_t AS entity__status,
               {pick(DIVISIONS, 19)}::division_t AS entity__division,
               (hash(i * 23) % 15000)::SMALLINT AS entity__established_days,
               ((hash(i * 29) % 100) * (hash(i * 31) % 100) / 20)::SMALLINT AS entity__employees,
               (hash(i * 37) % 500)::SMALLINT AS entity__insured_staff
        FROM range({n}) t(i)
    """)


def random_policies(count: int, seed: int = 20261205) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        conds = []
        for attr in rng.sample(list(COLUMNS), rng.randint(1, 4)):
            kind, spec = COLUMNS[attr]
            if kind == "cat":
                op = rng.choice(["==", "in", "not_in", "!="])
                if op in ("in", "not_in"):
                    value = rng.sample(spec, rng.randint(1, max(1, len(spec) // 2)))
                else:
                    value = rng.choice(spec)
            else:
                low, high = spec
                op = rng.choice(["<=", ">=", "between", "<", ">"])
                if op == "between":
                    a, b = sorted(rng.randint(low, high) for _ in range(2))
                    value = [a, b]
                else:
                    value = rng.randint(low, high)
            conds.append({"attr": attr, "op": op, "value": value})
        out.append({"code": f"P{n:03d}", "rule": conds})
    return out


def duckdb_counts(con, policies: list[dict], table: str) -> tuple[list[int], float]:
    """One ``count(*) … WHERE <rule>`` per policy (measured faster than one scan with a FILTER per policy: the
    WHERE clause is pushed into the scan and evaluated on the compressed ENUM codes)."""
    from tongban.policies import rules

    started = time.perf_counter()
    counts = [con.execute(f"SELECT count(*) FROM {table} WHERE {rules.to_sql(p['rule'])}").fetchone()[0]
              for p in policies]
    return counts, time.perf_counter() - started


def python_counts(rows: list[dict], policies: list[dict]) -> tuple[list[int], float]:
    from tongban.policies import rules

    started = time.perf_counter()
    tests = [rules.compile_rule(p["rule"]) for p in policies]
    counts = [0] * len(policies)
    for attrs in rows:
        for n, test in enumerate(tests):
            if test(attrs):
                counts[n] += 1
    return counts, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--sample", type=int, default=100_000, help="entities evaluated row by row (baseline)")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: DuckDB's default)")
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit, e.g. 4GB")
    args = parser.parse_args()

    import duckdb

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    policies = random_policies(args.policies)

    started = time.perf_counter()
    generate(con, args.entities)
    generated = time.perf_counter() - started
    counts, db_seconds = duckdb_counts(con, policies, "population")

    sample = min(args.sample, args.entities)
    generate(con, sample, "sample")
    names = [c.replace(".", "__") for c in COLUMNS]
    fetched = con.execute(f"SELECT {', '.join(names)} FROM sample").fetchall()
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in fetched]
    py_counts, py_seconds = python_counts(rows, policies)
    db_sample, _ = duckdb_counts(con, policies, "sample")
    if py_counts != db_sample:
        bad = next(n for n, (a, b) in enumerate(zip(py_counts, db_sample, strict=True)) if a != b)
        raise SystemExit(f"row-by-row and SQL disagree on policy {policies[bad]}: {py_counts[bad]} != {db_sample[bad]}")
    scaled = py_seconds * args.entities / sample

    matched = sum(counts)
    print(f"population: {args.entities:,} entities generated in {generated:.1f} s (DuckDB {duckdb.__version__}, "
          f"{threads} threads)")
    print(f"policies: {len(policies)} (1-4 conditions each); matches: {matched:,} "
          f"(mean {matched / len(policies):,.0f} per policy)")
    print(f"duckdb_seconds={db_seconds:.2f} (all policies over all entities)")
    print(f"python_row_by_row_seconds={py_seconds:.2f} on {sample:,} -> scaled to {args.entities:,}: {scaled:.1f}")
    print(f"sample counts agree: yes ({sample:,} entities x {len(policies)} policies)")
    print(f"ratio_python_over_duckdb={scaled / db_seconds:.1f}")
    print(f"target_under_60s={'yes' if db_seconds < 60 else 'NO'}")


if __name__ == "__main__":
    main()
