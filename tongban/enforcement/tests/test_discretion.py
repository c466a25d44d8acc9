"""The discretion rules as pure functions (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tongban.enforcement.discretion import (
    FactorSpec,
    ItemSpec,
    LevelSpec,
    amount,
    assess,
    check_fine,
    parse_amount,
)
from tongban.enforcement.errors import EnforcementError

FOOD = ItemSpec(
    code="SP-122", name="未取得食品经营许可从事食品经营活动", law="中华人民共和国食品安全法", article="第一百二十二条第一款",
    basis_text="", measure="goods_value", measure_label="货值金额（元）",
    levels=[
        LevelSpec("minor", "不足2000元", Decimal(0), Decimal(2000), {}, ["fine"], "50000", "60000", "50000", "100000"),
        LevelSpec("general", "2000至1万", Decimal(2000), Decimal(10000), {}, ["fine"], "60000", "100000", "50000",
                  "100000"),
        LevelSpec("severe", "1万以上", Decimal(10000), None, {}, ["fine", "revoke_licence"], "10x", "20x", "10x", "20x"),
        LevelSpec("serious", "造成危害", Decimal(0), Decimal(10000), {"harm": True}, ["fine"], "80000", "100000",
                  "50000", "100000"),
    ],
    factors=[FactorSpec("first", "exempt_first", "first_offence", "首违", "第三十三条"),
             FactorSpec("eliminated", "lighter", "eliminated_harm", "主动消除", "第三十二条"),
             FactorSpec("coerced", "mitigated", "coerced", "受胁迫", "第三十二条"),
             FactorSpec("repeat", "heavier", "repeat_offence", "再犯", "基准")],
)


def test_amount_specs():
    assert parse_amount("50000") == (Decimal(50000), False)
    assert parse_amount("0.05x") == (Decimal("0.05"), True)
    assert amount("10x", Decimal(12345)) == Decimal("123450.00")
    with pytest.raises(ValueError):
        parse_amount("五万")


@pytest.mark.parametrize(("value", "level", "lo", "hi"), [
    (0, "minor", 50000, 60000), (1999.99, "minor", 50000, 60000), (2000, "general", 60000, 100000),
    (10000, "severe", 100000, 200000), (30000, "severe", 300000, 600000),
])
def test_level_and_range_follow_the_measure(value, level, lo, hi):
    result = assess(FOOD, {"goods_value": value})
    assert result.level.level == level
    assert (result.fine_min, result.fine_max) == (Decimal(lo), Decimal(hi))
    assert result.as_dict()["legal_basis"]["citation"] == "《中华人民共和国食品安全法》第一百二十二条第一款"


def test_the_most_severe_matching_level_wins():
    assert assess(FOOD, {"goods_value": 100, "harm": True}).level.level == "serious"
    assert assess(FOOD, {"goods_value": 20000, "harm": True}).level.level == "severe"


@pytest.mark.parametrize("facts", [{}, {"goods_value": -1}, {"goods_value": "abc"}, {"goods_value": True}, "x"])
def test_bad_facts_name_the_field(facts):
    with pytest.raises(EnforcementError) as exc:
        assess(FOOD, facts)
    assert exc.value.code == "enforcement.invalid_facts"
    assert exc.value.detail["field"] in ("facts", "facts.goods_value")


def test_facts_matching_no_level():
    gap = ItemSpec(**{**FOOD.__dict__, "levels": FOOD.levels[:2]})
    with pytest.raises(EnforcementError) as exc:
        assess(gap, {"goods_value": 50000})
    assert exc.value.code == "enforcement.no_matching_level"
    assert exc.value.detail["field"] == "facts.goods_value"


def test_lighter_and_heavier_halve_the_range():
    assert (assess(FOOD, {"goods_value": 100, "eliminated_harm": True}).fine_max) == Decimal(55000)
    assert (assess(FOOD, {"goods_value": 100, "repeat_offence": True}).fine_min) == Decimal(55000)


def test_fine_inside_the_range_passes_and_outside_is_refused():
    result = assess(FOOD, {"goods_value": 100})
    check_fine(result, Decimal(55000), ["fine"], justification="", review_approved=False)
    with pytest.raises(EnforcementError) as exc:
        check_fine(result, Decimal(70000), ["fine"], justification="", review_approved=False)
    assert exc.value.code == "enforcement.outside_benchmark"
    with pytest.raises(EnforcementError) as exc:
        check_fine(result, Decimal(150000), ["fine"], justification="x", review_approved=True)
    assert exc.value.code == "enforcement.outside_benchmark" and exc.value.detail["statutory"]
    with pytest.raises(EnforcementError):
        check_fine(result, Decimal(50000), ["fine", "revoke_licence"], justification="", review_approved=False)


def test_mitigation_needs_the_factor_a_justification_and_the_review():
    plain = assess(FOOD, {"goods_value": 100})
    coerced = assess(FOOD, {"goods_value": 100, "coerced": True})
    with pytest.raises(EnforcementError):
        check_fine(plain, Decimal(30000), ["fine"], justification="受胁迫", review_approved=True)
    with pytest.raises(EnforcementError):
        check_fine(coerced, Decimal(30000), ["fine"], justification="", review_approved=True)
    with pytest.raises(EnforcementError) as exc:
        check_fine(coerced, Decimal(30000), ["fine"], justification="受胁迫", review_approved=False)
    assert "法制审核" in exc.value.message
    check_fine(coerced, Decimal(30000), ["fine"], justification="受胁迫", review_approved=True)


def test_first_offence_exemption_only_for_minor_cases():
    minor = assess(FOOD, {"goods_value": 100, "first_offence": True})
    assert minor.exempt_possible
    check_fine(minor, None, ["none"], justification="", review_approved=False)
    general = assess(FOOD, {"goods_value": 5000, "first_offence": True})
    assert not general.exempt_possible
    with pytest.raises(EnforcementError):
        check_fine(general, None, ["none"], justification="", review_approved=False)
