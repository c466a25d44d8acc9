"""Process mining of the platform's own event log (docs/insight.md): export (XES, OCEL 2.0), discovery,
conformance against the deployed BPMN, and the next reengineering step."""

from __future__ import annotations

from typing import Any


def pm4py() -> Any:
    """pm4py, imported on first use (it takes a second and pulls pandas), without its progress bars."""
    import pm4py as _pm4py
    from pm4py.util import constants

    constants.SHOW_PROGRESS_BAR = False
    return _pm4py
