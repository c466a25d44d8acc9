"""The licence wallet as evidence providers (免证办理): later applications fetch a holder's e-licence
instead of asking for an upload. Registered in ``tongban.core.evidence`` under (ISSUED, licence type)."""

from __future__ import annotations

from django.utils import timezone

from tongban.core import evidence

from . import selectors


class WalletProvider:
    """Returns the subject's active, unexpired credential of one licence type as Evidence."""

    def __init__(self, licence_type: str, organisation_code: str = "") -> None:
        self.licence_type = licence_type
        self.name = f"电子证照库：{licence_type}"
        self.organisation_code = organisation_code

    def fetch(self, request: evidence.EvidenceRequest) -> evidence.Evidence:
        if request.code != self.licence_type:
            raise evidence.EvidenceError(f"证照类型不符：{request.code}", code="credentials.wrong_licence_type")
        if not request.subject_id:
            raise evidence.EvidenceNotFound("缺少持证主体的证件号码")
        credential = selectors.active_credential_for(self.licence_type, request.subject_id)
        if credential is None:
            raise evidence.EvidenceNotFound(f"电子证照库中没有该主体有效的“{self.licence_type}”证照",
                                            code="credentials.no_active_credential")
        data = dict(credential.data)
        if request.fields:
            data = {k: v for k, v in data.items() if k in request.fields}
        return evidence.Evidence(
            source=evidence.ISSUED, code=self.licence_type, provider_org=credential.issuer.code,
            title=f"{credential.licence_type.name}（{credential.licence_number}）", data=data,
            fetched_at=timezone.now(), reference=str(credential.id),
        )


def register_wallet_provider(licence_type: str, organisation_code: str = "", *,
                             replace: bool = False) -> WalletProvider:
    """Offer the wallet as the provider of ``licence_type``; a licence type saved again replaces its provider
    on purpose (``replace=True``), any other second provider for the type is refused."""
    provider = WalletProvider(licence_type, organisation_code)
    evidence.register_provider(evidence.ISSUED, licence_type, provider, replace=replace)
    return provider


def register_builtin_providers() -> None:
    """A wallet provider for every registered licence type (at start-up)."""
    from .licence_types import LICENCE_TYPES

    for code, spec in LICENCE_TYPES.items():
        register_wallet_provider(code, spec["issuing_org"])
