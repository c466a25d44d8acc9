"""Read functions of the credentials context: credentials, holders' wallets, access rules, public keys."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.core import pii
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role

from . import conf, vc
from .errors import NotFound
from .models import Credential, LicenceType, SealKey, StatusList

ISSUER_STAFF_ROLES = (Role.APPROVER, Role.ADMINISTRATOR, Role.SUPERVISOR)


def get_credential(credential_id: Any) -> Credential:
    try:
        pk = credential_id if isinstance(credential_id, uuid.UUID) else uuid.UUID(str(credential_id))
        return Credential.objects.select_related("licence_type", "issuer", "holder_user").get(pk=pk)
    except (Credential.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"证照“{credential_id}”不存在") from None


def get_licence_type(code: str) -> LicenceType:
    try:
        return LicenceType.objects.select_related("issuing_org").get(code=code)
    except LicenceType.DoesNotExist:
        raise NotFound(f"证照类型“{code}”不存在", code="credentials.unknown_licence_type") from None


def get_issuer(code: str) -> Organisation:
    """The issuing organisation (发证机关) with this code."""
    org = Organisation.objects.filter(code=code).first()
    if org is None:
        raise NotFound(f"发证机关“{code}”不存在", code="credentials.organisation_not_found")
    return org


def licence_types() -> QuerySet[LicenceType]:
    return LicenceType.objects.select_related("issuing_org").all()


def credentials_for_holder(user: User) -> QuerySet[Credential]:
    """The holder's wallet (证照夹): credentials whose holder id number is the user's, or linked to the user."""
    if not getattr(user, "is_authenticated", False):
        return Credential.objects.none()
    condition = Q(holder_user=user)
    if user.id_number:
        condition |= pii.matching("holder_id_number", user.id_number)
    return Credential.objects.filter(condition).select_related("licence_type", "issuer").order_by("-issued_at")


def is_holder(user: User, credential: Credential) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if credential.holder_user_id is not None and credential.holder_user_id == user.pk:
        return True
    return bool(user.id_number) and user.id_number == credential.holder_id_number


def is_issuer_staff(user: User, organisation: Organisation) -> bool:
    """Staff of the issuing organisation (or a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if user.kind == User.Kind.STAFF and user.organisation_id == organisation.pk:
        return True
    return any(has_role(user, role, organisation) for role in ISSUER_STAFF_ROLES)


def can_access(user: User, credential: Credential) -> bool:
    """The PDF and VC of a credential are for its holder and for staff of its issuer."""
    return is_holder(user, credential) or is_issuer_staff(user, credential.issuer)


def credentials_issued_for_staff(user: User) -> QuerySet[Credential]:
    if not getattr(user, "is_authenticated", False):
        return Credential.objects.none()
    qs = Credential.objects.select_related("licence_type", "issuer").order_by("-issued_at")
    if user.is_superuser:
        return qs
    org_ids = {o.pk for o in Organisation.objects.all() if is_issuer_staff(user, o)}
    return qs.filter(issuer_id__in=org_ids)


def active_credential_for(licence_type: str, subject_id: str) -> Credential | None:
    """The holder's newest active, unexpired credential of a type (for evidence fetch)."""
    today = timezone.localdate()
    return (
        Credential.objects.filter(pii.matching("holder_id_number", subject_id), licence_type__code=licence_type,
                                  status=Credential.Status.ACTIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today), valid_from__lte=today)
        .select_related("licence_type", "issuer").order_by("-issued_at").first()
    )


def credentials_of_application(application_ref: str) -> QuerySet[Credential]:
    return Credential.objects.filter(application_ref=application_ref).select_related("licence_type", "issuer")


# --- public presentation -----------------------------------------------------------------------------

def mask_name(name: str, kind: str) -> str:
    """Personal names are masked (张三 → 张*); names of legal persons are public."""
    if kind == Credential.HolderKind.LEGAL or not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def is_expired(credential: Credential) -> bool:
    return credential.valid_until is not None and credential.valid_until < timezone.localdate()


def public_view(credential: Credential) -> dict[str, Any]:
    """What anybody who scans the QR code may see: no id numbers, personal names masked."""
    expired = is_expired(credential)
    return {
        "id": str(credential.id),
        "licence_type": credential.licence_type.code,
        "licence_name": credential.licence_type.name,
        "licence_number": credential.licence_number,
        "holder": mask_name(credential.holder_name, credential.holder_kind),
        "holder_kind": credential.get_holder_kind_display(),
        "issuer": credential.issuer.name,
        "issued_at": credential.issued_at,
        "valid_from": credential.valid_from,
        "valid_until": credential.valid_until,
        "status": credential.status,
        "status_label": "已过期" if expired and credential.status == Credential.Status.ACTIVE
        else credential.get_status_display(),
        "status_reason": credential.status_reason if credential.status != Credential.Status.ACTIVE else "",
        "status_changed_at": credential.status_changed_at,
        "expired": expired,
        "valid": credential.status == Credential.Status.ACTIVE and not expired,
    }


# --- keys --------------------------------------------------------------------------------------------

def issuer_id(org: Organisation) -> str:
    return f"{conf.public_url()}/api/credentials/issuers/{org.code}"


def status_list_url(status_list: StatusList | str) -> str:
    list_id = status_list if isinstance(status_list, str) else status_list.id
    return f"{conf.public_url()}/api/credentials/status/{list_id}"


def verify_url(credential_id: Any) -> str:
    return f"{conf.public_url()}/verify/{credential_id}/"


def key_by_kid(kid: str) -> SealKey | None:
    return SealKey.objects.select_related("organisation").filter(kid=kid).first()


def _jwk(key: SealKey) -> dict[str, Any]:
    cert_b64 = ""
    if key.certificate_pem:
        der = x509.load_pem_x509_certificate(key.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
        cert_b64 = base64.b64encode(der).decode()
    jwk = vc.public_jwk(key.public_key_pem, key.kid, certificate_der_b64=cert_b64)
    jwk["iss"] = issuer_id(key.organisation)
    jwk["iat"] = int(key.created_at.timestamp())
    if key.retired_at:
        jwk["retired_at"] = int(key.retired_at.timestamp())
    return jwk


def jwks(organisation: Organisation | None = None) -> dict[str, list[dict[str, Any]]]:
    """Public keys of every organisation (active and retired), with their kid (JWK Set, RFC 7517)."""
    keys = SealKey.objects.select_related("organisation").filter(
        algorithm__in=[SealKey.Algorithm.ED25519, SealKey.Algorithm.P256]).order_by("organisation__code", "created_at")
    if organisation is not None:
        keys = keys.filter(organisation=organisation)
    return {"keys": [_jwk(k) for k in keys]}


def sm2_keys(organisation: Organisation | None = None) -> list[dict[str, Any]]:
    keys = SealKey.objects.select_related("organisation").filter(algorithm=SealKey.Algorithm.SM2)
    if organisation is not None:
        keys = keys.filter(organisation=organisation)
    return [{"kid": k.kid, "alg": "SM2-SM3", "public_key": k.public_key_pem, "created_at": k.created_at,
             "retired_at": k.retired_at} for k in keys]
