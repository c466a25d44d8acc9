"""Materials (申请材料): uploads, fetching from the issuing department with consent (免证办理), and the commitment
that replaces materials (告知承诺制)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tongban.catalog import definitions
from tongban.catalog.models import Material
from tongban.core import credit_gate, labels
from tongban.core import evidence as core_evidence
from tongban.core.models import Organisation, User

from .. import files
from ..errors import ApplicationError
from ..models import Application, ApplicationEvent, ApplicationMaterial, Commitment, StoredFile
from ..selectors import commitment_allowed
from .common import _label as log_label
from .common import log, material_row, require_editable
from .supplements import supplement_material


def store_upload(upload: Any, default_name: str = "upload") -> StoredFile:
    """Check and store one uploaded file (type, size, virus scan: ``files.store``); raises ApplicationError."""
    return files.store(upload.chunks(), name=upload.name or default_name, content_type=upload.content_type)


@transaction.atomic
def attach_file(app: Application, key: str, stored: StoredFile, user: User, *, locked: bool = False
                ) -> ApplicationMaterial:
    """Provide material ``key`` as an uploaded file (after acceptance with materials owed: a supplement).
    ``locked``: the caller read ``app`` with its row lock in the current transaction (else it is read again,
    locked)."""
    if not locked:
        app = Application.objects.select_for_update().get(pk=app.pk)
    # materials owed after acceptance go to their supplement (a draft has none: supplements start at acceptance)
    if app.status == Application.Status.RESULT_HELD or (
            app.status != Application.Status.DRAFT and app.supplements.filter(fulfilled_at__isnull=True).exists()):
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


@dataclass
class _Plan:
    row: ApplicationMaterial
    material: Material
    code: str
    consumers: list[tuple[str, str]]  # (code, name) of the departments whose items need the material


def _provider_org(source: str, code: str) -> str:
    return definitions.cached(("evidence.provider_org", source, code),
                              lambda: core_evidence.provider_for(source, code).organisation_code)


def _org_name(code: str) -> str:
    return definitions.cached(("org.name", code), lambda: Organisation.objects.filter(code=code)
                              .values_list("name", flat=True).first() or "")


def _gone(row: ApplicationMaterial) -> ApplicationError:
    # a material row always comes from the catalogue's materials; a deleted one cannot be fetched
    return ApplicationError(f"“{row.name}”在事项目录中已不存在，不能调取", code="material.not_fetchable")


def _departments(app: Application, item_codes: list[str]) -> list[Organisation]:
    """The departments of the case's items that need a material (``item_codes``), each once, in item order."""
    return list({ai.department.code: ai.department for ai in app.items.all().select_related("item", "department")
                 if ai.item.code in item_codes}.values())


def _plan(app: Application, row: ApplicationMaterial, item_codes: list[str] | None = None) -> _Plan:
    m = row.materials.select_related("issuing_department").first()
    if m is None:
        raise _gone(row)
    code = m.licence_type if row.source == Material.Source.ISSUED else m.data_resource
    departments = _departments(app, item_codes or row.item_codes)
    return _Plan(row, m, code, [(d.code, d.name) for d in departments])


def _rows_with_catalogue_code(app: Application) -> list[ApplicationMaterial]:
    """The case's material rows, each with what :func:`_plan` reads of its first catalogue material (the one
    ``row.materials.first()`` gives): ``catalogue_material`` (its id; None when none is left) and its
    ``catalogue_licence_type`` and ``catalogue_data_resource``, in the one query of the rows."""
    first = (ApplicationMaterial.materials.through.objects.filter(applicationmaterial_id=OuterRef("pk"))
             .order_by(*(f"material__{name}" for name in Material._meta.ordering or ["id"])))
    return list(app.materials.annotate(
        catalogue_material=Subquery(first.values("material_id")[:1]),
        catalogue_licence_type=Subquery(first.values("material__licence_type")[:1]),
        catalogue_data_resource=Subquery(first.values("material__data_resource")[:1])))


def evidence_plan(app: Application, key: str) -> dict[str, Any]:
    """What will be fetched for material ``key``, from whom, for which departments (shown before consent)."""
    plan = _plan(app, _fetchable(app, key))
    row, m = plan.row, plan.material
    try:
        provider_org, available = _provider_org(row.source, plan.code), True
    except core_evidence.EvidenceError:
        provider_org, available = (m.issuing_department.code if m.issuing_department else ""), False
    return {"key": key, "name": row.name, "source": row.source, "code": plan.code, "provider_org": provider_org,
            "provider_name": _org_name(provider_org) if provider_org else "", "available": available,
            "consumers": [{"code": c, "name": n} for c, n in plan.consumers],
            "purpose": _purpose(app)}


