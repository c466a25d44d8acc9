"""The pure parts: USCC check characters, the credit rule and the draw algorithm."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tongban.supervision import credit, drawing, uscc


def test_uscc_check_character_of_known_codes():
    assert uscc.is_valid("91350100M000100Y43")
    assert uscc.problem("91350100M000100Y44") == "统一社会信用代码校验位错误（应为 3）"
    assert "18 位" in uscc.problem("9135")
    assert "不允许的字符" in uscc.problem("91350100M000100YI3")
    assert uscc.is_valid(uscc.make("92910102", "MA0000001"))


def test_credit_grade_from_events_with_decay_and_good_record():
    today = date(2026, 6, 1)
    assert credit.grade([], today).grade == "B"  # a new entity starts at 85
    old = credit.grade([], today, established_on=today - timedelta(days=3 * 365 + 1))
    assert old.grade == "A" and old.score == 100  # three good years: +15
    breach = credit.Event("commitment_breach", -30, today - timedelta(days=10), "承诺不实")
    g = credit.grade([breach], today)
    assert g.grade == "D" and any("告知承诺不实" in r for r in g.reasons)
    aged = credit.grade([credit.Event("commitment_breach", -30, today - timedelta(days=730))], today)
    assert (aged.grade, aged.score) == ("B", 87.5)  # two half-lives: -7.5, and +10 for two good years
    half = credit.grade([credit.Event("commitment_breach", -30, today - timedelta(days=182))], today)
    assert half.grade == "C"  # 85 - 30 × 0.5^(182/365) = 63.8
    serious = credit.grade([credit.Event("serious_penalty", -45, today - timedelta(days=800))], today,
                           established_on=date(2000, 1, 1))
    assert serious.grade == "D" and "直接评为 D 级" in serious.reasons[-1]


INPUTS = {
    "ratios": {"A": 0.0, "B": 0.5, "C": 1.0},
    "inspectors_per_entity": 2,
    "entities": [[uscc.make("91910102", f"MA{i:07d}"), "B" if i % 3 else "C", "910102001000" if i % 2 else "910103001000"]
                 for i in range(20)],
    "inspectors": [["I1", "910102001000", []], ["I2", "910103001000", []], ["I3", "910102101000", []],
                   ["I4", "910100000000", []]],
    "last_inspected": {},
}


def test_draw_is_deterministic_and_respects_ratios_and_avoidance():
    a = drawing.run("seed-1", INPUTS)
    assert a == drawing.run("seed-1", INPUTS)
    assert a != drawing.run("seed-2", INPUTS)
    grades = [r["grade"] for r in a]
    assert grades.count("C") == 7 and grades.count("B") == 7  # all 7 C, half of 13 B rounded up
    divisions = {r[0]: r[2] for r in INPUTS["entities"]}
    homes = {c: d for c, d, _ in INPUTS["inspectors"]}
    for row in a:
        assert len(row["inspectors"]) == 2
        assert all(homes[c] != divisions[row["uscc"]] for c in row["inspectors"])


def test_draw_refused_when_fewer_than_two_inspectors_after_avoidance():
    first = INPUTS["entities"][1][0]
    inputs = {**INPUTS, "ratios": {"B": 1.0, "C": 1.0}, "last_inspected": {first: ["I2", "I3"]}}
    with pytest.raises(drawing.DrawError) as err:
        drawing.run("s", inputs)
    assert err.value.field == "inspectors" and first in str(err.value)


def test_first_difference_names_the_entry():
    a = drawing.run("s", INPUTS)
    b = [dict(r) for r in a]
    b[1] = {**b[1], "inspectors": ["X", "Y"]}
    assert drawing.first_difference(a, b).startswith("entry 1:")
    assert drawing.first_difference(a, a) is None
