"""A small, safe expression language for gateway conditions, task attributes and DMN cells (表达式).

No ``eval``: expressions are tokenised and parsed by hand into closures over a variables dict. Supported:

- literals: numbers, strings ('a' or "a"), ``true``/``false``/``null`` (also ``True``/``False``/``None``),
  lists ``[1, 2]``;
- names and dotted names over dicts (``applicant.age``), indexing (``items[0]``, ``data['k']``);
  an unknown name is ``null``;
- arithmetic ``+ - * / %``, comparisons ``== != < <= > >=`` (an ordering comparison with ``null`` is false),
  ``in`` / ``not in``, boolean ``and or not`` (also ``&& || !``), parentheses;
- a few pure functions: ``len min max sum abs int float str lower upper``.

``${...}`` / ``#{...}`` wrappers (as written in BPMN modelers) are removed first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

Evaluator = Callable[[Mapping[str, Any]], Any]

MAX_LENGTH = 4000
MAX_DEPTH = 60


class ExpressionError(ValueError):
    """A syntax error (at compile time) or a type error (at evaluation time) in an expression."""


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|&&|\|\||\.\.|[<>+\-*/%()\[\],.!=])
  | (?P<name>[^\W\d]\w*)
    """,
    re.VERBOSE | re.UNICODE,
)

_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "True", "False", "None"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_wrapper(text: str) -> str:
    text = text.strip()
    if (text.startswith("${") or text.startswith("#{")) and text.endswith("}"):
        return text[2:-1].strip()
    return text


def is_wrapped(text: str) -> bool:
    text = text.strip()
    return (text.startswith("${") or text.startswith("#{")) and text.endswith("}")


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = m.lastgroup
        value = m.group()
        if kind == "number":
            tokens.append(("num", float(value) if any(c in value for c in ".eE") else int(value), pos))
        elif kind == "string":
            tokens.append(("str", _unescape(value[1:-1]), pos))
        elif kind == "op":
            tokens.append(("op", value, pos))
        elif kind == "name":
            tokens.append(("kw" if value in _KEYWORDS else "name", value, pos))
        pos = m.end()
    tokens.append(("end", None, len(text)))
    return tokens


def _lookup(variables: Mapping[str, Any], name: str) -> Any:
    return variables.get(name) if isinstance(variables, Mapping) else None


def _attr(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return None


def _index(obj: Any, key: Any) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    if isinstance(obj, (list, tuple, str)) and isinstance(key, int) and not isinstance(key, bool):
        return obj[key] if -len(obj) <= key < len(obj) else None
    return None


def _lower(x: Any) -> Any:
    return x.lower() if isinstance(x, str) else x


def _upper(x: Any) -> Any:
    return x.upper() if isinstance(x, str) else x


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "sum": sum, "abs": abs, "int": int, "float": float, "str": str,
    "lower": _lower, "upper": _upper,
}


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "in":
        return b is not None and a in b
    if op == "not in":
        return b is None or a not in b
    if a is None or b is None:
        return False
    try:
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    except TypeError as exc:
        raise ExpressionError(f"cannot compare {type(a).__name__} and {type(b).__name__} with {op}") from exc


