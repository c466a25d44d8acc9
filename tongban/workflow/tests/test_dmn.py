from __future__ import annotations

import pytest

from tongban.workflow.bpmn import DefinitionError
from tongban.workflow.dmn import DecisionError, compile_unary_tests, evaluate, parse_dmn

from .helpers import dmn


def table(*args, **kwargs):
    [t] = parse_dmn(dmn(*args, **kwargs), "t.dmn")
    return t


CERT_RULES = [
    (['"natural"', "< 18"], ['"manual"', "1"]),
    (['"natural"', "[18..60]"], ['"auto"', "2"]),
    (['"natural", "legal"', "> 60"], ['"manual"', "3"]),
    (["-", "-"], ['"fallback"', "4"]),
]


@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [
        ("-", "anything", True),
        ("", None, True),
        ('"A"', "A", True),
        ('"A"', "B", False),
        ('"A","B"', "B", True),
        ('"A", "B"', "C", False),
        ("5", 5, True),
        ("< 5", 4, True),
        ("< 5", 5, False),
        ("<= 5", 5, True),
        ("> 5", 6, True),
        (">= 5", 4, False),
        ("= 5", 5, True),
        ("!= 5", 5, False),
        ("[1..10]", 10, True),
        ("[1..10)", 10, False),
        ("[1..10[", 10, False),
        ("]1..10]", 1, False),
        ("(1..10]", 2, True),
        ("< 0, > 100", 101, True),
        ("< 0, > 100", 50, False),
        ('not("A","B")', "C", True),
        ('not("A","B")', "A", False),
        ("not(< 5)", 7, True),
        ("true", True, True),
        ("false", True, False),
        ("limit", 3, True),  # an expression over variables
        ("< limit * 2", 5, True),
        ("< 5", None, False),
    ],
)
def test_unary_tests(test, value, expected):
    assert compile_unary_tests(test)(value, {"limit": 3}) is expected


def test_unique():
    t = table("d", "UNIQUE", ["kind", "age"], ["route", "n"], CERT_RULES[:3])
    assert evaluate(t, {"kind": "natural", "age": 30}) == {"route": "auto", "n": 2}
    assert evaluate(t, {"kind": "other", "age": 30}) is None


def test_unique_violation_is_an_error():
    t = table("d", "UNIQUE", ["kind", "age"], ["route", "n"], CERT_RULES)
    with pytest.raises(DecisionError) as info:
        evaluate(t, {"kind": "natural", "age": 30})
    assert info.value.code == "workflow.decision_not_unique"
    assert "r2, r4" in str(info.value)


def test_first():
    t = table("d", "FIRST", ["kind", "age"], ["route", "n"], CERT_RULES)
    assert evaluate(t, {"kind": "natural", "age": 10}) == {"route": "manual", "n": 1}
    assert evaluate(t, {"kind": "other", "age": 10}) == {"route": "fallback", "n": 4}


def test_collect_and_aggregations():
    rules = [(["> 10"], ["10"]), (["> 20"], ["20"]), (["> 30"], ["30"])]
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules), {"x": 25}) == [10, 20]
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="SUM"), {"x": 35}) == 60
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="COUNT"), {"x": 25}) == 2
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="MIN"), {"x": 35}) == 10
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="MAX"), {"x": 35}) == 30
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="SUM"), {"x": 1}) is None
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules, aggregation="COUNT"), {"x": 1}) == 0
    assert evaluate(table("d", "COLLECT", ["x"], ["points"], rules), {"x": 1}) == []


def test_any_and_rule_order():
    rules = [(["> 10"], ['"yes"']), (["> 20"], ['"yes"']), (["> 30"], ['"no"'])]
    assert evaluate(table("d", "ANY", ["x"], ["r"], rules), {"x": 25}) == "yes"
    with pytest.raises(DecisionError, match="disagree"):
        evaluate(table("d", "ANY", ["x"], ["r"], rules), {"x": 35})
    assert evaluate(table("d", "RULE ORDER", ["x"], ["r"], rules), {"x": 35}) == ["yes", "yes", "no"]


def test_outputs_may_use_inputs():
    t = table("d", "UNIQUE", ["amount"], ["fee"], [(["> 0"], ["amount * 0.1"])])
    assert evaluate(t, {"amount": 200}) == 20.0


def test_dotted_input_expressions():
    t = table("d", "FIRST", ["applicant.age"], ["adult"], [([">= 18"], ["true"]), (["-"], ["false"])])
    assert evaluate(t, {"applicant": {"age": 20}}) is True
    assert evaluate(t, {"applicant": {}}) is False


def test_parse_errors_have_lines():
    xml = dmn("d", "UNIQUE", ["x"], ["r"], [(["[1..]"], ['"a"']), (["> 1"], ['"b" +'])])
    with pytest.raises(DefinitionError) as info:
        parse_dmn(xml, "bad.dmn")
    lines = info.value.lines()
    assert len(lines) == 2
    assert lines[0].startswith("bad.dmn:") and ": element r1: invalid input entry '[1..]'" in lines[0]
    assert ": element r2: invalid output entry" in lines[1]
    assert all(int(line.split(":")[1]) > 1 for line in lines)


def test_unsupported_hit_policy_and_bad_aggregation():
    with pytest.raises(DefinitionError, match="hit policy PRIORITY is not supported"):
        parse_dmn(dmn("d", "PRIORITY", ["x"], ["r"], [(["1"], ["1"])]))
    with pytest.raises(DefinitionError, match="aggregation SUM needs hit policy COLLECT"):
        parse_dmn(dmn("d", "FIRST", ["x"], ["r"], [(["1"], ["1"])], aggregation="SUM"))


def test_rule_with_wrong_number_of_entries():
    xml = dmn("d", "UNIQUE", ["x", "y"], ["r"], [(["1"], ["1"])])
    with pytest.raises(DefinitionError, match="rule has 1 input entries for 2 inputs"):
        parse_dmn(xml)
