"""Material files: type and size checks, a virus-scan hook, content-addressed storage outside the web root.

Files live under ``MEDIA_ROOT/blobs/<aa>/<bb>/<sha256>`` (``MEDIA_ROOT`` is under ``TONGBAN_HOME``; no URL
serves it directly: downloads go through views that check access). Uploading the same content twice
reuses the stored file.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from .errors import ApplicationError
from .models import StoredFile

# Accepted material types: the file's first bytes must match its declared type.
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/ofd": (b"PK\x03\x04",),  # OFD (GB/T 33190) is a ZIP container
}
EXTENSIONS = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
              ".ofd": "application/ofd"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# The EICAR anti-virus test signature: the built-in scanner refuses it, as every real scanner does.
_EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

Scanner = Callable[[Path], str | None]


def builtin_scanner(path: Path) -> str | None:
    """Return a finding (str) when the file is infected, else None. Replace with ClamAV etc. in production."""
    with path.open("rb") as fh:
        data = fh.read(1024 * 1024)
    return "EICAR-Test-Signature" if _EICAR in data else None


def get_scanner() -> Scanner:
    """The virus scanner named by settings.TONGBAN_VIRUS_SCANNER (dotted path), else the built-in one."""
    dotted = getattr(settings, "TONGBAN_VIRUS_SCANNER", "")
    if not dotted:
        return builtin_scanner
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def blob_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "blobs"


def blob_path(sha256: str) -> Path:
    return blob_root() / sha256[:2] / sha256[2:4] / sha256


def _extension(name: str) -> str:
    """The lower-case extension of an upload's file name (``.pdf``), "" when it has none."""
    return os.path.splitext(name.replace("\\", "/").rsplit("/", 1)[-1])[1].lower()


def _content_type(name: str, declared: str | None) -> str:
    ext = _extension(name)
    ctype = (declared or "").split(";")[0].strip().lower() or EXTENSIONS.get(ext, "")
    if ctype == "application/octet-stream" and ext in EXTENSIONS:
        ctype = EXTENSIONS[ext]
    return ctype


def _check_extension(name: str, ctype: str) -> None:
    """Refuse a name whose extension is not an allowed one or names another type than ``ctype``."""
    ext = _extension(name)
    if ext not in EXTENSIONS:
        allowed = list(EXTENSIONS)
        what = f"的扩展名“{ext}”不在允许之列" if ext else "没有扩展名"
        raise ApplicationError(f"文件“{name[:100]}”{what}，请上传扩展名为 {'、'.join(allowed[:-1])} 或 {allowed[-1]} 的文件",
                               code="file.extension_not_allowed", detail={"extension": ext, "allowed": allowed})
    if EXTENSIONS[ext] != ctype:
        raise ApplicationError(f"文件“{name[:100]}”的扩展名“{ext}”与文件类型“{ctype}”不符",
                               code="file.extension_mismatch", detail={"extension": ext, "content_type": ctype})


def store(chunks: Iterable[bytes], *, name: str, content_type: str | None = None,
          max_bytes: int | None = None) -> StoredFile:
    """Check and store an upload; return the (possibly already existing) ``StoredFile``.

    The declared type, the first bytes and the file name's extension must all name the same allowed type.
    Raises ApplicationError with codes ``file.type_not_allowed``, ``file.extension_not_allowed`` (the name does
    not end in an allowed extension), ``file.extension_mismatch`` (the extension names another type),
    ``file.too_large``, ``file.empty``, ``file.type_mismatch`` or ``file.infected``; nothing is stored then.
    """
    limit: int = max_bytes or int(getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))
    ctype = _content_type(name, content_type)
    if ctype not in ALLOWED_TYPES:
        raise ApplicationError(f"不支持的文件类型“{ctype or name}”，请上传 PDF、JPG、PNG 或 OFD 文件", code="file.type_not_allowed")
    blob_root().mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=blob_root(), prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ApplicationError(f"文件超过 {limit // (1024 * 1024)} MB 的大小限制", code="file.too_large")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApplicationError("文件为空", code="file.empty")
        with tmp.open("rb") as fh:
            head = fh.read(16)
        if not any(head.startswith(magic) for magic in ALLOWED_TYPES[ctype]):
            raise ApplicationError(f"文件内容与类型“{ctype}”不符", code="file.type_mismatch")
        _check_extension(name, ctype)
        finding = get_scanner()(tmp)
        if finding:
            raise ApplicationError(f"文件未通过病毒扫描（{finding}）", code="file.infected")
        sha = digest.hexdigest()
        target = blob_path(sha)
        new_content = not target.exists()
        if new_content:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            target.chmod(0o640)
        # content already in the blob store usually has its row: look it up first; new content (a fresh upload,
        # a notice) is inserted straight away (the unique sha256 still catches a row stored meanwhile)
        existing = None if new_content else StoredFile.objects.filter(sha256=sha).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                return StoredFile.objects.create(sha256=sha, size=size, content_type=ctype, original_name=name[:255])
        except IntegrityError:  # the same content stored concurrently
            return StoredFile.objects.get(sha256=sha)
    finally:
        if tmp.exists():
            tmp.unlink()


def store_bytes(data: bytes, *, name: str, content_type: str) -> StoredFile:
    return store([data], name=name, content_type=content_type)


def open_file(stored: StoredFile):
    return blob_path(stored.sha256).open("rb")
