"""Write services of the credentials context: licence types, issuance, status changes, status lists,
download tokens and verification records.

Issuance (:func:`issue_credential`) validates the data against the licence type's JSON Schema, numbers the
licence, reserves a place in the issuer's status lists, renders the PDF (Chinese text, QR code), seals it
(PAdES), builds the W3C VC 2.0 and signs it as a compact JWS, optionally adds an SM2 signature, and stores
the files under ``MEDIA_ROOT/credentials/``. All in one transaction: a failure leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core import events, schema_messages
from tongban.core.models import Organisation, User
from tongban.core.services import audit

from . import bitstring, conf, keys, render, seal, selectors, sm2, vc
from .errors import CredentialError, InvalidData, InvalidTransition, NotFound
from .licence_types import LICENCE_TYPES
from .models import (
    ArchiveRecord,
    Credential,
    CredentialEvent,
    LicenceCounter,
    LicenceType,
    SealKey,
    StatusList,
)

logger = logging.getLogger(__name__)

TOKEN_SALT = "tongban.credentials.download"


# --- licence types -----------------------------------------------------------------------------------

def ensure_licence_types(issuers: dict[str, str] | None = None) -> list[LicenceType]:
    """Create or update the registered licence types (idempotent) and offer them as evidence providers.

    ``issuers`` maps a type code to the organisation code of its default issuer (发证机关); a type neither it nor
    its spec names an issuer for keeps the one it has (set in the admin)."""
    from .providers import register_wallet_provider

    result = []
    for code, spec in LICENCE_TYPES.items():
        org_code = (issuers or {}).get(code) or spec["issuing_org"]
        fields = {k: v for k, v in spec.items() if k not in ("code", "issuing_org")}
        if org_code:
            fields["issuing_org"] = Organisation.objects.filter(code=org_code).first()
        licence_type, _ = LicenceType.objects.update_or_create(code=code, defaults=fields)
        org = licence_type.issuing_org
        register_wallet_provider(code, org.code if org else "", replace=True)  # the type as saved now
        result.append(licence_type)
    return result


def upsert_licence_type(code: str, name: str, *, schema: dict[str, Any], vc_type: str, number_prefix: str,
                        issuing_org: Organisation | None = None, validity_years: int | None = None,
                        **fields: Any) -> LicenceType:
    """Create or change a licence type (its schema must be a valid JSON Schema)."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidData(f"证照类型“{code}”的数据模式无效：{exc.message}", code="credentials.invalid_schema") from None
    from .providers import register_wallet_provider

    licence_type, _ = LicenceType.objects.update_or_create(code=code, defaults={
        "name": name, "schema": schema, "vc_type": vc_type, "number_prefix": number_prefix,
        "issuing_org": issuing_org, "validity_years": validity_years, **fields})
    register_wallet_provider(code, issuing_org.code if issuing_org else "", replace=True)
    return licence_type


# --- holders -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    """The holder of a credential (持证主体): a natural person (ID number) or a legal person (credit code)."""

    kind: str
    name: str
    id_number: str
    user: User | None = None

    @classmethod
    def of(cls, value: Holder | dict[str, Any] | User) -> Holder:
        if isinstance(value, Holder):
            return value
        if isinstance(value, User):
            kind = Credential.HolderKind.LEGAL if value.kind == User.Kind.LEGAL_PERSON else Credential.HolderKind.NATURAL
            return cls(kind, value.display_name or value.username, value.id_number, value)
        if not isinstance(value, dict):
            raise InvalidData("持证主体信息格式错误", code="credentials.invalid_holder")
        user = None
        user_id = value.get("user_id") or value.get("user")
        if isinstance(user_id, User):
            user = user_id
        elif user_id:
            user = User.objects.filter(pk=user_id).first()
        kind = str(value.get("kind") or "").strip()
        id_number = str(value.get("id_number") or value.get("credit_code") or "").strip()
        name = str(value.get("name") or "").strip()
        if user is not None:
            id_number = id_number or user.id_number
            name = name or user.display_name or user.username
            if not kind:
                kind = "legal" if user.kind == User.Kind.LEGAL_PERSON else "natural"
        if kind in ("legal_person", "company", "法人"):
            kind = "legal"
        if kind in ("natural_person", "person", "自然人", ""):
            kind = "natural" if not value.get("credit_code") else "legal"
        return cls(kind, name, id_number, user)


