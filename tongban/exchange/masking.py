"""Masking (脱敏) of personal fields: 张三 → 张*, 330102199001011234 → 3301**********1234."""

from __future__ import annotations

import re
from typing import Any

_ID_LIKE = re.compile(r"[0-9A-Z]{15,18}")
_PHONE = re.compile(r"1\d{10}")
_DATE = re.compile(r"(\d{4})-\d{2}-\d{2}")


def mask_value(value: Any) -> Any:
    """Mask one value, keeping just enough to recognise it (surname, first/last digits, year)."""
    if value is None or value == "":
        return value
    if isinstance(value, bool):
        return "*"
    if isinstance(value, int | float):
        return "***"
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    text = str(value)
    if _ID_LIKE.fullmatch(text) and sum(c.isdigit() for c in text) >= 10:
        return text[:4] + "*" * (len(text) - 8) + text[-4:]
    if _PHONE.fullmatch(text):
        return text[:3] + "****" + text[-4:]
    date = _DATE.fullmatch(text)
    if date:
        return f"{date.group(1)}-**-**"
    if len(text) == 1:
        return "*"
    if len(text) <= 4:
        return text[0] + "*" * (len(text) - 1)
    if len(text) <= 10:
        return text[0] + "*" * (len(text) - 2) + text[-1]
    return text[:6] + "*" * min(len(text) - 6, 8)
