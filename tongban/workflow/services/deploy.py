"""Deployment (部署): BPMN processes and DMN decisions, a new version only when the file changed; evaluating a
deployed decision on its own."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.db import transaction

from tongban.core.models import User
from tongban.core.services import audit

from .. import dmn
from ..bpmn import DefinitionError, Issue, ParsedProcess, parse_bpmn
from ..errors import WorkflowError
from ..expressions import ExpressionError
from ..lookups import actor_id
from ..models import DecisionDefinition, ProcessDefinition


def _checksum(key: str, data: bytes) -> str:
    return hashlib.sha256(key.encode() + b"\n" + data).hexdigest()


def deploy(source: bytes | str, filename: str = "<string>", actor: User | None = None) -> list[ProcessDefinition]:
    """Deploy every process of a BPMN file. A process whose content is unchanged keeps its latest version;
    otherwise a new version is added (running instances keep theirs). Each returned definition has
    ``created`` set. Raises ``DefinitionError`` (every problem as ``FILE:LINE: element ID: message``), also
    when a business rule task names a decision that is not deployed (deploy the DMN file first)."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    parsed = parse_bpmn(data, filename)
    _check_decisions(parsed.processes, filename)
    text = data.decode("utf-8")
    display = text
    if not parsed.has_diagram:
        from ..layout import with_diagram

        display = with_diagram(parsed.root, [p.graph for p in parsed.processes])
    result: list[ProcessDefinition] = []
    with transaction.atomic():
        for proc in parsed.processes:
            checksum = _checksum(proc.key, data)
            latest = (ProcessDefinition.objects.select_for_update().filter(key=proc.key)
                      .order_by("-version").first())
            if latest is not None and latest.checksum == checksum:
                latest.created = False
                result.append(latest)
                continue
            definition = ProcessDefinition.objects.create(
                key=proc.key, version=(latest.version + 1) if latest else 1, name=proc.name, bpmn_xml=text,
                display_xml=display, graph=proc.graph, checksum=checksum, source_name=Path(filename).name[:255],
                deployed_by=actor if actor_id(actor) else None,
            )
            definition.created = True
            audit("workflow.process.deploy", actor=actor, obj=definition,
                  detail={"key": definition.key, "version": definition.version, "file": definition.source_name})
            result.append(definition)
    return result


def _check_decisions(processes: list[ParsedProcess], filename: str) -> None:
    """Refuse business rule tasks whose ``decisionRef`` names no deployed decision (one query)."""
    refs = [(node.get("line", 0), eid, node["decision_ref"]) for proc in processes
            for eid, node in proc.graph["elements"].items() if node["type"] == "businessRuleTask"]
    if not refs:
        return
    known = set(DecisionDefinition.objects.filter(key__in={r for _, _, r in refs}).values_list("key", flat=True))
    issues = [Issue(line, eid, f"unknown decision '{ref}': no deployed DMN decision has this id (deploy the DMN "
                               "file first)")
              for line, eid, ref in refs if ref not in known]
    if issues:
        raise DefinitionError(issues, filename)


def _read_definition_file(path: str | Path) -> tuple[bytes, str]:
    path = Path(path)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise DefinitionError([Issue(0, "-", f"cannot read file: {exc.strerror or exc}")], str(path)) from exc


def deploy_file(path: str | Path, actor: User | None = None) -> list[ProcessDefinition]:
    return deploy(*_read_definition_file(path), actor)


def deploy_decisions(source: bytes | str, filename: str = "<string>",
                     actor: User | None = None) -> list[DecisionDefinition]:
    """Deploy every decision of a DMN file (new version when changed), like ``deploy``."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    tables = dmn.parse_dmn(data, filename)
    text = data.decode("utf-8")
    result: list[DecisionDefinition] = []
    with transaction.atomic():
        for table in tables:
            checksum = _checksum(table["key"], data)
            latest = (DecisionDefinition.objects.select_for_update().filter(key=table["key"])
                      .order_by("-version").first())
            if latest is not None and latest.checksum == checksum:
                latest.created = False
                result.append(latest)
                continue
            definition = DecisionDefinition.objects.create(
                key=table["key"], version=(latest.version + 1) if latest else 1, name=table["name"], dmn_xml=text,
                table=table, checksum=checksum, source_name=Path(filename).name[:255],
                deployed_by=actor if actor_id(actor) else None,
            )
            definition.created = True
            audit("workflow.decision.deploy", actor=actor, obj=definition,
                  detail={"key": definition.key, "version": definition.version, "file": definition.source_name})
            result.append(definition)
    return result


def deploy_decision_file(path: str | Path, actor: User | None = None) -> list[DecisionDefinition]:
    return deploy_decisions(*_read_definition_file(path), actor)


def evaluate_decision(key: str, variables: dict[str, Any]) -> Any:
    """Evaluate the latest version of a deployed decision over ``variables`` (no process needed)."""
    from ..lookups import decision_table

    try:
        return dmn.evaluate(decision_table(key), variables)
    except dmn.DecisionError as exc:
        raise WorkflowError(str(exc), code=exc.code, status=409) from exc


def explain_decision(key: str, variables: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    """Evaluate one version of a deployed decision (the latest when ``version`` is None) and explain it: the
    result, and every rule whose input entries all match (the hit rules) with its tests, outputs and description.

    What an automatic decision (秒批) records, and what its audit re-runs over the recorded inputs."""
    from ..lookups import decision_definition

    definition = decision_definition(key, version)
    if definition is None:
        raise WorkflowError(f"没有已部署的决策 {key}" + (f" 版本 {version}" if version is not None else ""),
                            code="workflow.decision_not_found", status=404, detail={"key": key, "version": version})
    def_key, def_name, def_version, table = definition
    try:
        result = dmn.evaluate(table, variables)
        hit_ids = dmn.matched_rules(table, variables)
    except (dmn.DecisionError, ExpressionError) as exc:
        raise WorkflowError(str(exc), code=getattr(exc, "code", "workflow.decision_failed"), status=409) from exc
    by_id = {r["id"]: r for r in table.get("rules", [])}
    hits = []
    for rid in hit_ids:
        rule = by_id[rid]
        tests = [f"{i['label']} {t}" for i, t in zip(table["inputs"], rule["inputs"], strict=True)
                 if t and t != "-"]
        outputs = {o["name"]: t for o, t in zip(table["outputs"], rule["outputs"], strict=True)}
        hits.append({"id": rid, "description": rule.get("description", ""), "tests": tests, "outputs": outputs})
    return {"key": def_key, "name": def_name, "version": def_version,
            "hit_policy": table.get("hit_policy", ""), "result": result, "hits": hits,
            "inputs": [{"label": i["label"], "expression": i["expression"]} for i in table.get("inputs", [])]}
