"""Backup and restore of a tongban installation: ``tongban backup DIR`` and ``tongban restore DIR``.

A backup is a directory (mode 0700: it holds private keys)::

    DIR/manifest.json            what is in the backup: every file with its SHA-256, size and mode
    DIR/manifest.json.sha256     the manifest's own SHA-256 (``sha256sum -c`` format)
    DIR/database.sqlite3         SQLite: a consistent copy taken with SQLite's online backup API
    DIR/database.pgdump          PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot)
    DIR/home/...                 the rest of TONGBAN_HOME: the secret key and any other state kept there
    DIR/files/...                MEDIA_ROOT: uploaded materials (blobs), notices, licence PDFs and VCs
    DIR/keys/...                 KEYS_DIR: seal keys and root CA, exchange log and request signing keys
    DIR/archives/...             the e-archives of closed cases (BagIt bags)
    DIR/pii/...                  PII_KEYS_DIR: the keyring of the personal data encrypted at rest (docs/privacy.md)

The database is copied first, the files after it: every file a database row refers to (a blob, a seal key, an
archive bag) already existed when the database was copied, so it is in the backup too (files created in
between are merely unreferenced). Not backed up: collected static files (rebuilt), the Celery beat schedule,
other backups, and a secret key given through ``TONGBAN_SECRET_KEY`` (keep that one in your secret store).

Restore checks the whole backup against the manifest *before* it changes anything and refuses a damaged or
incomplete backup (a file missing, added, or with another SHA-256) with the list of problems. It restores into
the installation configured by the environment (``TONGBAN_HOME``, ``DATABASE_URL``); a target that already holds
data is refused unless ``force``. Files are added or overwritten, never deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from .errors import DomainError

FORMAT = "tongban-backup"
VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
SECTIONS = ("home", "files", "keys", "archives", "pii")
_CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BackupError(DomainError):
    """A backup or restore that cannot be done; ``problems`` lists each finding (also in ``detail``)."""

    code = "backup.error"

    def __init__(self, message: str, *, code: str | None = None, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message, code=code, detail={"problems": self.problems} if self.problems else None)


@dataclass(frozen=True)
class Section:
    name: str
    root: Path


# --- what the installation consists of ---------------------------------------------------------------------


def archives_dir() -> Path:
    """Where closed cases are archived: the same rule as ``credentials.conf.archives_dir`` (core may not import
    credentials)."""
    value = getattr(settings, "TONGBAN_ARCHIVES_DIR", None) or os.environ.get("TONGBAN_ARCHIVES_DIR")
    return Path(value) if value else Path(settings.TONGBAN_HOME) / "archives"


def sections() -> list[Section]:
    """The file trees of this installation, by section name (configured by settings and the environment)."""
    return [Section("home", Path(settings.TONGBAN_HOME)), Section("files", Path(settings.MEDIA_ROOT)),
            Section("keys", Path(settings.KEYS_DIR)), Section("archives", archives_dir()),
            Section("pii", Path(settings.PII_KEYS_DIR))]


def database_engine() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"不支持备份此数据库 unsupported database engine: {engine}", code="backup.engine")


def _sqlite_path() -> Path | None:
    name = str(settings.DATABASES["default"]["NAME"])
    if database_engine() != "sqlite" or name.startswith("file:") or name == ":memory:":
        return None
    return Path(name).resolve()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _excluded_paths(section: Section, all_sections: list[Section], extra: tuple[Path, ...]) -> set[Path]:
    """Paths under ``section.root`` that are not part of it: other (nested) sections, the database, static files,
    the Celery beat schedule and the backup being written."""
    root = section.root.resolve()
    out = {s.root.resolve() for s in all_sections if s.name != section.name and s.root.resolve() != root}
    db = _sqlite_path()
    if db is not None:
        out |= {db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}
    out.add(Path(settings.STATIC_ROOT).resolve())
    out |= {p.resolve() for p in extra}
    return {p for p in out if _inside(p, root) and p != root}


def _walk(section: Section, excluded: set[Path]) -> Iterator[tuple[str, Path, bool]]:
    """``(relative posix path, path, is_dir)`` of the directories and regular files of a section, skipping
    excluded paths, symbolic links, other tongban backups (complete or partial) and the Celery beat schedule."""
    root = section.root.resolve()
    if not root.is_dir():
        return
    for current, dirs, names in os.walk(root, followlinks=False):
        here = Path(current)
        if here != root and (here in excluded or (here / MANIFEST_SUM).exists() or ".partial-" in here.name):
            dirs[:] = []
            continue
        dirs.sort()
        if here != root:
            yield here.relative_to(root).as_posix(), here, True
        for name in sorted(names):
            path = here / name
            if path in excluded or (here == root and name.startswith("celerybeat-schedule")):
                continue
            try:
                if stat.S_ISREG(path.lstat().st_mode):
                    yield path.relative_to(root).as_posix(), path, False
            except FileNotFoundError:
                continue  # removed while we walked


# --- copying with digests -----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(src: Path, dest: Path, mode: int) -> tuple[str, int]:
    """Copy ``src`` to ``dest`` (created with ``mode``, never group/world-readable beyond it); SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode & 0o777)
    with src.open("rb") as fin, os.fdopen(fd, "wb") as fout:
        for chunk in iter(lambda: fin.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    os.chmod(dest, mode & 0o777)
    return digest.hexdigest(), size


def _entry(relative: str, path: Path) -> dict[str, Any]:
    return {"path": relative, "sha256": _sha256(path), "size": path.stat().st_size,
            "mode": f"{stat.S_IMODE(path.stat().st_mode):04o}"}


# --- the database -------------------------------------------------------------------------------------------


def _pg_env() -> tuple[dict[str, str], str]:
    """Environment for the PostgreSQL client programs (no password on the command line) and the database name."""
    db = settings.DATABASES["default"]
    env = {**os.environ}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        value = db.get(key)
        if value:
            env[var] = str(value)
    options = db.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                     ("sslkey", "PGSSLKEY")):
        if options.get(key):
            env[var] = str(options[key])
    return env, str(db["NAME"])


