"""Reactions to platform events (tongban.core.events), connected in CredentialsConfig.ready().

- decision_made (approved, with a result licence type) → issue the e-licence;
- case_closed → build the e-archive (BagIt) under TONGBAN_HOME/archives;
- post_check_failed (告知承诺制 事后核查不通过) → revoke the case's licences.

A failure is logged and audited but never breaks the sender's transaction (the approval stands; the
licence can be issued again from the CLI or admin).
"""

from __future__ import annotations

import logging
from typing import Any

from tongban.core.services import audit

from . import selectors, services
from .errors import CredentialError
from .models import Credential, LicenceType

logger = logging.getLogger(__name__)


def on_decision_made(sender: Any, *, application_ref: str = "", item_code: str = "", outcome: str = "",
                     holder: dict[str, Any] | None = None, result: dict[str, Any] | None = None,
                     organisation_code: str = "", **kwargs: Any) -> Credential | None:
    if outcome != "approved" or not isinstance(result, dict) or not result.get("licence_type"):
        return None
    licence_type = str(result["licence_type"])
    if not LicenceType.objects.filter(code=licence_type).exists():
        logger.warning("decision %s/%s names unknown licence type %s", application_ref, item_code, licence_type)
        audit("credentials.issue_failed", object_type="application", object_id=application_ref,
              reason=f"unknown licence type {licence_type}", detail={"item_code": item_code})
        return None
    existing = Credential.objects.filter(application_ref=application_ref, item_code=item_code,
                                         licence_type__code=licence_type).exclude(application_ref="").first()
    if existing is not None:
        return existing  # the same decision delivered twice
    try:
        return services.issue_credential(
            licence_type, holder or {}, dict(result.get("data") or {}),
            issuer_org=organisation_code or None, application_ref=application_ref, item_code=item_code,
        )
    except CredentialError as exc:
        logger.error("could not issue %s for %s/%s: %s", licence_type, application_ref, item_code, exc)
        audit("credentials.issue_failed", object_type="application", object_id=application_ref,
              reason=exc.message, detail={"item_code": item_code, "licence_type": licence_type, "code": exc.code,
                                          "details": exc.details})
        return None
    except OSError as exc:  # disk full, key directory not writable, ...
        logger.exception("could not issue %s for %s/%s", licence_type, application_ref, item_code)
        audit("credentials.issue_failed", object_type="application", object_id=application_ref, reason=str(exc),
              detail={"item_code": item_code, "licence_type": licence_type, "code": "credentials.storage_error"})
        return None


def on_case_closed(sender: Any, *, application_ref: str = "", case_file: dict[str, Any] | None = None,
                   item_codes: list[str] | None = None, **kwargs: Any) -> None:
    if not application_ref:
        return
    try:
        services.archive_case(application_ref, case_file or {}, item_codes)
    except (CredentialError, OSError) as exc:
        logger.error("could not archive case %s: %s", application_ref, exc)
        audit("credentials.archive_failed", object_type="application", object_id=application_ref, reason=str(exc))


def on_post_check_failed(sender: Any, *, application_ref: str = "", reason: str = "", **kwargs: Any) -> None:
    if not application_ref:
        return
    for credential in selectors.credentials_of_application(application_ref).exclude(status=Credential.Status.REVOKED):
        services.revoke_credential(credential.id, reason=f"告知承诺事后核查不通过：{reason or '未说明原因'}")
