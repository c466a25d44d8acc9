"""Cached lookups of the engine: deployed definitions and decision tables (immutable once deployed), the latest
version of a key, organisations and their divisions, working-day calendars, the role generation (role answers
cached on user objects) and the actor of a step. ``apps.ready`` connects the ``clear_*`` functions to the
signals of the source rows; ``clear_caches`` empties every engine cache (tests start from it)."""

from __future__ import annotations

import time
from typing import Any

from . import config, times
from .errors import WorkflowError
from .models import DecisionDefinition, ProcessDefinition
from .statements import latest_version_id

_GRAPHS: dict[int, dict[str, Any]] = {}
_DECISIONS: dict[int, dict[str, Any]] = {}
# deployed decision versions (immutable once deployed): id -> (key, name, version, table); (key, version) -> id
_DECISION_ROWS: dict[int, tuple[str, str, int, dict[str, Any]]] = {}
_DECISION_VERSIONS: dict[tuple[str, int], int] = {}
_ORGS: dict[str, tuple[float, int, int | None]] = {}
_DIVISIONS: dict[int, int | None] = {}  # organisation id -> division id (organisations rarely move)
_CALENDARS: dict[int | None, tuple[float, Any]] = {}
_LATEST: dict[tuple[str, str], tuple[float, int]] = {}
CACHE_SECONDS = 60.0
# Which version is the latest: a deploy in this process is seen at once (signal), one in another process (the
# admin site, another worker) within this many seconds.
LATEST_SECONDS = 5.0


# Bumped whenever the definition caches are dropped (a deploy in this process, a test's fresh start): what was
# checked against the deployed definitions before (``services.ProcessBinding``) is checked again.
DEFINITION_GENERATION = [0]


def clear_caches() -> None:
    """Empty every engine cache (settings, definitions, organisations, calendars, the day of the last step)."""
    DEFINITION_GENERATION[0] += 1
    config.clear_setting_cache()
    times.clear_day_cache()
    _GRAPHS.clear()
    _DECISIONS.clear()
    _DECISION_ROWS.clear()
    _DECISION_VERSIONS.clear()
    _ORGS.clear()
    _DIVISIONS.clear()
    _CALENDARS.clear()
    _LATEST.clear()


def clear_definition_caches(**_: Any) -> None:
    DEFINITION_GENERATION[0] += 1
    _GRAPHS.clear()
    _DECISIONS.clear()
    _DECISION_ROWS.clear()
    _DECISION_VERSIONS.clear()
    _LATEST.clear()


def clear_organisation_cache(**_: Any) -> None:
    _ORGS.clear()
    _DIVISIONS.clear()
    _CALENDARS.clear()


def clear_calendar_cache(**_: Any) -> None:
    _CALENDARS.clear()


ROLE_GENERATION = [0]


def bump_role_generation(**_: Any) -> None:
    """Role grants changed: role answers cached on user objects are stale."""
    ROLE_GENERATION[0] += 1


def _latest_id(kind: str, key: str, model: Any) -> int | None:
    hit = _LATEST.get((kind, key))
    now = time.monotonic()
    if hit is not None and now - hit[0] < LATEST_SECONDS:
        return hit[1]
    pk = latest_version_id(model, key)
    if pk is None:
        return None
    _LATEST[(kind, key)] = (now, pk)
    return pk


def graph_for(definition_id: int) -> dict[str, Any]:
    graph = _GRAPHS.get(definition_id)
    if graph is None:
        graph = ProcessDefinition.objects.values_list("graph", flat=True).get(pk=definition_id)
        _GRAPHS[definition_id] = graph
    return graph


def latest_definition_id(key: str) -> int:
    pk = _latest_id("process", key, ProcessDefinition)
    if pk is None:
        raise WorkflowError(f"没有已部署的流程 {key}（process not deployed）", code="workflow.process_not_found", status=404, detail={"key": key})
    return pk


def decision_table(key: str) -> dict[str, Any]:
    row = _latest_id("decision", key, DecisionDefinition)
    if row is None:
        raise WorkflowError(f"没有已部署的决策 {key}（decision not deployed）", code="workflow.decision_not_found", status=404, detail={"key": key})
    table = _DECISIONS.get(row)
    if table is None:
        table = DecisionDefinition.objects.values_list("table", flat=True).get(pk=row)
        _DECISIONS[row] = table
    return table


def decision_definition(key: str, version: int | None = None) -> tuple[str, str, int, dict[str, Any]] | None:
    """(key, name, version, parsed table) of a deployed decision: the latest version when ``version`` is None (as
    fresh as :func:`decision_table`), else that version; None when not deployed. A deployed version never changes,
    so it is kept until a deploy or delete (signal) drops the definition caches: an automatic decision (秒批)
    costs no query for its table."""
    if version is None:
        pk = _latest_id("decision", key, DecisionDefinition)
    else:
        pk = _DECISION_VERSIONS.get((key, version))
        if pk is None:
            pk = DecisionDefinition.objects.filter(key=key, version=version).values_list("pk", flat=True).first()
            if pk is None:
                return None
            _DECISION_VERSIONS[(key, version)] = pk
    if pk is None:
        return None
    row = _DECISION_ROWS.get(pk)
    if row is None:
        found = DecisionDefinition.objects.filter(pk=pk).values_list("key", "name", "version", "table").first()
        if found is None:
            return None
        row = _DECISION_ROWS[pk] = found
    return row


def organisation_ref(code: str) -> tuple[int, int | None]:
    """(id, division id) of an organisation code, cached briefly."""
    from tongban.core.models import Organisation

    hit = _ORGS.get(code)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS * 5:
        return hit[1], hit[2]
    row = Organisation.objects.filter(code=code).values_list("pk", "division_id").first()
    if row is None:
        raise WorkflowError(f"机构代码 {code} 不存在（unknown organisation）", code="workflow.unknown_organisation", status=400, detail={"organisation": code})
    _ORGS[code] = (now, row[0], row[1])
    _DIVISIONS[row[0]] = row[1]
    return row


def division_of(org_id: int | None) -> int | None:
    """The division of an organisation (cached until an organisation changes)."""
    if org_id is None:
        return None
    try:
        return _DIVISIONS[org_id]
    except KeyError:
        from tongban.core.models import Organisation

        division = Organisation.objects.filter(pk=org_id).values_list("division_id", flat=True).first()
        _DIVISIONS[org_id] = division
        return division


def calendar_for(division_id: int | None) -> Any:
    """The working calendar of a division (national + local overrides), cached for a minute."""
    from tongban.core.calendar import WorkingCalendar

    hit = _CALENDARS.get(division_id)
    now = time.monotonic()
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    division = None
    if division_id is not None:
        from tongban.core.models import Division

        division = Division.objects.filter(pk=division_id).first()
    cal = WorkingCalendar.load(division)
    _CALENDARS[division_id] = (now, cal)
    return cal


def actor_label(actor: Any) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return str(actor)[:150]
    return "system"


def actor_id(actor: Any) -> int | None:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.pk
    return None
