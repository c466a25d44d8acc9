"""Indicator formulas: ``+ - * /``, parentheses, numbers and measure names, evaluated safely (no ``eval``).

A division by zero, or any null measure in the formula, gives ``None`` (the figure cannot be computed).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping

from ..errors import BadDefinitions

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def parse(formula: str, *, where: str = "formula") -> ast.expr:
    """The formula's syntax tree; refuses anything but the allowed operators, numbers and names."""
    try:
        tree = ast.parse(formula, mode="eval").body
    except SyntaxError as exc:
        raise BadDefinitions(f"{where}: 公式无法解析：{formula}", detail={"where": where}) from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPS:
                raise BadDefinitions(f"{where}: 公式只能用 + - * /：{formula}", detail={"where": where})
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                raise BadDefinitions(f"{where}: 不支持的运算：{formula}", detail={"where": where})
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                raise BadDefinitions(f"{where}: 公式中只能有数字：{formula}", detail={"where": where})
        elif not isinstance(node, (ast.Name, ast.Load, ast.operator, ast.unaryop)):
            raise BadDefinitions(f"{where}: 公式中不允许 {type(node).__name__}：{formula}", detail={"where": where})
    return tree


def names(formula: str, *, where: str = "formula") -> list[str]:
    """The measure names a formula uses, in order of first appearance."""
    seen: list[str] = []
    for node in ast.walk(parse(formula, where=where)):
        if isinstance(node, ast.Name) and node.id not in seen:
            seen.append(node.id)
    return seen


def evaluate(formula: str, values: Mapping[str, float | int | None]) -> float | None:
    """The formula's value over ``values`` (measure → number); ``None`` on a null operand or a zero divisor."""
    def ev(node: ast.expr) -> float | None:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            v = values.get(node.id)
            return None if v is None else float(v)
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return None if v is None else -v
        assert isinstance(node, ast.BinOp)
        left, right = ev(node.left), ev(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Div) and right == 0:
            return None
        return _OPS[type(node.op)](left, right)

    return ev(parse(formula))
