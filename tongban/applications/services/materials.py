"""Materials (申请材料): uploads, fetching from the issuing department with consent (免证办理), and the commitment
that replaces materials (告知承诺制)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.catalog.models import Material
from tongban.core import credit_gate, labels
from tongban.core import evidence as core_evidence
from tongban.core.models import Organisation, User

from .. import files
from ..errors import ApplicationError
from ..models import Application, ApplicationMaterial, Commitment, StoredFile
from ..selectors import commitment_allowed
from .common import log, material_row, require_editable
from .supplements import supplement_material


def store_upload(upload: Any, default_name: str = "upload") -> StoredFile:
    """Check and store one uploaded file (type, size, virus scan: ``files.store``); raises ApplicationError."""
    return files.store(upload.chunks(), name=upload.name or default_name, content_type=upload.content_type)


@transaction.atomic
def attach_file(app: Application, key: str, stored: StoredFile, user: User) -> ApplicationMaterial:
    """Provide material ``key`` as an uploaded file (after acceptance with materials owed: a supplement)."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    if app.status == Application.Status.RESULT_HELD or app.supplements.filter(fulfilled_at__isnull=True).exists():
        return supplement_material(app, key, stored, user)
    require_editable(app, user)
    row = material_row(app, key)
    row.file, row.status, row.provided_at = stored, ApplicationMaterial.Status.PROVIDED, timezone.now()
    row.save(update_fields=["file", "status", "provided_at"])
    log(app, "material", f"上传材料“{row.name}”", user, sha256=stored.sha256)
    return row


def _fetchable(app: Application, key: str) -> ApplicationMaterial:
    row = material_row(app, key)
    if row.source == Material.Source.APPLICANT:
        raise ApplicationError(f"“{row.name}”须由申请人提供，不能调取", code="material.not_fetchable")
    return row


@transaction.atomic
def attach_evidence(app: Application, key: str, evidence: dict[str, Any], user: User) -> ApplicationMaterial:
    """Mark a material as fetched from its issuing department (免证办理); ``evidence`` is what was fetched."""
    require_editable(app, user)
    row = _fetchable(app, key)
    row.evidence, row.status, row.provided_at = evidence, ApplicationMaterial.Status.FETCHED, timezone.now()
    row.save(update_fields=["evidence", "status", "provided_at"])
    log(app, "evidence", f"已调取“{row.name}”（来自{labels.name('organisation', evidence.get('provider_org', ''))}），"
                           "申请人无需提交", user)
    return row


def evidence_plan(app: Application, key: str) -> dict[str, Any]:
    """What will be fetched for material ``key``, from whom, for which departments (shown before consent)."""
    row = _fetchable(app, key)
    m = row.materials.select_related("issuing_department").first()
    if m is None:  # a material row always comes from the catalogue's materials; a deleted one cannot be fetched
        raise ApplicationError(f"“{row.name}”在事项目录中已不存在，不能调取", code="material.not_fetchable")
    code = m.licence_type if row.source == Material.Source.ISSUED else m.data_resource
    consumers = list(app.items.filter(item__code__in=row.item_codes).select_related("department")
                     .values_list("department__code", "department__name").distinct())
    try:
        provider_org, available = core_evidence.provider_for(row.source, code).organisation_code, True
    except core_evidence.EvidenceError:
        provider_org, available = (m.issuing_department.code if m.issuing_department else ""), False
    provider_name = Organisation.objects.filter(code=provider_org).values_list("name", flat=True).first() or ""
    return {"key": key, "name": row.name, "source": row.source, "code": code, "provider_org": provider_org,
            "provider_name": provider_name, "available": available,
            "consumers": [{"code": c, "name": n} for c, n in consumers],
            "purpose": f"办理“{app.title}”（{app.ref}）"}


def fetch_evidence(app: Application, key: str, user: User) -> ApplicationMaterial:
    """免证办理: with the applicant's consent, fetch material ``key`` from the department that holds it.

    Call it outside any transaction of your own, so that the access-log entry the exchange writes stays
    even when the fetch is refused (the API view does). A provider that is down gives
    ``evidence.provider_unavailable`` (503) with advice to upload instead; nothing already entered is lost.
    """
    require_editable(app, user)
    plan = evidence_plan(app, key)
    purpose = plan["purpose"]
    try:
        consent_ref = ""
        for consumer in plan["consumers"]:
            ref = core_evidence.record_consent(
                subject_id=app.applicant_id_number, source=plan["source"], code=plan["code"],
                consumer_org=consumer["code"], purpose=purpose, case_ref=app.ref, user=user)
            consent_ref = consent_ref or ref
        ev = core_evidence.fetch(core_evidence.EvidenceRequest(
            source=plan["source"], code=plan["code"], subject_id=app.applicant_id_number,
            requester_org=plan["consumers"][0]["code"], purpose=purpose, case_ref=app.ref,
            consent_ref=consent_ref, actor_id=user.pk))
    except core_evidence.ProviderUnavailable as exc:
        raise ApplicationError(f"{exc}。您可以改为上传该材料，已填写的内容不会丢失。", code=exc.code,
                               status=503) from exc
    except core_evidence.EvidenceNotFound as exc:
        raise ApplicationError(f"{exc}。请改为上传该材料。", code=exc.code, status=404) from exc
    except core_evidence.EvidenceError as exc:
        raise ApplicationError(str(exc), code=exc.code, status=403) from exc
    evidence = {"provider_org": ev.provider_org, "title": ev.title, "data": ev.data, "reference": ev.reference,
                "fetched_at": ev.fetched_at.isoformat(), "code": ev.code, "source": ev.source,
                "masked_fields": list(ev.masked_fields)}
    return attach_evidence(app, key, evidence, user)


@transaction.atomic
def sign_commitment(app: Application, user: User, material_keys: list[str], text: str = "") -> Commitment:
    """告知承诺: replace the named materials with a signed commitment (only where every item allows it)."""
    require_editable(app, user)
    if not commitment_allowed(app):
        raise ApplicationError("该事项不适用告知承诺制", code="commitment.not_allowed")
    if (refusal := credit_gate.commitment_refusal(app.applicant_id_number)) is not None:
        raise ApplicationError(refusal, code="applications.credit_not_allowed", status=403)
    rows = {m.key: m for m in app.materials.all()}
    for key in material_keys:
        row = rows.get(key)
        if row is None:
            raise ApplicationError(f"办件没有材料“{key}”", code="material.unknown", status=404)
        if not all(m.commitment_replaceable for m in row.materials.all()):
            raise ApplicationError(f"“{row.name}”不能以承诺替代", code="commitment.material_not_replaceable")
    text = text or (f"本人/本单位承诺：所填报信息真实有效，已知晓并符合“{app.title}”的全部条件，"
                    f"以下材料以承诺替代：{'、'.join(rows[k].name for k in material_keys)}。"
                    "如有不实，愿承担撤销审批决定等法律责任，并记入信用记录。")
    commitment, _ = Commitment.objects.update_or_create(
        application=app, defaults={"text": text, "material_keys": material_keys,
                                   "signer_name": app.applicant_name, "signed_by": user,
                                   "signed_at": timezone.now()})
    app.materials.filter(key__in=material_keys).update(status=ApplicationMaterial.Status.COMMITMENT,
                                                        provided_at=timezone.now())
    app.items.update(by_commitment=True)
    log(app, "commitment", f"签署告知承诺书，承诺替代 {len(material_keys)} 项材料", user)
    return commitment
