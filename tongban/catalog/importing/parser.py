"""JSON with line numbers: every value (and every object key) of a catalogue file remembers its line.

``parse_json`` refuses, each at its own line and before anything is built: nesting deeper than
:data:`MAX_DEPTH` (a few kilobytes of ``[[[[…`` would otherwise exhaust Python's stack), syntax errors,
duplicate keys, ``NaN``/``Infinity`` (not JSON), integers longer than :data:`MAX_INT_DIGITS` digits and
numbers too large for a float.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterable
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from tongban.core.schema_messages import path_text

from .issues import CatalogFileError, Issue, fail, read_bytes

Path_ = tuple[str | int, ...]

MAX_DEPTH = 100  # nested objects/arrays; a catalogue needs about 15 (a form schema inside an item)
MAX_INT_DIGITS = 4300  # Python's default limit for converting digit strings to int

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_NOT_NUMBERS = ("NaN", "Infinity", "-Infinity")  # Python's json accepts them; JSON does not
_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')  # strings (skipped) and brackets


class Positions:
    """Line numbers of the values (and object keys) of a parsed JSON document, by path."""

    def __init__(self) -> None:
        self.values: dict[Path_, int] = {}
        self.keys: dict[Path_, int] = {}

    def line(self, path: Iterable[str | int]) -> int:
        """Line of the value at ``path``, else of its nearest enclosing value."""
        p = tuple(path)
        while p and p not in self.values:
            p = p[:-1]
        return self.values.get(p, 1)

    def key_line(self, path: Iterable[str | int]) -> int:
        p = tuple(path)
        return self.keys.get(p) or self.line(p)


def _too_deep(text: str) -> int | None:
    """Index of the first bracket nested deeper than ``MAX_DEPTH``, if any (a linear scan, no recursion)."""
    depth = 0
    for m in _BRACKETS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


class _LineParser:
    """A JSON reader that records where each value starts. Run it only on text whose syntax ``json`` accepted
    and whose nesting is at most ``MAX_DEPTH`` deep. Values JSON does not allow are collected in ``problems``."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.pos = Positions()
        self.problems: list[tuple[int, str]] = []  # (line, "path: message")

    def line(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def ws(self, i: int) -> int:
        return _WS.match(self.s, i).end()  # type: ignore[union-attr]

    def parse(self) -> Any:
        value, _ = self.value(self.ws(0), ())
        return value

    def problem(self, line: int, path: Path_, message: str) -> None:
        self.problems.append((line, f"{path_text(path)}: {message}"))

    def value(self, i: int, path: Path_) -> tuple[Any, int]:
        s = self.s
        line = self.pos.values[path] = self.line(i)
        c = s[i]
        if c == "{":
            obj: dict[str, Any] = {}
            i = self.ws(i + 1)
            if s[i] == "}":
                return obj, i + 1
            while True:
                key_line = self.line(i)
                key, i = scanstring(s, i + 1)
                kp = (*path, key)
                if key in obj:
                    self.problem(key_line, kp, f"字段重复（首次出现在第 {self.pos.keys[kp]} 行）")
                self.pos.keys[kp] = key_line
                i = self.ws(self.ws(i) + 1)  # the colon
                obj[key], i = self.value(i, kp)
                i = self.ws(i)
                if s[i] == ",":
                    i = self.ws(i + 1)
                    continue
                return obj, i + 1
        if c == "[":
            arr: list[Any] = []
            i = self.ws(i + 1)
            if s[i] == "]":
                return arr, i + 1
            while True:
                item, i = self.value(i, (*path, len(arr)))
                arr.append(item)
                i = self.ws(i)
                if s[i] == ",":
                    i = self.ws(i + 1)
                    continue
                return arr, i + 1
        if c == '"':
            return scanstring(s, i + 1)
        for word, lit in _LITERALS.items():
            if s.startswith(word, i):
                return lit, i + len(word)
        for word in _NOT_NUMBERS:
            if s.startswith(word, i):
                self.problem(line, path, f"JSON 不允许 {word}，数值须是有限的数字")
                return None, i + len(word)
        m = _NUMBER.match(s, i)
        assert m is not None, "parse only text that json accepted"
        return self.number(m, line, path), m.end()

    def number(self, m: re.Match[str], line: int, path: Path_) -> int | float | None:
        text = m.group(0)
        if m.group(1) or m.group(2):
            value = float(text)
            if math.isinf(value):
                self.problem(line, path, f"数值 {_short(text)} 超出范围（绝对值须小于 1.8e308）")
                return None
            return value
        digits = len(text.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            self.problem(line, path, f"整数位数过多（{digits} 位，最多 {MAX_INT_DIGITS} 位）")
            return None
        try:
            return int(text)
        except ValueError:  # the interpreter's own digit limit is lower than ours
            self.problem(line, path, f"整数位数过多（{digits} 位）")
            return None


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}…{text[-10:]}"


def _accept(text: str) -> None:
    """The syntax check builds no numbers: the line parser converts (and judges) them at their own line."""


def parse_json(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse JSON, keeping the line of every value. Raises ``CatalogFileError`` on bad syntax, nesting deeper
    than ``MAX_DEPTH``, duplicate keys, ``NaN``/``Infinity`` and numbers out of range (each at its line)."""
    deep = _too_deep(text)
    if deep is not None:
        raise fail(filename, text.count("\n", 0, deep) + 1, f"JSON 嵌套层数过深（超过 {MAX_DEPTH} 层）")
    try:
        json.loads(text, parse_int=_accept, parse_float=_accept, parse_constant=_accept)
    except json.JSONDecodeError as exc:
        raise fail(filename, exc.lineno, f"JSON 语法错误：{exc.msg}（第 {exc.colno} 列）") from exc
    parser = _LineParser(text)
    data = parser.parse()
    if parser.problems:
        raise CatalogFileError(Issue(filename, line, message) for line, message in parser.problems)
    return data, parser.pos


def read_text(path: Path, display: str) -> str:
    """The file's text (UTF-8, with or without BOM)."""
    raw = read_bytes(path, display)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(display, raw[: exc.start].count(b"\n") + 1, "文件不是 UTF-8 编码") from exc
