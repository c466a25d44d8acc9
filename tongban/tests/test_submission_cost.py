"""What one 出生一件事 submission costs the database: the 8 API calls of ``tests.journeys`` in few SQL
statements and few commits (the hot path of issue 14; a regression fails here)."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rich.console import Console

from tongban.core.demo import ID_NUMBERS
from tongban.demo import load_demo
from tongban.testing import Api
from tongban.tests.journeys import submit_birth

pytestmark = pytest.mark.django_db(transaction=True)

# The whole submission, 8 calls, every statement the database runs (issue 14 aims at 60). 121 measured, bound
# 121 + 4. Create 8 (the case written, answered from the rows written). Each of the three first evidence fetches
# 12-13 (user, case, material rows with their catalogue code, items, consent read + insert + audit, the exchange's
# grant or consent check, the provider read, the access-log entry, the rows and timeline written); the two already
# served 3. The upload 6. Submit 64: the case locked once with its commitment, items and materials read once,
# acceptance with notice and inbox message, three 秒批 decisions, the bundle process with five item processes of
# which three end at once by rules (each recording its decision), and the detail answered (8 reads).
# TONGBAN_SQL_REPORT=FILE writes the statements of each call.
MAX_STATEMENTS = 125
MAX_EVIDENCE_COMMITS = 4  # the 5 evidence fetches together
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@pytest.fixture
def demo(settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    load_demo(Console(quiet=True))


class Meter:
    """Counts statements and commits per API call of the journey."""

    def __init__(self, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
        self.api, self.calls, self.commits = api, [], 0
        real = connection._commit

        def counting_commit(*args: Any) -> Any:
            self.commits += 1
            return real(*args)

        monkeypatch.setattr(connection, "_commit", counting_commit)

    def __call__(self, method: str, path: str, body: Any = None, upload: Any = None) -> tuple[int, Any]:
        commits = self.commits
        traced: list[str] = []
        connection.ensure_connection()
        sqlite = connection.vendor == "sqlite"
        if sqlite:  # every statement SQLite runs, also those sent on the driver's cursor (engine, access log)
            connection.connection.set_trace_callback(traced.append)
        try:
            with CaptureQueriesContext(connection) as ctx:
                if upload is not None:
                    r = self.api.upload(path, upload[1], name=upload[0])
                else:
                    r = self.api.post(path, body)
        finally:
            if sqlite:
                connection.connection.set_trace_callback(None)
        statements = traced if sqlite else [q["sql"] for q in ctx.captured_queries]
        sql = [q for q in statements if not q.lstrip().upper().startswith(CONTROL) and not q.startswith("--")
               and not q.startswith("SELECT QUOTE(")]  # Django's rendering of a captured query, not a statement
        self.calls.append((path, len(sql), self.commits - commits, sql))
        return r.status_code, json.loads(r.content)

    def report(self) -> str:
        if os.environ.get("TONGBAN_SQL_REPORT"):  # the statements themselves, for whoever works on the path
            with open(os.environ["TONGBAN_SQL_REPORT"], "w") as out:
                for p, n, c, sql in self.calls:
                    out.write(f"{n} {c} {unquote(p)}\n" + "".join(f"    {q[:300]}\n" for q in sql))
        return "\n".join(f"{n:3d} statements {c} commits  {unquote(p)[-40:]}" for p, n, c, _ in self.calls)


def test_a_birth_submission_costs_few_statements_and_commits(demo, monkeypatch):
    api = Api("zhangsan")
    submit_birth(lambda m, p, b=None, upload=None: _plain(api, p, b, upload), ID_NUMBERS["zhangsan"])  # warm up
    meter = Meter(api, monkeypatch)
    detail = submit_birth(meter, ID_NUMBERS["zhangsan"])
    assert detail["status"] == "in_review"
    assert len(meter.calls) == 8
    statements = sum(n for _, n, _, _ in meter.calls)
    evidence_commits = sum(c for p, _, c, _ in meter.calls if p.endswith("/evidence"))
    report = meter.report()  # also writes TONGBAN_SQL_REPORT when set, pass or fail
    assert statements <= MAX_STATEMENTS, report
    assert evidence_commits <= MAX_EVIDENCE_COMMITS, report


def _plain(api: Api, path: str, body: Any, upload: Any) -> tuple[int, Any]:
    r = api.upload(path, upload[1], name=upload[0]) if upload is not None else api.post(path, body)
    return r.status_code, json.loads(r.content)