def _arith(op: str, a: Any, b: Any) -> Any:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        return a % b
    except ZeroDivisionError as exc:
        raise ExpressionError("division by zero") from exc
    except TypeError as exc:
        raise ExpressionError(f"cannot apply {op} to {type(a).__name__} and {type(b).__name__}") from exc


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.names: set[str] = set()

    # helpers
    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i]

    def next(self) -> tuple[str, Any, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        k, v, _ = self.tokens[self.i]
        return k == kind and (value is None or v == value)

    def expect(self, kind: str, value: Any = None) -> tuple[str, Any, int]:
        if not self.at(kind, value):
            _, v, pos = self.peek()
            want = value if value is not None else kind
            got = "end of expression" if v is None else repr(v)
            raise ExpressionError(f"expected {want!r} but found {got} at position {pos + 1}")
        return self.next()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression nested too deeply")

    # grammar
    def parse(self) -> Evaluator:
        fn = self.or_expr()
        if not self.at("end"):
            _, v, pos = self.peek()
            raise ExpressionError(f"unexpected {v!r} at position {pos + 1}")
        return fn

    def or_expr(self) -> Evaluator:
        left = self.and_expr()
        while self.at("kw", "or") or self.at("op", "||"):
            self.next()
            right = self.and_expr()
            left = (lambda lf, rf: lambda v: bool(lf(v)) or bool(rf(v)))(left, right)
        return left

    def and_expr(self) -> Evaluator:
        left = self.not_expr()
        while self.at("kw", "and") or self.at("op", "&&"):
            self.next()
            right = self.not_expr()
            left = (lambda lf, rf: lambda v: bool(lf(v)) and bool(rf(v)))(left, right)
        return left

    def not_expr(self) -> Evaluator:
        if self.at("kw", "not") or self.at("op", "!"):
            self.next()
            self.enter()
            inner = self.not_expr()
            self.depth -= 1
            return lambda v: not inner(v)
        return self.comparison()

    def _compop(self) -> str | None:
        k, v, _ = self.peek()
        if k == "op" and v in ("==", "!=", "<", "<=", ">", ">=", "="):
            return v
        if k == "kw" and v == "in":
            return "in"
        if k == "kw" and v == "not" and self.tokens[self.i + 1][:2] == ("kw", "in"):
            return "not in"
        return None

    def comparison(self) -> Evaluator:
        left = self.additive()
        op = self._compop()
        if op is None:
            return left
        parts: list[tuple[str, Evaluator]] = []
        while op is not None:
            self.next()
            if op == "not in":
                self.next()
            if op == "=":  # FEEL-style equality
                op = "=="
            parts.append((op, self.additive()))
            op = self._compop()
        first = left

        def run(v: Mapping[str, Any]) -> bool:
            a = first(v)
            for o, f in parts:
                b = f(v)
                if not _compare(o, a, b):
                    return False
                a = b
            return True

        return run

    def additive(self) -> Evaluator:
        left = self.multiplicative()
        while self.at("op", "+") or self.at("op", "-"):
            op = self.next()[1]
            right = self.multiplicative()
            left = (lambda lf, rf, o: lambda v: _arith(o, lf(v), rf(v)))(left, right, op)
        return left

    def multiplicative(self) -> Evaluator:
        left = self.unary()
        while self.at("op", "*") or self.at("op", "/") or self.at("op", "%"):
            op = self.next()[1]
            right = self.unary()
            left = (lambda lf, rf, o: lambda v: _arith(o, lf(v), rf(v)))(left, right, op)
        return left

    def unary(self) -> Evaluator:
        if self.at("op", "-"):
            self.next()
            self.enter()
            inner = self.unary()
            self.depth -= 1

            def neg(v: Mapping[str, Any]) -> Any:
                x = inner(v)
                if not isinstance(x, (int, float)) or isinstance(x, bool):
                    raise ExpressionError(f"cannot negate {type(x).__name__}")
                return -x

            return neg
        return self.postfix()

    def postfix(self) -> Evaluator:
        fn = self.primary()
        while True:
            if self.at("op", "."):
                self.next()
                _, name, _ = self.expect("name")
                fn = (lambda f, n: lambda v: _attr(f(v), n))(fn, name)
            elif self.at("op", "["):
                self.next()
                self.enter()
                key = self.or_expr()
                self.depth -= 1
                self.expect("op", "]")
                fn = (lambda f, k: lambda v: _index(f(v), k(v)))(fn, key)
            else:
                return fn

    def primary(self) -> Evaluator:
        kind, value, pos = self.next()
        if kind in ("num", "str"):
            const = value
            return lambda v: const
        if kind == "kw":
            if value in ("true", "True"):
                return lambda v: True
            if value in ("false", "False"):
                return lambda v: False
            if value in ("null", "None"):
                return lambda v: None
            raise ExpressionError(f"unexpected {value!r} at position {pos + 1}")
        if kind == "name":
            if self.at("op", "("):
                return self.call(value, pos)
            self.names.add(value)
            name = value
            return lambda v: _lookup(v, name)
        if kind == "op" and value == "(":
            self.enter()
            inner = self.or_expr()
            self.depth -= 1
            self.expect("op", ")")
            return inner
        if kind == "op" and value == "[":
            items: list[Evaluator] = []
            self.enter()
            if not self.at("op", "]"):
                items.append(self.or_expr())
                while self.at("op", ","):
                    self.next()
                    items.append(self.or_expr())
            self.depth -= 1
            self.expect("op", "]")
            return lambda v: [f(v) for f in items]
        if kind == "end":
            raise ExpressionError("unexpected end of expression")
        raise ExpressionError(f"unexpected {value!r} at position {pos + 1}")

    def call(self, name: str, pos: int) -> Evaluator:
        func = FUNCTIONS.get(name)
        if func is None:
            raise ExpressionError(f"unknown function {name!r} at position {pos + 1}")
        self.expect("op", "(")
        args: list[Evaluator] = []
        self.enter()
        if not self.at("op", ")"):
            args.append(self.or_expr())
            while self.at("op", ","):
                self.next()
                args.append(self.or_expr())
        self.depth -= 1
        self.expect("op", ")")

        def run(v: Mapping[str, Any]) -> Any:
            try:
                return func(*(a(v) for a in args))
            except (TypeError, ValueError) as exc:
                raise ExpressionError(f"{name}(): {exc}") from exc

        return run


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Evaluator:
    """Compile an expression (``${...}`` optional) into a function of a variables mapping."""
    body = strip_wrapper(text)
    if not body:
        raise ExpressionError("empty expression")
    if len(body) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    return _Parser(body).parse()


def evaluate(text: str, variables: Mapping[str, Any]) -> Any:
    return compile_expression(text)(variables)


def check(text: str) -> str | None:
    """The syntax error message of ``text``, or None when it compiles."""
    try:
        compile_expression(text)
    except ExpressionError as exc:
        return str(exc)
    return None


def resolve(value: str, variables: Mapping[str, Any]) -> Any:
    """An attribute value: ``${expr}`` is evaluated, anything else is returned as written."""
    if is_wrapped(value):
        return evaluate(value, variables)
    return value
