"""Benchmark table import: the demo table, and bad tables refused with row and field named, nothing changed."""

from __future__ import annotations

import pytest

from tongban.enforcement import demo, importing
from tongban.enforcement.errors import BenchmarkImportError
from tongban.enforcement.models import BenchmarkLevel, EnforcementItem, Factor

GOOD = """
items:
  - code: T-1
    name: 测试违法行为
    department: yx-scjg
    law: 中华人民共和国测试法
    article: 第一条
    measure: amount
    measure_label: 金额
    levels:
      - {level: minor, facts: 少, measure_from: 0, measure_to: 100, penalties: [fine], fine_min: "1000", fine_max: "2000"}
      - {level: severe, facts: 多, measure_from: 100, penalties: [fine], fine_min: "2000", fine_max: "5000"}
"""


def _snapshot():
    return (sorted(EnforcementItem.objects.values_list("code", "name")),
            sorted(BenchmarkLevel.objects.values_list("item__code", "level", "fine_min", "fine_max")),
            sorted(Factor.objects.values_list("code", "kind")))


def test_the_demo_table_has_six_real_items_with_articles(demo_core):
    result = importing.import_file(demo.BENCHMARKS)
    assert result.items >= 5 and result.factors >= 5
    laws = set(EnforcementItem.objects.values_list("law", flat=True))
    assert {"中华人民共和国食品安全法", "中华人民共和国消防法", "中华人民共和国城乡规划法"} <= laws
    assert all(i.levels.count() >= 3 for i in EnforcementItem.objects.all())
    assert Factor.objects.get(kind="exempt_first").legal_basis.endswith("第三十三条第一款")
    again = importing.import_file(demo.BENCHMARKS)  # idempotent
    assert again.levels == result.levels and BenchmarkLevel.objects.count() == result.levels


def _bad(text, fmt="yaml"):
    before = _snapshot()
    with pytest.raises(BenchmarkImportError) as exc:
        importing.import_table(text, fmt)
    assert _snapshot() == before
    return exc.value


@pytest.mark.parametrize(("change", "row", "field", "words"), [
    (("measure_to: 100", "measure_to: 150"), "items[0]（T-1）.levels[1]", "measure_from", "区间重叠"),
    (('fine_min: "2000", fine_max: "5000"', 'fine_min: "5000", fine_max: "2000"'), "items[0]（T-1）.levels[1]",
     "fine_max", "区间颠倒"),
    (("measure_to: 100", "measure_to: 0"), "items[0]（T-1）.levels[0]", "measure_to", "区间颠倒"),
    (("measure_from: 100,", "measure_from: 200,"), "items[0]（T-1）.levels[1]", "measure_from", "不符合任何等级"),
    (("level: minor", "level: tiny"), "items[0]（T-1）.levels[0]", "level", "未知"),
    (("department: yx-scjg", "department: nowhere"), "items[0]（T-1）", "department", "不存在"),
    (("penalties: [fine], fine_min: \"1000\"", "penalties: [jail], fine_min: \"1000\""), "items[0]（T-1）.levels[0]",
     "penalties", "未知"),
])
def test_bad_tables_name_row_and_field_and_change_nothing(demo_core, change, row, field, words):
    importing.import_table(GOOD)
    error = _bad(GOOD.replace(*change))
    problem = next(p for p in error.problems if p["row"] == row and p["field"] == field)
    assert words in problem["message"]
    assert error.code == "enforcement.invalid_benchmark"
    assert row in error.message or len(error.problems) > 1


def test_unknown_item_in_csv(demo_core):
    csv = ("item,name,department,law,article,measure,measure_label,level,facts,measure_from,measure_to,penalties,"
           "fine_min,fine_max\n"
           "C-1,测试,yx-cg,测试法,第二条,amount,金额,minor,少,0,100,fine,100,200\n"
           "C-1,,,,,,,severe,多,100,,fine,200,300\n"
           "NOPE,,,,,,,minor,少,0,,fine,100,200\n")
    error = _bad(csv, "csv")
    assert error.problems == [{"row": "第4行", "field": "item", "message": error.problems[0]["message"]}]
    assert "NOPE" in error.problems[0]["message"]
    importing.import_table(csv.rsplit("NOPE", 1)[0], "csv")
    assert EnforcementItem.objects.get(code="C-1").levels.count() == 2


def test_benchmark_outside_the_statute_is_refused(demo_core):
    error = _bad(GOOD.replace('fine_min: "1000", fine_max: "2000"',
                              'fine_min: "1000", fine_max: "2000", law_min: "1500", law_max: "3000"'))
    assert error.problems[0]["field"] == "fine_min" and "低于法定下限" in error.problems[0]["message"]


def test_bad_yaml_names_the_line(demo_core):
    error = _bad("items:\n  - code: [unclosed\n")
    assert error.problems[0]["row"].startswith("第")


def test_cli_import_names_file_row_and_field(demo_core, tmp_path):
    import typer
    from typer.testing import CliRunner

    from tongban.enforcement.cli import register

    app = typer.Typer()
    register(app)
    bad = tmp_path / "bench.yaml"
    bad.write_text(GOOD.replace('fine_min: "2000", fine_max: "5000"', 'fine_min: "5000", fine_max: "2000"'),
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["enforcement", "import-benchmarks", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: items[0]（T-1）.levels[1]: fine_max: 区间颠倒" in result.output
    assert not EnforcementItem.objects.filter(code="T-1").exists()
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, ["enforcement", "import-benchmarks", str(good)])
    assert result.exit_code == 0 and "1 items, 2 levels" in result.output


def test_every_demo_range_lies_inside_the_statute_for_any_facts(demo_core):
    """Property: for every demo item and any measure value, the level's range is ordered and inside the statute."""
    from decimal import Decimal

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tongban.enforcement.discretion import assess, item_spec

    importing.import_file(demo.BENCHMARKS)
    specs = [item_spec(i) for i in EnforcementItem.objects.all()]

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(specs), st.decimals(min_value=0, max_value=10**8, places=2), st.booleans())
    def check(spec, value, flag):
        facts = {spec.measure: str(value), "crowded_place": flag, "refused_to_correct": flag}
        result = assess(spec, facts)
        if result.fine_min is None:
            assert result.fine_max is None
            return
        assert result.fine_min <= result.fine_max
        if result.statutory_min is not None:
            assert result.statutory_min <= result.fine_min
        if result.statutory_max is not None:
            assert result.fine_max <= result.statutory_max
        assert result.measure_value == Decimal(str(value))

    check()
