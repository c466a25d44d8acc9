"""The workflow's raw SQL (原生语句): every statement the engine and the services build by hand, on
``tongban.core.store`` (table and column names and value preparation from the models' metadata, so they cannot
drift from ``models.py``; both drivers). The ORM stays in use for everything else.

Statements are built once (``functools.cache``) on first use, when the database connection is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import models

from tongban.core import store

from .models import Event, ProcessInstance, Task, Timer, Token

# the engine's write columns
TOKEN_FIELDS = ("element_id", "state", "data", "ended_at")
EVENT_COLUMNS = ("instance_id", "element_id", "type", "actor_id", "actor_label", "at", "task_id", "data")
CANCEL_TASK_FIELDS = ("state", "completed_at", "suspended_since", "suspensions", "due_on")


# --- definitions -------------------------------------------------------------------------------------------------

@cache
def _latest_sql(model: type[models.Model]) -> str:
    return (f"SELECT {store.column(model, 'id')} FROM {store.table(model)} WHERE {store.column(model, 'key')} = %s "
            f"ORDER BY {store.column(model, 'version')} DESC LIMIT 1")


def latest_version_id(model: type[models.Model], key: str) -> int | None:
    """The id of the latest version of a deployed process or decision (``model``) with ``key``; None if none."""
    rows = store.fetch(_latest_sql(model), [key])
    return rows[0][0] if rows else None


# --- tokens ---------------------------------------------------------------------------------------------------

@cache
def _live_tokens_where() -> str:
    return f"{store.column(Token, 'instance')} = %s AND {store.column(Token, 'state')} <> %s"


def live_tokens(instance_id: int) -> list[Token]:
    """The tokens of an instance that are not done (one indexed query)."""
    return store.select(Token, _live_tokens_where(), [instance_id, Token.State.DONE])


# --- timers and events (written by an engine step's flush) ------------------------------------------------------

@cache
def _cancel_timers_sql(n: int) -> str:
    cancelled, fired = store.column(Timer, "cancelled_at"), store.column(Timer, "fired_at")
    return (f"UPDATE {store.table(Timer)} SET {cancelled} = %s "
            f"WHERE {store.column(Timer, 'token')} IN ({', '.join(['%s'] * n)}) "
            f"AND {fired} IS NULL AND {cancelled} IS NULL")


def cancel_timers_of_tokens(token_ids: Sequence[int], now: datetime) -> None:
    """Cancel the pending timers (not fired, not cancelled) of these tokens (safe inside ``store.pipeline``)."""
    if not token_ids:
        return
    store.execute(_cancel_timers_sql(len(token_ids)), [store.preparer(Timer, "cancelled_at")(now), *token_ids])


def insert_events(instance_id: int, actor_id: int | None, actor_label: str, at: datetime,
                  events: Sequence[tuple[str, str, Any, dict[str, Any]]]) -> None:
    """Append the events of one step in one INSERT: ``(element_id, type, task or None, data)`` each."""
    if not events:
        return
    prep_at, prep_data = store.preparer(Event, "at"), store.preparer(Event, "data")
    when = prep_at(at)
    store.insert_rows(Event, EVENT_COLUMNS, [
        (instance_id, element_id, type_, actor_id, actor_label, when, task.id if task is not None else None,
         prep_data(data))
        for element_id, type_, task, data in events
    ])


# --- locks and reads of a service call --------------------------------------------------------------------------

@cache
def _instance_where() -> str:
    return f"{store.column(ProcessInstance, 'id')} = %s"


def lock_instances(instance_id: int, root_id: int | None) -> list[ProcessInstance]:
    """Lock the root of an instance tree (when it is another instance), then the instance, and read them: the
    instance is the last item (none when it does not exist). Call inside a transaction."""
    locked = store.select_sql(ProcessInstance, _instance_where(), lock=True)
    queries: list[tuple[Any, str, list[Any]]] = []
    if root_id and root_id != instance_id:
        queries.append((ProcessInstance, locked, [root_id]))
    queries.append((ProcessInstance, locked, [instance_id]))
    return store.read(queries)[-1]


@cache
def _task_read_sql() -> tuple[str, str, str]:
    """The statements of ``read_task``: the root's lock, the task with its instance, the live tokens."""
    task_t, inst_t, tok_t = store.table(Task), store.table(ProcessInstance), store.table(Token)
    t_id, t_inst = store.column(Task, "id"), store.column(Task, "instance")
    i_id, i_root = store.column(ProcessInstance, "id"), store.column(ProcessInstance, "root")
    lock = (f"SELECT 1 FROM {inst_t} WHERE {i_id} = (SELECT COALESCE(i.{i_root}, i.{i_id}) FROM {task_t} t "
            f"JOIN {inst_t} i ON i.{i_id} = t.{t_inst} WHERE t.{t_id} = %s) FOR UPDATE")
    pair = (f"SELECT {store.columns(Task, 't')}, {store.columns(ProcessInstance, 'i')} FROM {task_t} t "
            f"JOIN {inst_t} i ON i.{i_id} = t.{t_inst} WHERE t.{t_id} = %s")
    tokens = (f"SELECT {store.columns(Token)} FROM {tok_t} WHERE {store.column(Token, 'instance')} = "
              f"(SELECT {t_inst} FROM {task_t} WHERE {t_id} = %s) AND {store.column(Token, 'state')} <> %s")
    return lock, pair, tokens


def read_task(task_id: int, *, with_tokens: bool) -> tuple[Task, ProcessInstance, list[Token] | None] | None:
    """Lock the instance tree of a task (the root's row on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
    serialises writers) and read the task and its instance — and, with ``with_tokens``, the instance's live
    tokens — in one round trip. None when the task does not exist."""
    lock, pair, tokens = _task_read_sql()
    queries: list[tuple[Any, str, list[Any]]] = []
    if store.is_postgresql():  # the root first (a child's step must not hold the child while waiting for the root)
        queries.append((None, lock, [task_id]))
    queries.append(((Task, ProcessInstance), pair, [task_id]))
    if with_tokens:
        queries.append((Token, tokens, [task_id, Token.State.DONE]))
    results = store.read(queries)
    pairs = results[1] if store.is_postgresql() else results[0]
    if not pairs:
        return None
    task, instance = pairs[0]
    return task, instance, (results[-1] if with_tokens else None)