def _check_holder(holder: Holder, licence_type: LicenceType) -> None:
    if holder.kind not in Credential.HolderKind.values:
        raise InvalidData(f"持证主体类型“{holder.kind}”无效（应为 natural 或 legal）", code="credentials.invalid_holder")
    if not holder.name:
        raise InvalidData("缺少持证主体名称", code="credentials.invalid_holder")
    if not holder.id_number or len(holder.id_number) > 32:
        raise InvalidData("缺少持证主体的证件号码或统一社会信用代码", code="credentials.invalid_holder")
    if licence_type.holder_kind != LicenceType.HolderKind.ANY and holder.kind != licence_type.holder_kind:
        raise InvalidData(
            f"{licence_type.name}只能核发给{licence_type.get_holder_kind_display()}",
            code="credentials.holder_kind_mismatch")


# --- data --------------------------------------------------------------------------------------------

def _require_object(data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidData("证照数据必须是 JSON 对象",
                          detail=[{"field": "", "label": "", "message": "须为 JSON 对象（{...}）"}])


def validate_data(licence_type: LicenceType, data: Any) -> dict[str, Any]:
    """Validate ``data`` against the type's JSON Schema; InvalidData lists every problem (in Chinese, from
    :mod:`tongban.core.schema_messages`) as ``{field, label, message}``."""
    _require_object(data)
    validator = jsonschema.Draft202012Validator(licence_type.schema, format_checker=jsonschema.FormatChecker())
    problems = [{"field": p.field, "label": licence_type.field_labels.get(str(p.path[0]), p.field) if p.path else "",
                 "message": p.message} for p in schema_messages.problems(validator, data)]
    if problems:
        summary = "；".join(f"{p['label'] or p['field']}：{p['message']}" if p["field"] else p["message"]
                           for p in problems)
        raise InvalidData(f"{licence_type.name}数据不符合要求：{summary}", detail=problems)
    return data


def _fill_holder_fields(licence_type: LicenceType, holder: Holder, data: dict[str, Any]) -> dict[str, Any]:
    filled = dict(data)
    for field, source in (licence_type.holder_fields or {}).items():
        if filled.get(field) in (None, ""):
            filled[field] = holder.name if source == "name" else holder.id_number
    return filled


# --- numbering and status lists -----------------------------------------------------------------------

def _next_number(licence_type: LicenceType, org: Organisation, year: int) -> str:
    for _attempt in range(3):
        counter = LicenceCounter.objects.select_for_update().filter(
            licence_type=licence_type, organisation=org, year=year).first()
        if counter is None:
            try:
                with transaction.atomic():
                    counter = LicenceCounter.objects.create(licence_type=licence_type, organisation=org, year=year)
            except IntegrityError:
                continue  # created concurrently: lock it on the next attempt
            counter = LicenceCounter.objects.select_for_update().get(pk=counter.pk)
        counter.last += 1
        counter.save(update_fields=["last"])
        return f"{licence_type.number_prefix}-{org.code.upper()}-{year}-{counter.last:06d}"
    raise CredentialError("证照编号分配冲突，请重试", code="credentials.numbering_conflict", status=503)


def _status_list(org: Organisation, purpose: str, sequence: int) -> StatusList:
    list_id = f"{org.code}-{purpose}-{sequence}"
    status_list = StatusList.objects.select_for_update().filter(pk=list_id).first()
    if status_list is None:
        try:
            with transaction.atomic():
                StatusList.objects.create(id=list_id, organisation=org, purpose=purpose, sequence=sequence,
                                          bitstring=bitstring.empty(StatusList.SIZE))
        except IntegrityError:
            pass
        status_list = StatusList.objects.select_for_update().get(pk=list_id)
    return status_list


def _allocate_status_index(org: Organisation) -> tuple[StatusList, StatusList, int]:
    """A free position, the same in the issuer's revocation list and its suspension list."""
    sequence = (StatusList.objects.filter(organisation=org, purpose=StatusList.Purpose.REVOCATION)
                .order_by("-sequence").values_list("sequence", flat=True).first()) or 1
    revocation = _status_list(org, StatusList.Purpose.REVOCATION, sequence)
    if revocation.next_index >= StatusList.SIZE:
        revocation = _status_list(org, StatusList.Purpose.REVOCATION, sequence + 1)
    suspension = _status_list(org, StatusList.Purpose.SUSPENSION, revocation.sequence)
    index = revocation.next_index
    revocation.next_index = index + 1
    revocation.save(update_fields=["next_index", "updated_at"])
    suspension.next_index = index + 1
    suspension.save(update_fields=["next_index", "updated_at"])
    return revocation, suspension, index


def _set_status_bit(status_list: StatusList | None, index: int | None, value: bool) -> None:
    if status_list is None or index is None:
        return
    locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
    locked.bitstring = bitstring.set_bit(bytes(locked.bitstring), index, value)
    locked.save(update_fields=["bitstring", "updated_at"])


# --- the VC ------------------------------------------------------------------------------------------

def _datetime_str(value: datetime) -> str:
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _day_end(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time(23, 59, 59)))