def _pg_program(name: str) -> str:
    bindir = os.environ.get("TONGBAN_PG_BINDIR", "")
    program = str(Path(bindir) / name) if bindir else shutil.which(name)
    if not program or not Path(program).exists():
        raise BackupError(f"找不到 {name}（请安装 PostgreSQL 客户端，或设置 TONGBAN_PG_BINDIR） {name} not found",
                          code="backup.pg_tools")
    return program


def _run_pg(args: list[str], what: str) -> None:
    env, _ = _pg_env()
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise BackupError(f"{what}失败 {Path(args[0]).name} failed: {lines[0] if lines else result.returncode}",
                          code="backup.database", problems=lines[:20])


def _dump_database(dest: Path) -> None:
    if database_engine() == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(dest)
        try:
            connection.connection.backup(target)  # one step: a consistent snapshot, writers wait meanwhile
            target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file (no -wal/-shm next to it)
            check = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            target.close()
        if check != "ok":
            raise BackupError(f"数据库副本检查未通过 database copy failed its check: {check}", code="backup.database")
        return
    _, name = _pg_env()
    _run_pg([_pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}",
             f"--dbname={name}"], "导出数据库")
    _run_pg([_pg_program("pg_restore"), "--list", str(dest)], "检查数据库导出")


def _applied_migrations() -> list[str]:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def _known_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _own_apps() -> set[str]:
    from django.apps import apps

    return {cfg.label for cfg in apps.get_app_configs() if cfg.name.startswith("tongban.")}


# --- backup -------------------------------------------------------------------------------------------------


def _prepare_destination(dest: Path) -> Path:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} 已存在且不是空目录：请换一个新目录 the backup directory must be new or empty",
                          code="backup.destination")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    return staging


