"""Seals (电子印章) on documents issued by contexts that hold no seal keys (告知文书 of applications, ...).

The seal keys and the PAdES signing live in the credentials context; a context that issues a PDF must not import
it (they are siblings in the layer contract). Instead the context that can seal registers a sealer here at start-up
and issuing contexts call :func:`seal_pdf`. Without a registered sealer (credentials not installed) a document is
issued unsealed and :func:`seal_pdf` says so: ``Sealed.sealed`` is False, never a pretended seal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .registry import Registry


@dataclass(frozen=True)
class Sealed:
    pdf: bytes
    sealed: bool
    signer: str = ""  # the sealing organisation's name
    algorithm: str = ""  # e.g. "PAdES ECDSA-P256"


# sealer(pdf, organisation code, reason) -> Sealed
Sealer = Callable[[bytes, str, str], Sealed]
SEALERS: Registry[str, Sealer] = Registry("电子印章")


def seal_pdf(pdf: bytes, org_code: str, reason: str) -> Sealed:
    """``pdf`` sealed by the organisation ``org_code`` with the registered sealer, or unsealed when there is none
    (or no organisation to seal for)."""
    sealer = SEALERS.find("pdf")
    if sealer is None or not org_code:
        return Sealed(pdf=pdf, sealed=False)
    return sealer(pdf, org_code, reason)