def build_vc(credential: Credential) -> dict[str, Any]:
    """The W3C VC 2.0 of ``credential`` (unsigned JSON-LD)."""
    lt = credential.licence_type
    statuses = []
    for purpose, status_list in (("revocation", credential.revocation_list),
                                 ("suspension", credential.suspension_list)):
        if status_list is None:
            continue
        url = selectors.status_list_url(status_list)
        statuses.append({
            "id": f"{url}#{credential.status_list_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(credential.status_list_index),
            "statusListCredential": url,
        })
    payload: dict[str, Any] = {
        "@context": [vc.VC_CONTEXT],
        "id": f"urn:uuid:{credential.id}",
        "type": ["VerifiableCredential", lt.vc_type],
        "name": lt.name,
        "description": f"{credential.issuer.name}核发的{lt.name}（电子证照）",
        "issuer": {"id": selectors.issuer_id(credential.issuer), "name": credential.issuer.name},
        "validFrom": _datetime_str(_day_start(credential.valid_from)),
        "credentialSubject": {
            "type": lt.vc_type.removesuffix("Credential") or lt.vc_type,
            "holder": {"kind": credential.holder_kind, "name": credential.holder_name,
                       "idNumber": credential.holder_id_number},
            "licenceType": lt.code,
            "licenceName": lt.name,
            "licenceNumber": credential.licence_number,
            "issuedAt": _datetime_str(credential.issued_at),
            "data": credential.data,
        },
        "credentialStatus": statuses,
    }
    if credential.valid_until:
        payload["validUntil"] = _datetime_str(_day_end(credential.valid_until))
    if credential.item_code:
        payload["credentialSubject"]["itemCode"] = credential.item_code
    if credential.application_ref:
        payload["credentialSubject"]["applicationRef"] = credential.application_ref
    return payload


def _valid_until(licence_type: LicenceType, valid_from: date) -> date | None:
    if not licence_type.validity_years:
        return None
    try:
        end = valid_from.replace(year=valid_from.year + licence_type.validity_years)
    except ValueError:  # 29 February
        end = valid_from.replace(year=valid_from.year + licence_type.validity_years, day=28)
    return end - timedelta(days=1)


def _licence_view(credential: Credential, seal_name: str) -> render.LicenceView:
    lt = credential.licence_type
    legal = credential.holder_kind == Credential.HolderKind.LEGAL
    skip = set((lt.holder_fields or {}).keys())
    fields = [(lt.field_labels.get(k, k), render.format_value(v)) for k, v in credential.data.items() if k not in skip]
    return render.LicenceView(
        credential_id=str(credential.id), title=lt.name, licence_number=credential.licence_number,
        holder_label="名称" if legal else "持证人", holder_name=credential.holder_name,
        holder_id_label="统一社会信用代码" if legal else "公民身份号码", holder_id_number=credential.holder_id_number,
        fields=fields, issuer_name=credential.issuer.name, issued_on=timezone.localdate(credential.issued_at),
        valid_from=credential.valid_from, valid_until=credential.valid_until,
        verify_url=selectors.verify_url(credential.id), seal_name=seal_name,
    )


def _write_file(relative: str, content: bytes) -> Path:
    path = conf.media_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# --- issuance ----------------------------------------------------------------------------------------