def create_backup(dest: Path | str, *, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write a backup of the database and the files into the new directory ``dest``; returns the manifest.

    It is written into a hidden sibling directory and renamed to ``dest`` when complete, so ``dest`` never holds a
    partial backup."""
    say = progress or (lambda _message: None)
    dest = Path(dest).absolute()
    engine = database_engine()
    staging = _prepare_destination(dest)
    try:
        database_file = DATABASE_FILES[engine]
        say(f"数据库 database ({engine}) …")
        _dump_database(staging / database_file)
        os.chmod(staging / database_file, 0o600)
        entries = [_entry(database_file, staging / database_file)]
        dirs: list[dict[str, str]] = []
        all_sections = sections()
        recorded: dict[str, str] = {}
        for section in all_sections:
            root = section.root.resolve()
            if not root.is_dir():
                continue
            recorded[section.name] = str(root)
            (staging / section.name).mkdir(mode=0o700)
            dirs.append({"path": section.name, "mode": f"{stat.S_IMODE(root.stat().st_mode):04o}"})
            say(f"文件 files: {section.name} ({root}) …")
            excluded = _excluded_paths(section, all_sections, (dest, staging))
            for relative, path, is_dir in _walk(section, excluded):
                target = staging / section.name / relative
                mode = stat.S_IMODE(path.stat().st_mode)
                if is_dir:
                    target.mkdir(mode=0o700)
                    dirs.append({"path": f"{section.name}/{relative}", "mode": f"{mode:04o}"})
                    continue
                try:
                    digest, size = _copy(path, target, mode)
                except FileNotFoundError:
                    continue  # removed since the walk saw it
                entries.append({"path": f"{section.name}/{relative}", "sha256": digest, "size": size,
                                "mode": f"{mode:04o}"})
        manifest = {
            "format": FORMAT, "version": VERSION, "created_at": timezone.now().isoformat(),
            "database": {"engine": engine, "file": database_file, "migrations": _applied_migrations()},
            "sections": recorded, "dirs": dirs, "files": entries,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        (staging / MANIFEST).write_bytes(data)
        (staging / MANIFEST_SUM).write_text(f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n")
        os.replace(staging, dest)  # an empty ``dest`` is replaced as a whole
    except DatabaseError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _database_unreachable(exc) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


# --- verification -------------------------------------------------------------------------------------------


def _safe_relative(path: Any) -> bool:
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts and "." not in pure.parts and pure.as_posix() == path


def _read_manifest(src: Path) -> dict[str, Any]:
    if not src.is_dir():
        raise BackupError(f"{src} 不是目录 not a backup directory", code="backup.not_found")
    manifest_path, sum_path = src / MANIFEST, src / MANIFEST_SUM
    for path in (manifest_path, sum_path):
        if not path.is_file():
            raise BackupError(f"备份不完整：缺少 {path.name}（不是完整的 tongban 备份） incomplete backup: "
                              f"{path.name} missing", code="backup.incomplete")
    data = manifest_path.read_bytes()
    expected = sum_path.read_text(errors="replace").split()
    if not expected or expected[0].lower() != hashlib.sha256(data).hexdigest():
        raise BackupError(f"备份已损坏：{MANIFEST} 与其 SHA-256 不符 damaged backup: {MANIFEST} does not match "
                          f"{MANIFEST_SUM}", code="backup.damaged")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BackupError(f"备份已损坏：{MANIFEST} 不是有效的 JSON damaged backup: {exc}", code="backup.damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{MANIFEST} 不是 tongban 备份清单 not a tongban backup manifest", code="backup.damaged")
    if manifest.get("version") != VERSION:
        raise BackupError(f"不支持的备份格式版本 unsupported backup format version {manifest.get('version')!r} "
                          f"(this tongban reads version {VERSION})", code="backup.version")
    return manifest


def _manifest_problems(manifest: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    database = manifest.get("database")
    if not isinstance(database, dict) or DATABASE_FILES.get(str(database.get("engine"))) != database.get("file"):
        problems.append(f"{MANIFEST}: 数据库说明无效 invalid database entry")
    elif not isinstance(database.get("migrations", []), list) or not all(
            isinstance(m, str) for m in database.get("migrations", [])):
        problems.append(f"{MANIFEST}: 迁移列表无效 invalid migrations list")
    files, dirs = manifest.get("files"), manifest.get("dirs")
    if not isinstance(files, list) or not isinstance(dirs, list):
        return [*problems, f"{MANIFEST}: files/dirs 缺失 missing file list"]
    allowed = set(SECTIONS)
    for entry in [*files, *dirs]:
        path = entry.get("path") if isinstance(entry, dict) else None
        top = path.split("/", 1)[0] if isinstance(path, str) else ""
        if not _safe_relative(path) or (top not in allowed and path != (database or {}).get("file")):
            problems.append(f"{MANIFEST}: 不允许的路径 path not allowed: {path!r}")
        elif not re.fullmatch(r"[0-7]{4}", str(entry.get("mode", ""))):
            problems.append(f"{MANIFEST}: {path}: 无效的权限 invalid mode")
    for entry in files:
        if isinstance(entry, dict) and (not _SHA256.match(str(entry.get("sha256", "")))
                                        or not isinstance(entry.get("size"), int)):
            problems.append(f"{MANIFEST}: {entry.get('path')}: 无效的 SHA-256 或大小 invalid sha256/size")
    return problems


def verify_backup(src: Path | str) -> dict[str, Any]:
    """Check a backup completely (manifest digest, every file present with its size and SHA-256, nothing else
    in the directory). Returns the manifest; raises :class:`BackupError` with every problem found."""
    src = Path(src).absolute()
    manifest = _read_manifest(src)
    problems = _manifest_problems(manifest)
    if problems:
        raise BackupError(f"备份清单无效，未做任何更改 invalid manifest, nothing changed ({len(problems)} problem(s))",
                          code="backup.damaged", problems=problems)
    listed = {e["path"]: e for e in manifest["files"]}
    present: set[str] = set()
    for current, dirnames, names in os.walk(src):
        for name in [*names, *(d for d in dirnames if (Path(current) / d).is_symlink())]:
            path = Path(current) / name
            relative = path.relative_to(src).as_posix()
            if relative in (MANIFEST, MANIFEST_SUM):
                continue
            if path.is_symlink() or not path.is_file():
                problems.append(f"不是普通文件 not a regular file: {relative}")
                continue
            present.add(relative)
    for relative in sorted(set(listed) - present):
        problems.append(f"缺少文件 missing: {relative}")
    for relative in sorted(present - set(listed)):
        problems.append(f"清单外的文件 not in the manifest: {relative}")
    for relative in sorted(present & set(listed)):
        entry, path = listed[relative], src / relative
        if path.stat().st_size != entry["size"]:
            problems.append(f"大小不符 size differs (damaged or truncated): {relative}")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"SHA-256 不符 damaged: {relative}")
    if problems:
        raise BackupError(f"备份不完整或已损坏，未做任何更改 the backup is damaged or incomplete, nothing changed "
                          f"({len(problems)} problem(s))", code="backup.damaged", problems=problems)
    return manifest


# --- restore ------------------------------------------------------------------------------------------------


def _database_unreachable(exc: DatabaseError) -> BackupError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BackupError(f"无法连接数据库，未做任何更改 cannot reach the database ({database_engine()}): {first}",
                       code="backup.database")


def _target_problems(engine: str) -> list[str]:
    """What the target installation already holds (a restore would overwrite it)."""
    found: list[str] = []
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as exc:
        raise _database_unreachable(exc) from exc
    if tables:
        found.append(f"数据库已有 {len(tables)} 张表 the database is not empty ({engine})")
    all_sections = sections()
    for section in all_sections:
        excluded = _excluded_paths(section, all_sections, ())
        files = [rel for rel, _, is_dir in _walk(section, excluded)
                 if not is_dir and not (section.name == "home" and rel == "secret_key")]
        if files:
            found.append(f"{section.root} 已有 {len(files)} 个文件 holds files (e.g. {files[0]})")
    return found


def _restore_database(src: Path, engine: str, force: bool) -> None:
    connections.close_all()
    if engine == "sqlite":
        path = _sqlite_path()
        if path is None:
            raise BackupError("SQLite 数据库不是文件，无法恢复 the SQLite database is not a file", code="backup.engine")
        source = sqlite3.connect(f"{src.as_uri()}?mode=ro&immutable=1", uri=True)  # writes nothing next to it
        target = sqlite3.connect(path, timeout=30)
        try:
            source.backup(target)
            check = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            source.close()
            target.close()
        if check != "ok":
            raise BackupError(f"恢复后的数据库检查未通过 restored database failed its check: {check}",
                              code="backup.database")
        return
    _, name = _pg_env()
    args = [_pg_program("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            f"--dbname={name}"]
    if force:
        args += ["--clean", "--if-exists"]
    _run_pg([*args, str(src)], "恢复数据库")


def _restore_files(src: Path, manifest: dict[str, Any]) -> int:
    roots = {s.name: s.root for s in sections()}
    for entry in sorted(manifest["dirs"], key=lambda e: e["path"].count("/")):
        section, _, relative = entry["path"].partition("/")
        path = roots[section] / relative if relative else roots[section]
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, int(entry["mode"], 8) & 0o777)
    count = 0
    for entry in manifest["files"]:
        section, _, relative = entry["path"].partition("/")
        if section not in roots or not relative:
            continue  # the database file
        dest = roots[section] / relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        temporary = dest.with_name(f".{dest.name}.restore-{secrets.token_hex(4)}")
        try:
            digest, _ = _copy(src / entry["path"], temporary, int(entry["mode"], 8))
            if digest != entry["sha256"]:
                raise BackupError(f"恢复时文件已改变 the backup changed while restoring: {entry['path']}",
                                  code="backup.damaged")
            os.replace(temporary, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        count += 1
    return count


@dataclass(frozen=True)
class RestoreReport:
    engine: str
    files: int
    pending_migrations: int


def restore_backup(src: Path | str, *, force: bool = False,
                   progress: Callable[[str], None] | None = None) -> RestoreReport:
    """Restore the backup ``src`` into the configured installation (after checking all of it)."""
    say = progress or (lambda _message: None)
    src = Path(src).absolute()
    manifest = verify_backup(src)
    engine = database_engine()
    backed_up = manifest["database"]["engine"]
    if backed_up != engine:
        raise BackupError(f"这是 {backed_up} 数据库的备份，当前配置的是 {engine}，未做任何更改 the backup is of a {backed_up} "
                          f"database, this installation uses {engine}; nothing changed", code="backup.engine")
    applied = set(manifest["database"].get("migrations") or [])
    known, own = _known_migrations(), _own_apps()
    unknown = sorted(m for m in applied - known if m.split(".", 1)[0] in own)
    if unknown:
        raise BackupError("备份来自更新的 tongban 版本（本版本不认识其数据库迁移），未做任何更改 the backup comes from a "
                          "newer tongban; nothing changed", code="backup.version", problems=unknown[:20])
    if not force:
        found = _target_problems(engine)
        if found:
            raise BackupError("目标安装已有数据，未做任何更改（确认覆盖请加 --force） the target installation is not empty; "
                              "nothing changed (use --force to overwrite)", code="backup.target_not_empty",
                              problems=found)
    say(f"数据库 database ({engine}) …")
    _restore_database(src / manifest["database"]["file"], engine, force)
    say("文件 files …")
    files = _restore_files(src, manifest)
    connections.close_all()
    pending = len(known - applied)
    return RestoreReport(engine=engine, files=files, pending_migrations=pending)
