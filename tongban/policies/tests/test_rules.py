"""Policy rules: row-by-row evaluation, SQL (DuckDB) and plain Chinese say the same thing."""

from __future__ import annotations

import random

import duckdb
import pytest

from tongban.policies import rules
from tongban.policies.errors import PolicyError

ROWS = [{"entity.kind": k, "entity.credit_grade": g, "entity.established_days": d}
        for k in ("legal_person", "individual_business", None) for g in ("A", "B", "D", None)
        for d in (0, 100, 365, 366, 5000, None)]
CONDITIONS = [
    {"attr": "entity.kind", "op": "==", "value": "legal_person"},
    {"attr": "entity.kind", "op": "!=", "value": "legal_person"},
    {"attr": "entity.credit_grade", "op": "in", "value": ["A", "B"]},
    {"attr": "entity.credit_grade", "op": "not_in", "value": ["D"]},
    {"attr": "entity.established_days", "op": "<=", "value": 365},
    {"attr": "entity.established_days", "op": ">", "value": 365},
    {"attr": "entity.established_days", "op": "between", "value": [100, 366]},
    {"attr": "entity.credit_grade", "op": "exists"},
]


def test_sql_and_row_by_row_agree_including_missing_values():
    con = duckdb.connect()
    con.execute("CREATE TABLE p (entity__kind VARCHAR, entity__credit_grade VARCHAR, entity__established_days INT)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?)", [list(r.values()) for r in ROWS])
    rng = random.Random(5)
    for _ in range(60):
        rule = rng.sample(CONDITIONS, rng.randint(1, 3))
        expected = sum(1 for r in ROWS if rules.holds(rule, r))
        assert con.execute(f"SELECT count(*) FROM p WHERE {rules.to_sql(rule)}").fetchone()[0] == expected, rule


def test_missing_values_never_qualify():
    assert not rules.holds([{"attr": "x", "op": "!=", "value": 1}], {"x": None})
    assert not rules.holds([{"attr": "x", "op": "not_in", "value": [1]}], {})
    assert rules.holds([{"attr": "x", "op": "not_in", "value": [1]}], {"x": 2})


def test_describe_in_plain_chinese():
    titles = {"entity.established_days": "成立天数", "entity.credit_grade": "信用等级"}
    assert rules.describe(CONDITIONS[4:5] + CONDITIONS[2:3] + CONDITIONS[6:7], titles) == [
        "成立天数 ≤ 365", "信用等级 属于 A、B", "成立天数 介于 100 至 366"]


def test_validation_names_the_bad_condition():
    with pytest.raises(PolicyError, match="第 2 个条件"):
        rules.validate([CONDITIONS[0], {"attr": "entity.kind", "op": "in", "value": "A"}])
    with pytest.raises(PolicyError, match="非空"):
        rules.validate([])