def issue_credential(licence_type: str | LicenceType, holder: Holder | dict[str, Any] | User, data: dict[str, Any],
                     issuer_org: str | Organisation | None = None, application_ref: str = "", item_code: str = "",
                     actor: User | None = None, valid_from: date | None = None) -> Credential:
    """Issue an e-licence: sealed PDF, VC (JWS) and status-list entry, stored in one transaction."""
    lt = licence_type if isinstance(licence_type, LicenceType) else selectors.get_licence_type(licence_type)
    if issuer_org is None or issuer_org == "":
        issuer = lt.issuing_org
        if issuer is None:
            raise InvalidData(f"{lt.name}没有默认发证机关，请指明发证机关", code="credentials.no_issuer")
    elif isinstance(issuer_org, Organisation):
        issuer = issuer_org
    else:
        issuer = selectors.get_issuer(issuer_org)
    holder = Holder.of(holder)
    _check_holder(holder, lt)
    _require_object(data)
    data = validate_data(lt, _fill_holder_fields(lt, holder, data))

    written: list[Path] = []
    try:
        with transaction.atomic():
            org_keys = keys.ensure_org_keys(issuer)
            now = timezone.now()
            start = valid_from or timezone.localdate(now)
            number = _next_number(lt, issuer, start.year)
            revocation, suspension, index = _allocate_status_index(issuer)
            credential = Credential.objects.create(
                licence_number=number, licence_type=lt, holder_kind=holder.kind, holder_name=holder.name,
                holder_id_number=holder.id_number, holder_user=holder.user, issuer=issuer, data=data,
                issued_at=now, valid_from=start, valid_until=_valid_until(lt, start),
                revocation_list=revocation, suspension_list=suspension, status_list_index=index,
                application_ref=application_ref, item_code=item_code,
            )
            # the VC, secured as a compact JWS with the issuer's Ed25519 key
            vc_key = org_keys[SealKey.Algorithm.ED25519]
            token = vc.sign_compact(build_vc(credential), keys.load_private_key(vc_key), vc_key.kid)  # type: ignore[arg-type]
            credential.vc_jws, credential.vc_kid = token, vc_key.kid
            sm2_key = org_keys.get(SealKey.Algorithm.SM2)
            if sm2_key is not None:
                _header, _payload, raw = vc.split(token)
                credential.sm2_signature = sm2.sign(keys.load_private_key(sm2_key), sm2_key.public_key_pem, raw)  # type: ignore[arg-type]
                credential.sm2_kid = sm2_key.kid
            # the PDF, sealed (PAdES) with the issuer's seal certificate
            pdf_key = org_keys[SealKey.Algorithm.P256]
            unsigned = render.render_pdf(_licence_view(credential, issuer.name))
            sealed = seal.sign_pdf(unsigned, private_key=keys.load_private_key(pdf_key),  # type: ignore[arg-type]
                                   certificate_pem=pdf_key.certificate_pem,
                                   root_certificate=keys.root_ca().certificate,
                                   signer_name=issuer.name, location=issuer.address or issuer.name)
            base = f"credentials/{start.year}/{credential.id}"
            written.append(_write_file(f"{base}.pdf", sealed))
            written.append(_write_file(f"{base}.vc.jwt", token.encode()))
            credential.pdf_path = f"{base}.pdf"
            credential.pdf_sha256 = hashlib.sha256(sealed).hexdigest()
            credential.save()
            CredentialEvent.objects.create(
                credential=credential, kind=CredentialEvent.Kind.ISSUED, actor=_user(actor),
                actor_label=_label(actor), detail={"licence_number": number, "kid": vc_key.kid,
                                                   "seal_kid": pdf_key.kid, "application_ref": application_ref})
            audit("credentials.issue", actor=actor, obj=credential,
                  detail={"licence_type": lt.code, "licence_number": number, "issuer": issuer.code,
                          "application_ref": application_ref})
            payload = {"credential_id": str(credential.id), "licence_type": lt.code,
                       "holder_id_number": holder.id_number, "status": credential.status,
                       "application_ref": application_ref, "licence_name": lt.name, "number": number,
                       "valid_until": (f"{credential.valid_until.year}年{credential.valid_until.month}月"
                                       f"{credential.valid_until.day}日" if credential.valid_until else "长期")}
            transaction.on_commit(lambda: events.credential_issued.send(sender=Credential, **payload))
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return credential


