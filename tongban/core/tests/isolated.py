"""A separate tongban installation for tests that drive the ``tongban`` command in subprocesses.

Each installation has its own ``TONGBAN_HOME`` and its own database: an SQLite file in that home, or, when the
suite runs on PostgreSQL (``DATABASE_URL``), a database of its own created next to the suite's (named after it,
so helpers sharing one server do not collide) and dropped afterwards. The test database is never touched.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[3]
# Variables of the surrounding run that must not leak into an installation (it is configured from scratch).
_PRIVATE = ("DATABASE_URL", "TONGBAN_SECRET_KEY", "TONGBAN_ARCHIVES_DIR", "DJANGO_SETTINGS_MODULE",
            "TONGBAN_TEST_SQLITE", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST")


def postgres_base_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _maintenance(statement: str) -> None:
    import psycopg

    url = postgres_base_url()
    assert url is not None
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


class Installation:
    """One installation: ``tongban(...)`` runs the command line in it, ``popen(...)`` starts a long-running one."""

    def __init__(self, home: Path, database_url: str | None = None, **env: str) -> None:
        self.home = home
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if k not in _PRIVATE}
        self.env.update({"TONGBAN_HOME": str(home), "TONGBAN_LOG_LEVEL": "ERROR", "PYTHONUNBUFFERED": "1"}, **env)
        if database_url:
            self.env["DATABASE_URL"] = database_url

    @property
    def engine(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def run(self, argv: list[str], *, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv[2:])} exited {result.returncode}\n--- stdout\n{result.stdout}"
                                 f"\n--- stderr\n{result.stderr}")
        return result

    def tongban(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "tongban", *args], check=check, timeout=timeout)

    def python(self, code: str, *, check: bool = True) -> str:
        """Run Python code with Django set up in this installation (``tongban manage shell -c``); its stdout."""
        return self.tongban("manage", "shell", "--no-imports", "-c", code, check=check).stdout

    def module(self, module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", module, *args], check=check)

    def popen(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def installations(tmp_path: Path, *, postgres: bool | None = None) -> Iterator[Callable[..., Installation]]:
    """A factory ``make(label) -> Installation``; the databases it created are dropped on exit. ``postgres``:
    None follows the suite (PostgreSQL when DATABASE_URL names it), False forces SQLite."""
    base = postgres_base_url() if postgres is not False else None
    created: list[str] = []

    def make(label: str, **env: str) -> Installation:
        home = tmp_path / label
        if base is None:
            return Installation(home, **env)
        prefix = urlsplit(base).path.lstrip("/") or "tongban"
        name = f"{prefix}_{label}_{secrets.token_hex(3)}"[:63].lower()
        _maintenance(f'CREATE DATABASE "{name}"')
        created.append(name)
        return Installation(home, _with_database(base, name), **env)

    try:
        yield make
    finally:
        for name in created:
            _maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
