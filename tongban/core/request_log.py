"""The server log's line for a refused request.

Django logs every 4xx answer on ``django.request``; a ``PermissionDenied`` (403) comes with the full traceback,
which buries the log under stack traces of requests that were simply not allowed. The filter below (configured
on that logger in ``settings.LOGGING``) turns every refused request into ONE line —
``GET /workflow/instances/3/ 403 Forbidden user=approver-ga`` — and leaves 5xx records, tracebacks included,
as they are.
"""

from __future__ import annotations

import logging
from http.client import responses
from typing import Any


def _escaped(text: str) -> str:
    """No line breaks or control characters from the client in the log (log injection)."""
    return text.encode("unicode_escape").decode("ascii")


def user_label(request: Any) -> str:
    """The signed-in username, ``anonymous``, or ``-`` when the request never got as far as authentication."""
    user = getattr(request, "user", None)
    if user is None:
        return "-"
    try:
        return user.get_username() if user.is_authenticated else "anonymous"
    except Exception:  # the session or the database is unavailable: the log line must still be written
        return "?"


class RefusedRequestLine(logging.Filter):
    """Rewrites a ``django.request`` record of a 4xx answer as one line: method, path, status, user."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        if not isinstance(status, int) or not 400 <= status < 500 or request is None:
            return True
        record.msg = "%s %s %s %s user=%s"
        record.args = (_escaped(str(getattr(request, "method", "-"))), _escaped(str(getattr(request, "path", "-"))),
                       status, responses.get(status, ""), _escaped(user_label(request)))
        record.exc_info = None
        record.exc_text = None
        return True