def _purpose(app: Application) -> str:
    return f"办理“{app.title}”（{app.ref}）"


def fetch_evidence(app: Application, key: str, user: User) -> ApplicationMaterial:
    """免证办理: with the applicant's consent, fetch material ``key`` from the department that holds it.

    One transaction: the consent (one per application and evidence, given for the requesting department and
    naming every department that uses it), the fetch (the exchange's access-log entry) and every material row
    of the application that the same evidence provides (two items asking for the parents' ID card are served by
    one fetch); a material already fetched that way answers at once, without writing. A refusal or a provider
    that is down commits the consent and the access-log entry and gives ``evidence.*`` (503 for a provider that
    is down, with advice to upload instead); nothing already entered is lost.
    """
    require_editable(app, user)
    rows = _rows_with_catalogue_code(app)
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        raise ApplicationError(f"办件没有材料“{key}”", code="material.unknown", status=404)
    if row.source == Material.Source.APPLICANT:
        raise ApplicationError(f"“{row.name}”须由申请人提供，不能调取", code="material.not_fetchable")
    if row.status == ApplicationMaterial.Status.FETCHED and row.evidence:
        return row
    # the exchange answers for the applicant's id number: every row of the same source and code gets this evidence
    same = [r for r in rows if r.source == row.source and r.status != ApplicationMaterial.Status.FETCHED
            and r.key.split(":")[:2] == row.key.split(":")[:2]]
    if getattr(row, "catalogue_material", None) is None:
        raise _gone(row)
    code = getattr(row, "catalogue_licence_type" if row.source == Material.Source.ISSUED
                   else "catalogue_data_resource", None) or ""
    departments = _departments(app, [c for r in same for c in r.item_codes])
    consumers = [(d.code, d.name) for d in departments]
    purpose = _purpose(app)
    requester = consumers[0][0]
    failure: core_evidence.EvidenceError | None = None
    with transaction.atomic():
        try:
            consent_ref = core_evidence.record_consent(
                subject_id=app.applicant_id_number, source=row.source, code=code, consumer_org=departments[0],
                purpose=f"{purpose}，用于{'、'.join(n for _, n in consumers)}", case_ref=app.ref, user=user)
            ev = core_evidence.fetch(core_evidence.EvidenceRequest(
                source=row.source, code=code, subject_id=app.applicant_id_number, requester_org=requester,
                purpose=purpose, case_ref=app.ref, consent_ref=consent_ref, actor_id=user.pk,
                actor_label=user.get_username()))
        except core_evidence.EvidenceError as exc:  # committed with the consent and the access-log entry
            failure = exc
        else:
            evidence = {"provider_org": ev.provider_org, "title": ev.title, "data": ev.data,
                        "reference": ev.reference, "fetched_at": ev.fetched_at.isoformat(), "code": ev.code,
                        "source": ev.source, "masked_fields": list(ev.masked_fields)}
            _attach_evidence(app, same, evidence, user)
    if isinstance(failure, core_evidence.ProviderUnavailable):
        raise ApplicationError(f"{failure}。您可以改为上传该材料，已填写的内容不会丢失。", code=failure.code,
                               status=503) from failure
    if isinstance(failure, core_evidence.EvidenceNotFound):
        raise ApplicationError(f"{failure}。请改为上传该材料。", code=failure.code, status=404) from failure
    if failure is not None:
        raise ApplicationError(str(failure), code=failure.code, status=403) from failure
    return row


def _attach_evidence(app: Application, rows: list[ApplicationMaterial], evidence: dict[str, Any],
                     user: User) -> None:
    now = timezone.now()
    for r in rows:
        r.evidence, r.status, r.provided_at = evidence, ApplicationMaterial.Status.FETCHED, now
    ApplicationMaterial.objects.bulk_update(rows, ["evidence", "status", "provided_at"])
    ApplicationEvent.objects.bulk_create([ApplicationEvent(
        application=app, kind="evidence", actor_label=log_label(user), data={},
        message=f"已调取“{r.name}”（来自{evidence.get('provider_org', '')}），申请人无需提交"[:300]) for r in rows])


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
