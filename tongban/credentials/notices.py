"""Seals on other contexts' documents (告知文书): the organisation's PAdES seal, registered in ``core.sealing``."""

from __future__ import annotations

from django.db import transaction

from tongban.core.models import Organisation
from tongban.core.sealing import Sealed

from . import keys, seal
from .models import SealKey


def seal_document(pdf: bytes, org_code: str, reason: str) -> Sealed:
    """``pdf`` sealed (PAdES B-B) with the seal certificate of ``org_code`` (keys created when missing); unsealed
    when the organisation is unknown."""
    key = (SealKey.objects.select_related("organisation")
           .filter(organisation__code=org_code, algorithm=SealKey.Algorithm.P256, retired_at__isnull=True).first())
    if key is not None and keys.usable(key):
        org = key.organisation
    else:  # first seal of this organisation, or its key can no longer sign: create or replace (audited)
        org = Organisation.objects.filter(code=org_code).first()
        if org is None:
            return Sealed(pdf=pdf, sealed=False)
        with transaction.atomic():
            key = keys.ensure_org_keys(org)[SealKey.Algorithm.P256]
    sealed = seal.sign_pdf(pdf, private_key=keys.load_private_key(key),  # type: ignore[arg-type]
                           certificate_pem=key.certificate_pem, root_certificate=keys.root_ca().certificate,
                           signer_name=org.name, reason=reason, location=org.address or org.name)
    return Sealed(pdf=sealed, sealed=True, signer=org.name, algorithm=f"PAdES {key.algorithm}")
