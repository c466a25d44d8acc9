"""The documented criteria of 容错纠错 (docs/insight.md, "容错纠错"), the "three distinctions"
(三个区分开来) made checkable: a determination is valid only when the criteria found met support it.

- 免责 (exempt): every criterion is met;
- 从轻 (lenient): 改革创新 and 未谋私利 are met, and at least one of the others;
- 不予容错 (refused): any other case (always allowed: the reviewer may refuse even when criteria are met, with reasons).
"""

from __future__ import annotations

CRITERIA: dict[str, tuple[str, str]] = {
    "reform": ("改革创新", "失误发生在推进改革、先行先试或探索创新的工作中（如流程再造、容缺受理、告知承诺、并联审批）"),
    "lawful": ("依规决策", "决策和做法符合法律法规和上级政策精神，履行了规定程序（集体研究或请示报告）"),
    "no_gain": ("未谋私利", "未谋取个人或小团体私利，无利益输送"),
    "diligent": ("勤勉尽责", "已履行应尽职责，失误非故意或重大过失所致"),
    "remedied": ("主动纠错", "主动采取措施挽回损失、消除不良影响或有效阻止危害结果发生"),
}
REQUIRED_FOR_LENIENT = ("reform", "no_gain")


def label(code: str) -> str:
    return CRITERIA[code][0]


def allowed_determination(met: set[str]) -> set[str]:
    """The determinations the criteria found met support."""
    allowed = {"refused"}
    if set(CRITERIA) <= met:
        allowed |= {"exempt", "lenient"}
    elif set(REQUIRED_FOR_LENIENT) <= met and len(met - set(REQUIRED_FOR_LENIENT)) >= 1:
        allowed.add("lenient")
    return allowed
