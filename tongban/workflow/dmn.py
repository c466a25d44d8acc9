"""DMN decision tables (决策表) for rule-based approval (智能审批/秒批).

Parsing gives a JSON-able ``table`` dict (stored on ``DecisionDefinition``); ``evaluate`` runs it over the process
variables. Hit policies: UNIQUE, FIRST, ANY, RULE ORDER and COLLECT (optionally aggregated with SUM, COUNT, MIN
or MAX). Input entries use a FEEL subset (unary tests):

- ``-`` or empty: any value;
- a literal or expression (``"A"``, ``5``, ``true``, ``limit``): equal to it;
- a comparison: ``< 5``, ``<= x``, ``> 5``, ``>= 5``, ``= 5``, ``!= "A"``;
- a range: ``[1..10]``, ``(1..10)``, ``]1..10[``, ``[1..10)``;
- a list of the above: ``"A","B"``, ``< 0, > 100``;
- ``not(...)`` of any of the above.

Output entries are expressions (literals usually) in the same language as gateway conditions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from . import expressions
from .bpmn_xml import DefinitionError, Issue, local
from .bpmn_xml import parse_xml as _parse_xml

HIT_POLICIES = {"UNIQUE", "FIRST", "ANY", "RULE ORDER", "COLLECT"}
AGGREGATIONS = {"SUM", "COUNT", "MIN", "MAX"}

UnaryTest = Callable[[Any, Mapping[str, Any]], bool]

_RANGE = re.compile(r"^([\[\(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\)\[])$", re.S)


class DecisionError(ValueError):
    """A decision could not be evaluated (e.g. several rules matched under hit policy UNIQUE)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = ""
    cur: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
            cur.append(c)
        elif c in "([":
            depth += 1
            cur.append(c)
        elif c in ")]":
            depth -= 1
            cur.append(c)
        elif c == "," and depth <= 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def _cmp(op: str, a: Any, b: Any) -> bool:
    return expressions._compare(op, a, b)


def _single_test(text: str) -> UnaryTest:
    m = _RANGE.match(text)
    # "[1..10]" is a range; "[1, 2]" a list literal (equality); "]" opens an exclusive start
    if m and ".." in text:
        open_c, lo_text, hi_text, close_c = m.groups()
        lo = expressions.compile_expression(lo_text)
        hi = expressions.compile_expression(hi_text)
        lo_op = ">=" if open_c == "[" else ">"
        hi_op = "<=" if close_c == "]" else "<"
        return lambda x, v: _cmp(lo_op, x, lo(v)) and _cmp(hi_op, x, hi(v))
    for op in ("<=", ">=", "!=", "<", ">", "="):
        if text.startswith(op):
            rhs = expressions.compile_expression(text[len(op):].strip())
            real = "==" if op == "=" else op
            return lambda x, v: _cmp(real, x, rhs(v))
    value = expressions.compile_expression(text)

    def equals(x: Any, v: Mapping[str, Any]) -> bool:
        want = value(v)
        return x == want

    return equals


@lru_cache(maxsize=4096)
def compile_unary_tests(text: str) -> UnaryTest:
    """Compile one DMN input entry into ``test(input_value, variables) -> bool``."""
    text = (text or "").strip()
    if text in ("", "-"):
        return lambda x, v: True
    if text.startswith("not(") and text.endswith(")"):
        inner = compile_unary_tests(text[4:-1])
        return lambda x, v: not inner(x, v)
    parts = _split_top_level(text)
    if any(not p for p in parts):
        raise expressions.ExpressionError("empty test in list")
    tests = [_single_test(p) for p in parts]
    if len(tests) == 1:
        return tests[0]
    return lambda x, v: any(t(x, v) for t in tests)


def _text_of(el: Any) -> str:
    for child in el:
        if local(child.tag) == "text":
            return (child.text or "").strip()
    return (el.text or "").strip()


