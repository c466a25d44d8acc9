"""Settings of the credentials context, read with defaults (settings.py may override any of them).

- ``TONGBAN_PUBLIC_URL`` (default ``http://127.0.0.1:8000``): base URL printed in QR codes, VC ids and
  status-list URLs.
- ``TONGBAN_SEAL_ALGORITHM`` (``ed25519`` default, or ``sm2``): with ``sm2`` every VC also gets a detached
  SM2/SM3 signature (national-algorithm option, 国密).
- ``TONGBAN_ARCHIVES_DIR`` (default ``TONGBAN_HOME/archives``): where closed cases are archived as BagIt bags.
- ``TONGBAN_ARCHIVE_RETENTION_YEARS`` (default 30): retention when the case does not say.
- ``TONGBAN_CREDENTIAL_TOKEN_MAX_AGE`` (seconds, default 3600): lifetime of signed download links.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from tongban.core import site


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def public_url() -> str:
    """The site's public URL (``tongban.core.site.public_url``)."""
    return site.public_url()


def seal_algorithm() -> str:
    value = _setting("TONGBAN_SEAL_ALGORITHM", "ed25519").strip().lower()
    return "sm2" if value == "sm2" else "ed25519"


def keys_dir() -> Path:
    """Private keys of the credentials context: ``KEYS_DIR/credentials`` (never in the DB or the repository)."""
    return Path(settings.KEYS_DIR) / "credentials"


def archives_dir() -> Path:
    value = getattr(settings, "TONGBAN_ARCHIVES_DIR", None) or os.environ.get("TONGBAN_ARCHIVES_DIR")
    return Path(value) if value else Path(settings.TONGBAN_HOME) / "archives"


def archive_retention_years() -> int:
    return int(_setting("TONGBAN_ARCHIVE_RETENTION_YEARS", "30"))


def token_max_age() -> int:
    return int(_setting("TONGBAN_CREDENTIAL_TOKEN_MAX_AGE", "3600"))


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)
