"""Every setting the platform reads is a row of the README's configuration table (a rule of the project)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bTONGBAN_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# Not settings: an XML namespace constant and the fault tests' own signalling files.
NOT_SETTINGS = {"TONGBAN_NS", "TONGBAN_FAULTS_GATE", "TONGBAN_FAULTS_MARKER", "TONGBAN_TEST_SQLITE"}


def _read_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tongban").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        names |= set(NAME.findall(path.read_text(encoding="utf-8")))
    return names - NOT_SETTINGS


def _table_names() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def test_every_setting_read_by_the_code_is_in_the_readme_table() -> None:
    missing = sorted(_read_names() - _table_names())
    assert not missing, f"settings read by the code but missing from README's configuration table: {missing}"


def test_the_readme_table_names_no_setting_the_code_does_not_read() -> None:
    stale = sorted(_table_names() - _read_names())
    assert not stale, f"README's configuration table lists settings no code reads: {stale}"