def _parse_decision(dec: Any, issues: list[Issue]) -> dict[str, Any] | None:
    did = dec.get("id") or ""
    if not did:
        issues.append(Issue(dec.sourceline or 0, "-", "decision has no id"))
        return None
    name = (dec.get("name") or did).strip()
    tables = [c for c in dec if local(c.tag) == "decisionTable"]
    literal = [c for c in dec if local(c.tag) == "literalExpression"]
    if literal and not tables:
        text = _text_of(literal[0])
        msg = expressions.check(text) if text else "empty literal expression"
        if msg:
            issues.append(Issue(literal[0].sourceline or 0, did, f"invalid literal expression {text!r}: {msg}"))
        variable = [c for c in dec if local(c.tag) == "variable"]
        out_name = variable[0].get("name") if variable else did
        return {"key": did, "name": name, "kind": "literal", "expression": text, "output": out_name}
    if not tables:
        issues.append(Issue(dec.sourceline or 0, did, "decision has no decisionTable (or literalExpression)"))
        return None
    table_el = tables[0]
    tid = table_el.get("id") or did
    hit_policy = (table_el.get("hitPolicy") or "UNIQUE").upper()
    aggregation = (table_el.get("aggregation") or "").upper() or None
    if hit_policy not in HIT_POLICIES:
        issues.append(Issue(table_el.sourceline or 0, tid, f"hit policy {hit_policy} is not supported "
                                                           f"(use {', '.join(sorted(HIT_POLICIES))})"))
    if aggregation and (hit_policy != "COLLECT" or aggregation not in AGGREGATIONS):
        issues.append(Issue(table_el.sourceline or 0, tid,
                            f"aggregation {aggregation} needs hit policy COLLECT and one of {', '.join(sorted(AGGREGATIONS))}"))
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for child in table_el:
        tag = local(child.tag)
        if tag == "input":
            expr_el = [c for c in child if local(c.tag) == "inputExpression"]
            text = _text_of(expr_el[0]) if expr_el else ""
            iid = child.get("id") or f"input{len(inputs) + 1}"
            if not text:
                issues.append(Issue(child.sourceline or 0, iid, "input has no inputExpression text"))
            else:
                msg = expressions.check(text)
                if msg:
                    issues.append(Issue(child.sourceline or 0, iid, f"invalid input expression {text!r}: {msg}"))
            inputs.append({"id": iid, "label": child.get("label") or text, "expression": text})
        elif tag == "output":
            oid = child.get("id") or f"output{len(outputs) + 1}"
            out_name = child.get("name") or child.get("label") or oid
            outputs.append({"id": oid, "label": child.get("label") or out_name, "name": out_name})
        elif tag == "rule":
            rules.append({"el": child})
    if not outputs:
        issues.append(Issue(table_el.sourceline or 0, tid, "decision table has no output"))
    if aggregation in ("SUM", "MIN", "MAX") and len(outputs) != 1:
        issues.append(Issue(table_el.sourceline or 0, tid, f"aggregation {aggregation} needs exactly one output"))
    parsed_rules = []
    for n, r in enumerate(rules, 1):
        rel = r["el"]
        rid = rel.get("id") or f"rule{n}"
        in_entries = [c for c in rel if local(c.tag) == "inputEntry"]
        out_entries = [c for c in rel if local(c.tag) == "outputEntry"]
        if len(in_entries) != len(inputs):
            issues.append(Issue(rel.sourceline or 0, rid, f"rule has {len(in_entries)} input entries for "
                                                          f"{len(inputs)} inputs"))
        if len(out_entries) != len(outputs):
            issues.append(Issue(rel.sourceline or 0, rid, f"rule has {len(out_entries)} output entries for "
                                                          f"{len(outputs)} outputs"))
        in_texts = []
        for e in in_entries:
            text = _text_of(e)
            try:
                compile_unary_tests(text)
            except expressions.ExpressionError as exc:
                issues.append(Issue(e.sourceline or 0, rid, f"invalid input entry {text!r}: {exc}"))
            in_texts.append(text)
        out_texts = []
        for e in out_entries:
            text = _text_of(e)
            if text:
                msg = expressions.check(text)
                if msg:
                    issues.append(Issue(e.sourceline or 0, rid, f"invalid output entry {text!r}: {msg}"))
            out_texts.append(text)
        described = [c for c in rel if local(c.tag) == "description"]
        parsed_rules.append({"id": rid, "line": rel.sourceline or 0, "inputs": in_texts, "outputs": out_texts,
                             "description": (described[0].text or "").strip() if described else ""})
    return {
        "key": did, "name": name, "kind": "table", "hit_policy": hit_policy, "aggregation": aggregation,
        "inputs": inputs, "outputs": outputs, "rules": parsed_rules,
    }


