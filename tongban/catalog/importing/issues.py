"""Problems found in an import file (``FILE:LINE: message``) and the one error that carries all of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CatalogError


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in an import file: ``FILE:LINE: message`` (``FILE:ROW: message`` for spreadsheets)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogFileError(CatalogError):
    """The file has errors; nothing was written. ``issues`` lists all of them, by line."""

    code = "catalog.invalid_file"

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(i) for i in self.issues))


def fail(display: str, line: int, message: str) -> CatalogFileError:
    """The error of a file with one problem."""
    return CatalogFileError([Issue(display, line, message)])


def read_bytes(path: Path, display: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(display, 0, f"无法读取文件：{exc.strerror or exc}") from exc


def unsupported(display: str, suffix: str) -> CatalogFileError:
    return fail(display, 0, f"不支持的文件类型 “{suffix}”（应为 .json、.csv 或 .xlsx）")
