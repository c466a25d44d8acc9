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

from django.db import transaction

from tongban.catalog.models import ServiceItem
from tongban.core.services import audit

from . import selectors, services
from .errors import CredentialError
from .models import Credential, LicenceType

logger = logging.getLogger(__name__)


def licence_type_for_result(result_name: str, item_code: str = "") -> LicenceType | None:
    """The licence type whose name the result name contains (营业执照, 《食品经营许可证》...), looking up the
    item's result name in the catalogue when the decision does not carry one; the longest match wins."""
    if not result_name and item_code:
        result_name = ServiceItem.objects.filter(code=item_code).values_list("result_name", flat=True).first() or ""
    if not result_name:
        return None
    matches = [t for t in LicenceType.objects.all() if t.name and t.name in result_name]
    return max(matches, key=lambda t: len(t.name)) if matches else None


def licence_data(licence_type: LicenceType, data: Any) -> dict[str, Any]:
    """The licence's fields out of the application's (merged) form data: keys the type's schema does not
    know are left out, so a bundle form with many other fields still yields a valid licence."""
    if not isinstance(data, dict):
        return {}
    known = (licence_type.schema or {}).get("properties") or {}
    if not known or (licence_type.schema or {}).get("additionalProperties", True) is not False:
        return dict(data)
    return {k: v for k, v in data.items() if k in known and v not in (None, "")}


def on_decision_made(sender: Any, *, application_ref: str = "", item_code: str = "", outcome: str = "",
                     holder: dict[str, Any] | None = None, result: dict[str, Any] | None = None,
                     organisation_code: str = "", **kwargs: Any) -> Credential | None:
    if outcome != "approved" or not isinstance(result, dict):
        return None
    licence_type = str(result.get("licence_type") or "")
    if "licence_type" in result and not licence_type:
        return None  # the catalogue says this item issues no e-licence
    if not licence_type:
        found = licence_type_for_result(str(result.get("result_name") or ""), item_code)
        if found is None:
            return None  # a result that is no e-licence (a filing, a notice, ...)
        licence_type = found.code
    lt = LicenceType.objects.filter(code=licence_type).first()
    if lt is None:
        logger.warning("decision %s/%s names unknown licence type %s", application_ref, item_code, licence_type)
        audit("credentials.issue_failed", object_type="application", object_id=application_ref,
              reason=f"unknown licence type {licence_type}", detail={"item_code": item_code})
        return None
    existing = Credential.objects.filter(application_ref=application_ref, item_code=item_code,
                                         licence_type__code=licence_type).exclude(application_ref="").first()
    if existing is not None:
        return existing  # the same decision delivered twice
    try:
        with transaction.atomic():  # a savepoint: a failed issuance never poisons the sender's transaction
            return services.issue_credential(
                lt, holder or {}, licence_data(lt, result.get("data")),
                issuer_org=organisation_code or None, application_ref=application_ref, item_code=item_code,
            )
    except CredentialError as exc:
        logger.error("could not issue %s for %s/%s: %s", licence_type, application_ref, item_code, exc)
        audit("credentials.issue_failed", object_type="application", object_id=application_ref,
              reason=exc.message, detail={"item_code": item_code, "licence_type": licence_type, "code": exc.code,
                                          "detail": exc.detail})
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
        with transaction.atomic():
            services.archive_case(application_ref, case_file or {}, item_codes)
    except (CredentialError, OSError) as exc:
        logger.error("could not archive case %s: %s", application_ref, exc)
        audit("credentials.archive_failed", object_type="application", object_id=application_ref, reason=str(exc))


def on_post_check_failed(sender: Any, *, application_ref: str = "", reason: str = "", **kwargs: Any) -> None:
    if not application_ref:
        return
    for credential in selectors.credentials_of_application(application_ref).exclude(status=Credential.Status.REVOKED):
        services.revoke_credential(credential.id, reason=f"告知承诺事后核查不通过：{reason or '未说明原因'}")
