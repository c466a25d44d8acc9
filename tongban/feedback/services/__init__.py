"""Writes of the feedback context: ratings and rectification (``ratings``), 12345 work orders (``orders``).

Other contexts and the context's own views, API and CLI call these names from ``tongban.feedback.services``.
"""

from __future__ import annotations

from .orders import (
    answer_order,
    classify,
    confirm_order,
    create_order,
    dispatch_order,
    flag_overdue,
    import_orders,
    knowledge_answers,
    merge_orders,
    parse_import_file,
    receive_order,
    return_order,
    train,
)
from .ratings import (
    appeal,
    decide_appeal,
    pad_token,
    rate,
    rate_by_pad,
    record_service,
    record_window_service,
    rectify,
    revisit,
    service_for_pad,
    verify,
)

__all__ = [
    "answer_order", "appeal", "classify", "confirm_order", "create_order", "decide_appeal", "dispatch_order", "flag_overdue",
    "import_orders", "knowledge_answers", "merge_orders", "pad_token", "parse_import_file", "rate", "rate_by_pad",
    "receive_order", "record_service", "record_window_service", "service_for_pad", "rectify", "return_order", "revisit", "train", "verify",
]
