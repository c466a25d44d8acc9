"""Masking of personal data for display and logs (脱敏): pages show staff masked values by default.

- :func:`mask_id`: ``110101199003071234`` → ``110***********1234`` (the first 3 and last 4 characters kept);
- :func:`mask_phone`: ``13800005678`` → ``138****5678``;
- :func:`mask_name`: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**`` (a compound surname keeps both characters);
- :func:`mask_address`: the address cut after its county-level part (区/县/市/旗), the rest starred;
- :func:`mask_field`: a value masked by what its field name says it is (form data on staff pages);
- :class:`PiiLogFilter`: a logging filter that masks ID numbers and mobile numbers in every log record.
"""

from __future__ import annotations

import logging
import re

_COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                      "夏侯", "轩辕", "令狐", "端木", "西门", "南宫", "独孤", "呼延"}


def mask_id(value: str | None) -> str:
    """An ID number (or credit code) with all but the first 3 and last 4 characters starred."""
    value = (value or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    """A phone number with the middle starred: 138****5678 (landlines keep the last 4 digits)."""
    value = (value or "").strip()
    if len(value) <= 4:
        return "*" * len(value)
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(value: str | None) -> str:
    """A person's name with only the surname shown: 张* / 欧阳**. Organisation names (long) are not masked."""
    value = (value or "").strip()
    if not value or len(value) > 8:
        return value
    surname = value[:2] if value[:2] in _COMPOUND_SURNAMES and len(value) > 2 else value[:1]
    return surname + "*" * (len(value) - len(surname))


_DISTRICT = re.compile(r"^(.*?(?:省|自治区|市))?(.*?(?:市|州|盟|地区))?(.*?(?:区|县|旗|市))")


def mask_address(value: str | None) -> str:
    """An address down to its district (区/县): ``某某市东城区花园街道科创大道88号`` → ``某某市东城区****``."""
    value = (value or "").strip()
    if not value:
        return ""
    match = _DISTRICT.match(value)
    kept = match.group(0) if match and len(match.group(0)) < len(value) else value[: min(3, len(value) - 1)]
    return kept + "****"


# 18-character resident ID numbers (17 digits and a digit or X) and mainland mobile numbers, not inside longer
# digit runs (order numbers, timestamps).
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Every ID number and mobile number in free text, masked."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def field_kind(name: str) -> str | None:
    """What personal datum a form or record field holds, judged by its name: ``"id"`` (…id_number, …id_card,
    credit_code), ``"phone"`` (…phone, …mobile, …tel), ``"address"`` (…address), else ``None``."""
    name = name.lower()
    if name.endswith(("id_number", "id_card", "idno", "credit_code")):
        return "id"
    if name.endswith(("phone", "mobile", "tel", "telephone")):
        return "phone"
    if name.endswith("address"):
        return "address"
    return None


_BY_KIND = {"id": mask_id, "phone": mask_phone, "address": mask_address}


def mask_field(name: str, value: object) -> str:
    """A field's value as staff pages show it: masked by the field's kind, free text with any ID or mobile number
    in it masked."""
    text = "" if value is None else str(value)
    kind = field_kind(name)
    return _BY_KIND[kind](text) if kind else mask_text(text)


class PiiLogFilter(logging.Filter):
    """Masks ID numbers and mobile numbers in log records (the message with its arguments, and the traceback
    text once formatted). Installed on the root handler by ``settings.LOGGING``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to the handler's own error report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True
