"""The case record (全过程记录), staff certificates and the case-file export (案卷归档)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tongban.core.models import Organisation, User
from tongban.core.services import audit

from .. import selectors
from ..errors import (
    EnforcementError,
    Forbidden,
    NotFound,
)
from ..models import CaseRecord, EnforcementCase
from .common import ARCHIVE_RETENTION_YEARS

# --- the case record (全过程记录) -----------------------------------------------------------------------------


_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", Path(str(name)).name).strip("._")[:100] or "file"


def _store_attachment(case: EnforcementCase, entry: dict[str, Any]) -> dict[str, Any]:
    """An attachment as stored: a file's content is kept under MEDIA_ROOT with its SHA-256; audio/video by
    reference (``uri`` + the ``sha256`` the recorder computed)."""
    name = str(entry.get("name") or entry.get("filename") or "附件").strip()[:120]
    kind = str(entry.get("kind") or "file")[:20]
    content = entry.get("content")
    if isinstance(content, str):
        content = content.encode()
    if isinstance(content, bytes):
        limit = int(getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
        if len(content) > limit:
            raise EnforcementError(f"附件“{name}”超过 {limit // (1024 * 1024)} MB；音视频请以引用地址和校验值登记",
                                   detail={"field": "attachments"})
        digest = hashlib.sha256(content).hexdigest()
        rel = Path("enforcement") / _safe(case.case_no) / f"{digest[:16]}-{_safe(name)}"
        target = Path(settings.MEDIA_ROOT) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(content)
        return {"name": name, "kind": kind, "sha256": digest, "size": len(content), "path": str(rel)}
    uri = str(entry.get("uri") or "").strip()
    digest = str(entry.get("sha256") or "").strip().lower()
    if not uri or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise EnforcementError(f"附件“{name}”须有文件内容，或有引用地址（uri）和 SHA-256 校验值",
                               detail={"field": "attachments"})
    return {"name": name, "kind": kind, "sha256": digest, "size": int(entry.get("size") or 0), "uri": uri}


def add_record(case: EnforcementCase, actor: User | None, action: str, text: str = "", *,
               data: dict[str, Any] | None = None, attachments: list[dict[str, Any]] | None = None,
               amends: CaseRecord | None = None, step: str = "") -> CaseRecord:
    """Append one record to the case file; a correction names the record it ``amends`` (never an edit)."""
    if amends is not None and amends.case_id != case.pk:
        raise EnforcementError("只能更正本案件的记录", detail={"field": "amends"})
    stored = [_store_attachment(case, a) for a in attachments or []]
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))  # dates and amounts as JSON text
    with transaction.atomic():
        EnforcementCase.objects.select_for_update().filter(pk=case.pk).first()
        seq = (CaseRecord.objects.filter(case=case).aggregate(m=Max("seq"))["m"] or 0) + 1
        record = CaseRecord(case=case, seq=seq, at=timezone.now(), actor=actor if actor and actor.pk else None,
                            actor_label=str(actor) if actor and actor.pk else "系统", step=step or case.stage,
                            action=action[:40], text=text, data=data or {}, attachments=stored, amends=amends)
        record.save()
    return record


def append_record(case: EnforcementCase, actor: User, action: str, text: str = "",
                  attachments: list[dict[str, Any]] | None = None) -> CaseRecord:
    """A record added by hand (现场检查笔录, 照片, 音视频 by reference) by enforcement staff of the department."""
    if not selectors.can_see(actor, case):
        raise Forbidden("只有本部门执法人员可以追加记录")
    if not str(action or "").strip():
        raise EnforcementError("请填写记录事项", detail={"field": "action"})
    return add_record(case, actor, str(action).strip(), text, attachments=attachments)


def amend_record(case: EnforcementCase, actor: User, seq: int, text: str,
                 attachments: list[dict[str, Any]] | None = None) -> CaseRecord:
    if not selectors.can_see(actor, case):
        raise Forbidden("无权更正该案件的记录")
    original = CaseRecord.objects.filter(case=case, seq=seq).first()
    if original is None:
        raise NotFound(f"记录 #{seq} 不存在")
    if not text.strip():
        raise EnforcementError("请填写更正内容", detail={"field": "text"})
    return add_record(case, actor, "更正记录", text, data={"amends_seq": seq}, attachments=attachments,
                      amends=original, step=original.step)


def certify(user: User, department: Organisation, number: str, *, valid_until: date, field: str = "",
            actor: User | None = None) -> Any:
    """Register (or renew) a staff member's 行政执法证."""
    from ..models import Certificate

    number = str(number or "").strip()
    if not number:
        raise EnforcementError("请填写执法证号", detail={"field": "number"})
    cert, _ = Certificate.objects.update_or_create(number=number, defaults={
        "user": user, "department": department, "valid_until": valid_until, "field": field, "active": True})
    audit("enforcement.certificate", actor=actor, obj=cert, detail={"number": number, "user": user.username})
    return cert


