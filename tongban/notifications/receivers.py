"""Reactions to platform events (``tongban.core.events``), connected in ``NotificationsConfig.ready()``:
``credential_issued`` → the holder is told their e-licence is in the wallet (证照夹)."""

from __future__ import annotations

import logging
from typing import Any

from tongban.core import pii
from tongban.core.models import User

from . import messages, services

log = logging.getLogger("tongban.notifications")


def on_credential_issued(sender: Any, *, credential_id: str = "", licence_type: str = "", holder_id_number: str = "",
                         status: str = "", licence_name: str = "", number: str = "", valid_until: str = "",
                         **kwargs: Any) -> None:
    if not holder_id_number or not credential_id:
        return
    holder = User.objects.filter(pii.matching("id_number", holder_id_number)).order_by("pk").first()
    if holder is None:
        return  # a holder without an account learns of it at the window
    try:
        services.notify(holder, messages.LICENCE_ISSUED, {
            "licence_name": licence_name or licence_type, "number": number or credential_id,
            "valid_until": valid_until or "长期"}, link="/credentials/wallet/", ref=credential_id[:80],
            dedupe_key=f"credential-issued:{credential_id}"[:200])
    except Exception:  # noqa: BLE001 - a message must never undo the licence
        log.exception("notifications: licence %s not told to its holder", credential_id)
