"""Loading a checked file into the catalogue: all or nothing, in one transaction.

``load_catalog`` writes a ``tongban-catalog/1`` JSON file (items and bundles upserted by code, list entries
appended as new versions where they are not there yet); ``load_list_table`` writes a CSV/Excel power and/or
responsibility list as a new version of one organisation's list; ``load_file`` picks one by the file's type.
Nothing is written unless the whole file is free of errors, and a dry run writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from tongban.core.models import Organisation, User
from tongban.core.schema_messages import path_text
from tongban.core.services import audit

from .. import formats, selectors, services
from ..errors import CatalogError
from ..models import DutyList
from .checks import date_of, entry_lists, publishes, validate_catalog
from .issues import CatalogFileError, Issue, fail, unsupported
from .parser import Path_, Positions, parse_json, read_text
from .tables import KIND_LABELS, Table, read_entries, read_tables

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class ImportResult:
    file: str
    dry_run: bool = False
    items: Counter[str] = field(default_factory=Counter)
    bundles: Counter[str] = field(default_factory=Counter)
    versions_created: list[tuple[str, int, str]] = field(default_factory=list)  # (org, version, status)
    lists_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.items[services.CREATED] or self.items[services.UPDATED] or self.bundles[services.CREATED]
                    or self.bundles[services.UPDATED] or self.versions_created)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "dry_run": self.dry_run, "items": dict(self.items),
                "bundles": dict(self.bundles),
                "versions_created": [{"organisation": o, "version": v, "status": s}
                                     for o, v, s in self.versions_created],
                "lists_unchanged": self.lists_unchanged}


class _Rollback(Exception):
    pass


@dataclass
class _Place:
    """Where in the file the writer is, for an error while writing (which the checks should have caught)."""

    line: int = 1
    path: Path_ | None = None

    def at(self, path: Path_, pos: Positions) -> None:
        self.path, self.line = path, pos.line(path)

    def issue(self, filename: str, message: str) -> Issue:
        return Issue(filename, self.line, f"{path_text(self.path)}: {message}" if self.path is not None else message)


@contextmanager
def _writing(result: ImportResult, *, actor: User | None, reason: str) -> Iterator[_Place]:
    """One transaction for a file's writes, with the ``catalog.import`` audit entry when anything changed;
    rolled back on a dry run. A refusal while writing becomes a ``CatalogFileError`` at the current place."""
    place = _Place()
    try:
        with transaction.atomic():
            yield place
            if result.changed:
                audit("catalog.import", actor=actor, reason=reason, object_type="catalog.file",
                      object_id=Path(result.file).name[:64], detail=result.as_dict())
            if result.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except (CatalogError, DatabaseError) as exc:
        message = exc.message if isinstance(exc, CatalogError) else f"写入数据库失败：{exc}"
        raise CatalogFileError([place.issue(result.file, message)]) from exc


# --- tongban-catalog/1 JSON ------------------------------------------------------------------------


def load_catalog(path: str | Path, *, actor: User | None = None, dry_run: bool = False, reason: str = "",
                 progress: Progress | None = None, display_name: str | None = None) -> ImportResult:
    """Load a ``tongban-catalog/1`` JSON file. Raises ``CatalogFileError`` (nothing written) on any error."""
    path = Path(path)
    name = display_name or str(path)
    data, pos = parse_json(read_text(path, name), name)
    return load_catalog_data(data, pos, name, actor=actor, dry_run=dry_run, reason=reason, progress=progress)


def load_catalog_data(data: Any, pos: Positions, filename: str, *, actor: User | None = None,
                      dry_run: bool = False, reason: str = "", progress: Progress | None = None) -> ImportResult:
    issues, plan = validate_catalog(data, pos, filename)
    if issues:
        raise CatalogFileError(issues)
    reason = reason or f"导入 {Path(filename).name}"
    result = ImportResult(file=filename, dry_run=dry_run)
    total = len(plan.items) + len(plan.bundles) + sum(len(p.entries) for p in plan.lists)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    with _writing(result, actor=actor, reason=reason) as place:
        orgs: services.OrgCache = {}
        upserts: list[tuple[str, list[tuple[int, dict[str, Any]]], Callable[..., tuple[Any, str]], Counter[str]]] = [
            ("items", plan.items, services.upsert_item, result.items),
            ("bundles", plan.bundles, services.upsert_bundle, result.bundles),
        ]
        for key, objs, upsert, counts in upserts:
            for i, obj in objs:
                place.at((key, i), pos)
                _, status = upsert(obj, actor=actor, reason=reason, orgs=orgs)
                counts[status] += 1
                step(obj["code"])
        for list_plan in plan.lists:
            result.lists_unchanged += list_plan.unchanged
            org = services.resolve_organisation(list_plan.organisation, orgs)
            for i, entry in list_plan.entries:
                place.at(("duty_lists", i), pos)
                powers, responsibilities = entry_lists(entry)
                version = services.create_version(
                    org, powers=powers, responsibilities=responsibilities,
                    effective_date=date_of(entry.get("effective_date")), publish=publishes(entry), actor=actor,
                    reason=entry.get("change_reason") or reason,
                )
                result.versions_created.append((org.code, version.version, str(version.status)))
                step(f"{org.code} v{version.version}")
    return result


# --- CSV / Excel lists -----------------------------------------------------------------------------


def load_list_table(path: str | Path, *, organisation: str, kind: str | None = None,
                    effective_date: dt.date | None = None, publish: bool = True, actor: User | None = None,
                    reason: str = "", dry_run: bool = False, display_name: str | None = None) -> ImportResult:
    """Load a power list and/or responsibility list (CSV: one list per file; Excel: one sheet per list).

    The new version holds the file's lists, and the organisation's latest version for a list the file lacks.
    A file equal to the latest version creates nothing.
    """
    path = Path(path)
    display = display_name or str(path)
    tables = read_tables(path, display, kind)
    org = Organisation.objects.filter(code=organisation).first()
    if org is None:
        raise fail(display, 1, f"未知的机构编码 “{organisation}”（--organisation）")
    found: dict[str, Table] = {}
    issues: list[Issue] = []
    for table in tables:
        issues += read_entries(table, display)
        if table.readable and table.kind in found:
            issues.append(Issue(display, 1, f"{table.where}文件中有两份{KIND_LABELS[table.kind]}"))
        elif table.readable and table.kind is not None:
            found[table.kind] = table
    if not all(t.readable for t in tables):  # its rows cannot be checked against the other list
        raise CatalogFileError(issues)
    latest = selectors.latest_version(org)
    current = formats.duty_list_entries(latest) if latest else {k: [] for k in formats.LIST_KINDS}
    lists = {k: found[k].values if k in found else current[k] for k in formats.LIST_KINDS}
    issues += _list_issues(display, org, found, lists, latest, effective_date, publish)
    if issues:
        raise CatalogFileError(issues)
    result = ImportResult(file=display, dry_run=dry_run)
    if latest is not None and lists == current:
        result.lists_unchanged = 1
        return result
    reason = reason or f"导入 {path.name}"
    with _writing(result, actor=actor, reason=reason):
        version = services.create_version(
            org, powers=lists["powers"] if "powers" in found else None,
            responsibilities=lists["responsibilities"] if "responsibilities" in found else None,
            effective_date=effective_date or (timezone.localdate() if publish else None), publish=publish,
            actor=actor, reason=reason,
        )
        result.versions_created.append((org.code, version.version, str(version.status)))
    return result


def _list_issues(display: str, org: Organisation, found: dict[str, Table], lists: dict[str, list[dict[str, Any]]],
                 latest: DutyList | None, effective_date: dt.date | None, publish: bool) -> list[Issue]:
    """Problems of the new version as a whole: responsibilities naming a power it lacks, a draft in the way,
    an effective date before the latest published version's."""
    issues: list[Issue] = []
    power_codes = {p["code"] for p in lists["powers"]}
    if "responsibilities" in found:
        table = found["responsibilities"]
        where = "本文件的权力清单" if "powers" in found else "现行权力清单"
        issues += [Issue(display, number, f"{table.where}对应职权编码 “{entry['power_code']}” 不在{where}中")
                   for number, entry in table.entries
                   if entry["power_code"] and entry["power_code"] not in power_codes]
    elif "powers" in found and latest is not None:
        orphans = sorted({r["power_code"] for r in lists["responsibilities"] if r["power_code"] not in power_codes})
        if orphans:
            issues.append(Issue(display, 1, f"{found['powers'].where}现行责任清单引用的职权 {'、'.join(orphans)} "
                                            "不在新的权力清单中；请同时导入责任清单"))
    if latest is not None and latest.status == DutyList.Status.DRAFT:
        issues.append(Issue(display, 1, f"机构 {org.code} 已有未发布的草稿 v{latest.version}，请先发布或删除该草稿"))
    if publish:
        date = effective_date or timezone.localdate()
        last = selectors.latest_version(org, published_only=True)
        if last is not None and last.effective_date and date < last.effective_date:
            issues.append(Issue(display, 1, f"生效日期 {date} 早于已发布的 v{last.version} 的生效日期 "
                                            f"{last.effective_date}（请用 --effective-date 指定）"))
    return issues


# --- any file --------------------------------------------------------------------------------------


def load_file(path: str | Path, *, organisation: str | None = None, **options: Any) -> ImportResult:
    """Load any supported file: ``.json`` catalogue, or ``.csv``/``.xlsx`` lists (needs ``organisation``)."""
    path = Path(path)
    display = options.pop("display_name", None) or str(path)
    if path.suffix.lower() == ".json":
        for key in ("kind", "effective_date", "publish"):
            options.pop(key, None)
        return load_catalog(path, display_name=display, **options)
    if path.suffix.lower() in (".csv", ".xlsx", ".xlsm"):
        options.pop("progress", None)
        if not organisation:
            raise fail(display, 0, "导入 CSV/Excel 清单需要指定机构：--organisation ORG")
        return load_list_table(path, organisation=organisation, display_name=display, **options)
    raise unsupported(display, path.suffix)


def export_catalog_json() -> str:
    """The whole catalogue as a ``tongban-catalog/1`` file (see ``selectors.export_catalog``)."""
    return json.dumps(selectors.export_catalog(), ensure_ascii=False, indent=2) + "\n"
