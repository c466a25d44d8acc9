"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check character.

Characters come from ``0-9`` and ``ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V). Position 1 is the registration
authority, 2 the organisation category, 3–8 the division code, 9–17 the organisation code, 18 the check character:
``C18 = 31 - (Σ value(Ci) × Wi mod 31)`` (31 → 0) with the weights ``W = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25,
13, 8, 24, 10, 30, 28`` (3^(i-1) mod 31).
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
_VALUE = {c: i for i, c in enumerate(CHARSET)}


def check_character(first17: str) -> str:
    """The check character of the first 17 characters (which must all be in ``CHARSET``)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is no valid USCC (a Chinese sentence), or None when it is valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位（实为 {len(code)} 位）"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(bad)}"
    if not code[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划代码（数字）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误（应为 {expected}）"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def make(prefix: str, serial: str) -> str:
    """A valid code from a prefix (registration authority, category, division: 8 chars) and a 9-char serial."""
    first17 = normalise(prefix + serial)
    return first17 + check_character(first17)