# --- export (案卷归档) ----------------------------------------------------------------------------------------


def case_file(case: EnforcementCase) -> dict[str, Any]:
    """The case file in the credentials archive's case shape (records as events, attachments as materials)."""
    recs = list(selectors.records(case))
    materials = []
    for r in recs:
        for n, a in enumerate(r.attachments, start=1):
            entry = {"name": a["name"], "record": r.seq, "sha256": a["sha256"], "kind": a.get("kind", "file")}
            if a.get("path"):
                entry.update(path=str(Path(settings.MEDIA_ROOT) / a["path"]), filename=f"{r.seq:03d}-{n}-{a['name']}")
                materials.append(entry)
            else:  # by reference: the archive keeps the reference and its checksum
                materials.append({**entry, "filename": f"{r.seq:03d}-{n}-{a['name']}.ref.txt",
                                  "content": f"uri: {a['uri']}\nsha256: {a['sha256']}\nsize: {a.get('size', 0)}\n"})
    if case.decided_on:
        from ..documents import decision_pdf

        materials.append({"name": "行政处罚决定书", "filename": f"{case.case_no}-决定书.pdf", "kind": "decision",
                          "content": decision_pdf(case)})
    events_ = [{"seq": r.seq, "at": r.at, "actor": r.actor_label, "step": r.step, "action": r.action,
                "text": r.text, "data": r.data, "attachments": r.attachments,
                "amends": r.amends.seq if r.amends else None} for r in recs]
    decision = {"penalty_kinds": case.decision_kinds, "fine": str(case.fine) if case.fine is not None else None,
                "level": case.decision_level, "factors": case.decision_factors, "justification": case.justification,
                "text": case.decision_text, "decided_on": case.decided_on, "legal_review": case.review_status,
                "review_opinion": case.review_opinion}
    return {"application_ref": case.case_no, "item_code": case.item.code, "organisation": case.department.name,
            "closed_at": case.closed_on or timezone.localdate(), "kind": "行政处罚案卷",
            "item_name": case.item.name, "legal_basis": case.item.legal_basis, "party_name": case.party_name,
            "party_id_number": case.party_id_number, "stage": case.stage, "filed_on": case.filed_on,
            "form_data": {"facts": case.facts, "summary": case.summary, "proposal": case.proposal},
            "decisions": [decision] if case.decided_on else [], "events": events_, "materials": materials}


def export_case(case_no: str, dest: Path | str, actor: User | None = None) -> Path:
    """Write the case file as a BagIt bag under ``dest`` (``tongban archive verify`` accepts it)."""
    from tongban.credentials.services import build_bag

    case = selectors.case_by_no(case_no)
    if case is None:
        raise NotFound(f"案件 {case_no} 不存在")
    path = build_bag(case_file(case), dest, retention_years=ARCHIVE_RETENTION_YEARS)
    audit("enforcement.export", actor=actor, obj=case, detail={"path": str(path)})
    return path
