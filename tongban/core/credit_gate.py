"""凭信用审批: the plug-in point through which a context that grades credit (supervision) can refuse a route.

Applications may not import supervision (same layer); it asks :func:`commitment_refusal` instead, and supervision
registers its check in ``COMMITMENT_GATES`` when it is installed. A gate takes the applicant's identity number
(统一社会信用代码 or ID number) and returns None (no objection) or the reason in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable

from .registry import Registry

CommitmentGate = Callable[[str], "str | None"]

COMMITMENT_GATES: Registry[str, CommitmentGate] = Registry("告知承诺信用门槛")


def commitment_refusal(subject_id_number: str) -> str | None:
    """The first gate's reason to refuse the commitment route to this subject, or None."""
    if not subject_id_number:
        return None
    for gate in COMMITMENT_GATES.values():
        reason = gate(subject_id_number)
        if reason:
            return reason
    return None
