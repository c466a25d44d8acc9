"""E-archives (电子档案): a closed case's file packed as a BagIt bag (RFC 8493) with SHA-256 and SHA-512
manifests, and fixity verification (``tongban archive verify PATH``).

Bag layout::

    <application ref>/
      bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sha512.txt  tagmanifest-*.txt
      data/case.json           the case record (everything but file contents)
      data/form.json           the form data
      data/decisions.json      the decisions
      data/events.json         the event log
      data/materials/NN-<file> the materials
      data/results/<number>.pdf / .vc.jwt / .sm2.txt   the sealed licence PDFs, VCs, SM2 signatures

bag-info.txt: Source-Organization, External-Identifier (application ref), Bagging-Date,
Tongban-Item-Code, Tongban-Closed-At, Tongban-Retention-Years, Tongban-Retention-Until (close date +
retention years), External-Description.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import bagit
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from tongban.core import site

from . import conf
from .errors import InvalidData

CHECKSUMS = ["sha256", "sha512"]
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def safe_name(name: str, fallback: str = "file") -> str:
    cleaned = _UNSAFE.sub("_", Path(str(name)).name).strip("._")
    return cleaned[:120] or fallback


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, cls=DjangoJSONEncoder).encode()


def _closed_on(case: dict[str, Any]) -> date:
    value = case.get("closed_at")
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidData(f"结案时间格式错误：{value}", code="credentials.invalid_case") from None
        return timezone.localdate(parsed) if timezone.is_aware(parsed) else parsed.date()
    return timezone.localdate()


def retention_until(closed: date, years: int) -> date:
    try:
        return closed.replace(year=closed.year + years)
    except ValueError:  # 29 February
        return closed.replace(year=closed.year + years, day=28)


def _file_content(entry: dict[str, Any]) -> bytes:
    if entry.get("path"):
        path = Path(str(entry["path"]))
        if not path.is_absolute():
            path = conf.media_root() / path
        if not path.is_file():
            raise InvalidData(f"材料文件不存在：{entry['path']}", code="credentials.archive_file_missing")
        return path.read_bytes()
    content = entry.get("content")
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    if entry.get("content_base64"):
        try:
            return base64.b64decode(entry["content_base64"], validate=True)
        except ValueError:
            raise InvalidData("材料内容不是有效的 base64", code="credentials.invalid_case") from None
    raise InvalidData(f"材料“{entry.get('name', '')}”既没有文件路径也没有内容", code="credentials.invalid_case")


def _describe(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("content", "content_base64")}


def build_archive(case: dict[str, Any], retention_years: int, dest_dir: Path | str, *, name: str = "") -> Path:
    """Pack a closed case as a BagIt bag under ``dest_dir`` and return the bag's path.

    ``case``: application_ref (required), item_codes / item_code, organisation (Source-Organization),
    closed_at, form_data, materials ([{name, filename, path | content | content_base64}]), decisions,
    events, results ([{credential_id?, licence_number?, filename?, path | content, vc?}]).
    The bag directory is named after the application ref (or ``name``); an existing one is never overwritten.
    """
    if not isinstance(case, dict):
        raise InvalidData("案卷必须是 JSON 对象", code="credentials.invalid_case")
    ref = str(case.get("application_ref") or case.get("ref") or "").strip()
    if not ref:
        raise InvalidData("案卷缺少办件编号（application_ref）", code="credentials.invalid_case")
    if not isinstance(retention_years, int) or retention_years <= 0:
        raise InvalidData("保管期限必须是正整数（年）", code="credentials.invalid_case")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / safe_name(name or ref, "case")
    if final.exists():
        raise InvalidData(f"办件 {ref} 的档案已存在：{final}", code="credentials.archive_exists", status=409)
    closed = _closed_on(case)
    item_codes = [str(c) for c in (case.get("item_codes") or ([case["item_code"]] if case.get("item_code") else []))]

    staging = dest / f".{final.name}.{secrets.token_hex(4)}.tmp"
    staging.mkdir()
    try:
        record = {k: v for k, v in case.items() if k not in ("materials", "results", "form_data", "decisions",
                                                               "events")}
        materials_index = []
        for n, entry in enumerate(case.get("materials") or [], start=1):
            if not isinstance(entry, dict):
                raise InvalidData("材料条目格式错误", code="credentials.invalid_case")
            filename = f"{n:02d}-{safe_name(entry.get('filename') or entry.get('name') or 'material')}"
            (staging / "materials").mkdir(exist_ok=True)
            (staging / "materials" / filename).write_bytes(_file_content(entry))
            materials_index.append({**_describe(entry), "file": f"materials/{filename}"})
        results_index = []
        for n, entry in enumerate(case.get("results") or [], start=1):
            if not isinstance(entry, dict):
                raise InvalidData("结果条目格式错误", code="credentials.invalid_case")
            (staging / "results").mkdir(exist_ok=True)
            stem = safe_name(entry.get("licence_number") or entry.get("credential_id") or f"result-{n:02d}")
            files = []
            if entry.get("path") or entry.get("content") or entry.get("content_base64"):
                result_name = safe_name(entry.get("filename") or f"{stem}.pdf")
                (staging / "results" / result_name).write_bytes(_file_content(entry))
                files.append(f"results/{result_name}")
            if entry.get("vc"):
                (staging / "results" / f"{stem}.vc.jwt").write_text(str(entry["vc"]))
                files.append(f"results/{stem}.vc.jwt")
            if entry.get("sm2_signature"):
                (staging / "results" / f"{stem}.sm2.txt").write_text(str(entry["sm2_signature"]))
                files.append(f"results/{stem}.sm2.txt")
            results_index.append({**_describe(entry), "files": files})
        record["materials"] = materials_index
        record["results"] = results_index
        record["retention_years"] = retention_years
        (staging / "case.json").write_bytes(_json(record))
        (staging / "form.json").write_bytes(_json(case.get("form_data") or {}))
        (staging / "decisions.json").write_bytes(_json(case.get("decisions") or []))
        (staging / "events.json").write_bytes(_json(case.get("events") or []))

        info = {
            "Source-Organization": str(case.get("organisation") or case.get("source_organization")
                                       or f"{site.current().operator_name}（通办 tongban）"),
            "External-Identifier": ref,
            "External-Description": f"办件 {ref} 电子档案" + (f"（事项 {', '.join(item_codes)}）" if item_codes else ""),
            "Bagging-Date": timezone.localdate().isoformat(),
            "Tongban-Closed-At": closed.isoformat(),
            "Tongban-Retention-Years": str(retention_years),
            "Tongban-Retention-Until": retention_until(closed, retention_years).isoformat(),
        }
        if item_codes:
            info["Tongban-Item-Code"] = item_codes if len(item_codes) > 1 else item_codes[0]
        bagit.make_bag(str(staging), info, processes=1, checksums=CHECKSUMS)
        staging.rename(final)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


@dataclass
class ArchiveCheck:
    valid: bool
    path: str
    file_count: int = 0
    problems: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def _detail(problem: Any) -> str:
    if isinstance(problem, bagit.ChecksumMismatch):
        return f"{problem.path}: {problem.algorithm} 校验值不符（文件被改动）"
    if isinstance(problem, bagit.FileMissing):
        return f"{problem.path}: 文件缺失"
    if isinstance(problem, bagit.UnexpectedFile):
        return f"{problem.path}: 清单外的多余文件"
    return str(problem)


def verify_archive(path: Path | str) -> ArchiveCheck:
    """Check a bag's fixity: every payload and tag file present, unchanged, and nothing extra."""
    target = Path(path)
    if not target.is_dir():
        return ArchiveCheck(False, str(target), problems=[f"{target}: 目录不存在"])
    try:
        bag = bagit.Bag(str(target))
    except bagit.BagError as exc:
        return ArchiveCheck(False, str(target), problems=[f"不是有效的 BagIt 档案包：{exc}"])
    info = {k: v for k, v in bag.info.items()}
    count = sum(1 for _ in bag.payload_files())
    bagit_logger = logging.getLogger("bagit")
    level = bagit_logger.level
    bagit_logger.setLevel(logging.ERROR)  # we report the problems ourselves, once, in Chinese
    try:
        return _validate(bag, target, count, info)
    finally:
        bagit_logger.setLevel(level)


def _validate(bag: bagit.Bag, target: Path, count: int, info: dict[str, Any]) -> ArchiveCheck:
    try:
        bag.validate(processes=1)
        return ArchiveCheck(True, str(target), file_count=count, info=info)
    except bagit.BagValidationError as exc:
        problems = [_detail(d) for d in exc.details]
        if not problems:  # the fast Payload-Oxum check failed first: find the files
            for check in (bag._validate_completeness, lambda: bag._validate_entries(1)):
                try:
                    check()
                except bagit.BagValidationError as inner:
                    problems.extend(_detail(d) for d in inner.details)
            problems = problems or [exc.message]
        return ArchiveCheck(False, str(target), file_count=count, problems=problems, info=info)
    except bagit.BagError as exc:
        return ArchiveCheck(False, str(target), file_count=count, problems=[str(exc)], info=info)