def parse_dmn(data: bytes | str, filename: str = "<string>") -> list[dict[str, Any]]:
    """Every decision of a DMN file (1.1–1.5) as a table dict; raise ``DefinitionError`` listing all problems."""
    root = _parse_xml(data, filename)
    if local(root.tag) != "definitions" or "DMN" not in (root.nsmap.get(root.prefix) or ""):
        raise DefinitionError([Issue(root.sourceline or 1, root.get("id") or "-",
                                     f"not a DMN file: root element is '{local(root.tag)}'")], filename)
    issues: list[Issue] = []
    decisions = []
    seen: set[str] = set()
    for dec in root:
        if local(dec.tag) != "decision":
            continue
        table = _parse_decision(dec, issues)
        if table is None:
            continue
        if table["key"] in seen:
            issues.append(Issue(dec.sourceline or 0, table["key"], "duplicate decision id"))
        seen.add(table["key"])
        decisions.append(table)
    if not decisions and not issues:
        issues.append(Issue(root.sourceline or 1, root.get("id") or "-", "no decision in file"))
    if issues:
        raise DefinitionError(issues, filename)
    return decisions


def _coerce(value: Any) -> Any:
    return value


def evaluate(table: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
    """Evaluate a parsed decision over ``variables``; the result shape depends on the hit policy (see module doc)."""
    try:
        if table.get("kind") == "literal":
            return expressions.evaluate(table["expression"], variables)
        input_values = [expressions.evaluate(i["expression"], variables) for i in table["inputs"]]
        outputs = table["outputs"]
        matches: list[dict[str, Any]] = []
        policy = table["hit_policy"]
        for rule in table["rules"]:
            if all(compile_unary_tests(t)(x, variables) for t, x in zip(rule["inputs"], input_values, strict=True)):
                values = {o["name"]: (expressions.evaluate(t, variables) if t else None)
                          for o, t in zip(outputs, rule["outputs"], strict=True)}
                matches.append({"rule": rule["id"], "values": values})
                if policy == "FIRST":
                    break
    except expressions.ExpressionError as exc:
        raise DecisionError("workflow.decision_failed", f"decision {table['key']}: {exc}") from exc

    def shape(values: dict[str, Any]) -> Any:
        return next(iter(values.values())) if len(values) == 1 else values

    if policy in ("UNIQUE", "FIRST", "ANY"):
        if not matches:
            return None
        if policy == "UNIQUE" and len(matches) > 1:
            rules = ", ".join(m["rule"] for m in matches)
            raise DecisionError("workflow.decision_not_unique",
                                f"decision {table['key']}: hit policy UNIQUE but rules {rules} all match")
        if policy == "ANY" and any(m["values"] != matches[0]["values"] for m in matches):
            raise DecisionError("workflow.decision_conflict",
                                f"decision {table['key']}: hit policy ANY but matching rules disagree")
        return shape(matches[0]["values"])
    collected = [shape(m["values"]) for m in matches]
    aggregation = table.get("aggregation")
    if policy == "COLLECT" and aggregation:
        if aggregation == "COUNT":
            return len(collected)
        nums = [c for c in collected if c is not None]
        if not nums:
            return None
        try:
            if aggregation == "SUM":
                return sum(nums)
            return min(nums) if aggregation == "MIN" else max(nums)
        except TypeError as exc:
            raise DecisionError("workflow.decision_failed",
                                f"decision {table['key']}: cannot aggregate {aggregation}: {exc}") from exc
    return collected


def matched_rules(table: Mapping[str, Any], variables: Mapping[str, Any]) -> list[str]:
    """Ids of the rules whose input entries all match (for explanations and the event log)."""
    if table.get("kind") == "literal":
        return []
    input_values = [expressions.evaluate(i["expression"], variables) for i in table["inputs"]]
    return [r["id"] for r in table["rules"]
            if all(compile_unary_tests(t)(x, variables) for t, x in zip(r["inputs"], input_values, strict=True))]