def _user(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _label(actor: User | None) -> str:
    user = _user(actor)
    return str(user) if user is not None else "system"


# --- status ------------------------------------------------------------------------------------------

ACTIONS = {
    "suspend": (CredentialEvent.Kind.SUSPENDED, {Credential.Status.ACTIVE}, Credential.Status.SUSPENDED),
    "reinstate": (CredentialEvent.Kind.REINSTATED, {Credential.Status.SUSPENDED}, Credential.Status.ACTIVE),
    "revoke": (CredentialEvent.Kind.REVOKED, {Credential.Status.ACTIVE, Credential.Status.SUSPENDED},
               Credential.Status.REVOKED),
}


VERBS = {"suspend": "暂停", "reinstate": "恢复", "revoke": "撤销"}


@transaction.atomic
def change_status(credential_id: Any, action: str, *, reason: str, actor: User | None = None) -> Credential:
    """Suspend, reinstate or revoke a credential (with a reason); revocation is final.

    The status lists change in the same transaction, so every verification after the commit sees it.
    """
    if action not in ACTIONS:
        raise InvalidTransition(f"未知操作“{action}”", code="credentials.unknown_action", status=400)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData("请填写原因", code="credentials.reason_required")
    selectors.get_credential(credential_id)  # NotFound first
    credential = Credential.objects.select_for_update().select_related("licence_type", "issuer").get(pk=credential_id)
    kind, allowed, target = ACTIONS[action]
    if credential.status not in allowed:
        if credential.status == Credential.Status.REVOKED:
            raise InvalidTransition("证照已撤销，撤销不可恢复", code="credentials.already_revoked")
        raise InvalidTransition(f"证照当前状态为“{credential.get_status_display()}”，不能{VERBS[action]}")
    if action == "revoke":
        _set_status_bit(credential.revocation_list, credential.status_list_index, True)
        _set_status_bit(credential.suspension_list, credential.status_list_index, False)
    else:
        _set_status_bit(credential.suspension_list, credential.status_list_index, action == "suspend")
    credential.status = target
    credential.status_reason = reason
    credential.status_changed_at = timezone.now()
    credential.save(update_fields=["status", "status_reason", "status_changed_at"])
    CredentialEvent.objects.create(credential=credential, kind=kind, actor=_user(actor), actor_label=_label(actor),
                                   reason=reason)
    audit(f"credentials.{action}", actor=actor, obj=credential, reason=reason,
          detail={"licence_number": credential.licence_number})
    payload = {"credential_id": str(credential.id), "licence_type": credential.licence_type.code,
               "holder_id_number": credential.holder_id_number, "status": credential.status,
               "application_ref": credential.application_ref}
    transaction.on_commit(lambda: events.credential_status_changed.send(sender=Credential, **payload))
    return credential


def suspend_credential(credential_id: Any, *, reason: str, actor: User | None = None) -> Credential:
    return change_status(credential_id, "suspend", reason=reason, actor=actor)


def reinstate_credential(credential_id: Any, *, reason: str, actor: User | None = None) -> Credential:
    return change_status(credential_id, "reinstate", reason=reason, actor=actor)


def revoke_credential(credential_id: Any, *, reason: str, actor: User | None = None) -> Credential:
    return change_status(credential_id, "revoke", reason=reason, actor=actor)


# --- status list credentials -------------------------------------------------------------------------

def status_list_credential(list_id: str) -> tuple[dict[str, Any], str]:
    """The status list as a W3C BitstringStatusListCredential, and its compact JWS (built fresh each time)."""
    status_list = StatusList.objects.select_related("organisation").filter(pk=list_id).first()
    if status_list is None:
        raise NotFound(f"状态列表“{list_id}”不存在", code="credentials.status_list_not_found")
    url = selectors.status_list_url(status_list)
    payload = {
        "@context": [vc.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": selectors.issuer_id(status_list.organisation), "name": status_list.organisation.name},
        "validFrom": _datetime_str(timezone.now()),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": bitstring.encode(bytes(status_list.bitstring)),
        },
    }
    key = keys.ensure_org_keys(status_list.organisation)[SealKey.Algorithm.ED25519]
    return payload, vc.sign_compact(payload, keys.load_private_key(key), key.kid)  # type: ignore[arg-type]


# --- download tokens ---------------------------------------------------------------------------------

def download_token(credential: Credential) -> str:
    """A signed, short-lived token that opens the credential's PDF/VC (wallet links that can be shared)."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(str(credential.id))


def check_download_token(token: str, credential: Credential) -> bool:
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=conf.token_max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return value == str(credential.id)


# --- verification records ----------------------------------------------------------------------------

def record_verification(credential_id: str, *, method: str, valid: bool, code: str,
                        actor: User | None = None) -> None:
    """Keep a 'verified' event on the credential a verification named (if it exists)."""
    if not credential_id:
        return
    try:
        credential = selectors.get_credential(credential_id)
    except NotFound:
        return
    CredentialEvent.objects.create(credential=credential, kind=CredentialEvent.Kind.VERIFIED, actor=_user(actor),
                                   actor_label=_label(actor) if _user(actor) else "public",
                                   detail={"method": method, "valid": valid, "code": code})


# --- e-archive ---------------------------------------------------------------------------------------

def _credential_results(application_ref: str) -> list[dict[str, Any]]:
    results = []
    for credential in selectors.credentials_of_application(application_ref):
        entry: dict[str, Any] = {
            "credential_id": str(credential.id), "licence_type": credential.licence_type.code,
            "licence_name": credential.licence_type.name, "licence_number": credential.licence_number,
            "issuer": credential.issuer.code, "status": credential.status, "vc": credential.vc_jws,
            "filename": f"{credential.licence_number}.pdf",
        }
        if credential.pdf_path:
            entry["path"] = credential.pdf_path
        if credential.sm2_signature:
            entry["sm2_signature"] = credential.sm2_signature
        results.append(entry)
    return results


def archive_case(application_ref: str, case_file: dict[str, Any], item_codes: list[str] | None = None,
                 *, retention_years: int | None = None, actor: User | None = None) -> ArchiveRecord:
    """Archive a closed case under ``TONGBAN_HOME/archives`` (idempotent: one archive per application)."""
    from .archive import build_archive, safe_name, verify_archive

    existing = ArchiveRecord.objects.filter(application_ref=application_ref).first()
    if existing is not None:
        return existing
    case = dict(case_file or {})
    case["application_ref"] = application_ref
    case["item_codes"] = list(item_codes or case.get("item_codes") or [])
    known = {str(r.get("credential_id")) for r in case.get("results") or [] if isinstance(r, dict)}
    extra = [r for r in _credential_results(application_ref) if r["credential_id"] not in known]
    case["results"] = [r for r in case.get("results") or [] if isinstance(r, dict)] + extra
    years = retention_years or int(case.get("retention_years") or 0) or conf.archive_retention_years()
    name = application_ref
    if (conf.archives_dir() / safe_name(application_ref)).exists():  # a bag without a record: keep it, add one
        name = f"{application_ref}-{timezone.now():%Y%m%d%H%M%S%f}"
    path = build_archive(case, years, conf.archives_dir(), name=name)
    check = verify_archive(path)
    record = ArchiveRecord.objects.create(
        application_ref=application_ref, path=str(path), item_codes=case["item_codes"],
        file_count=check.file_count, payload_oxum=str(check.info.get("Payload-Oxum", "")),
        retention_until=date.fromisoformat(str(check.info["Tongban-Retention-Until"])),
    )
    audit("credentials.archive", actor=actor, obj=record, detail={"path": str(path), "files": check.file_count})
    return record


def build_bag(case_file: dict[str, Any], dest: Path | str, *, retention_years: int | None = None) -> Path:
    """Pack any context's case file (the archive's case shape: ``application_ref``, ``materials``, ``events``, ...)
    as a BagIt bag AT ``dest`` (absent or an empty directory) and check its fixity; no archive record is kept.
    Used by enforcement's case-file export (``tongban enforcement export CASE_NO DIR``)."""
    import shutil
    import tempfile

    from .archive import build_archive, verify_archive

    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidData(f"目标目录已存在且不为空：{target}", code="credentials.archive_exists", status=409)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bag-", dir=target.parent))
    try:
        years = retention_years or conf.archive_retention_years()
        built = build_archive(dict(case_file), years, staging, name=target.name)
        if target.exists():
            target.rmdir()
        built.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    check = verify_archive(target)
    if not check.valid:  # pragma: no cover - a freshly built bag is valid unless the disk failed
        raise InvalidData("档案包校验失败：" + "；".join(check.problems), code="credentials.archive_invalid")
    return target
