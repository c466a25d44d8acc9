"""``tongban backup DIR`` / ``tongban restore DIR``: a restored installation keeps its access log and licences
verifiable; a damaged or incomplete backup is refused before anything changes.

The end-to-end tests drive the command line in subprocesses, each installation with its own TONGBAN_HOME and
database (SQLite always; PostgreSQL too when the suite runs on it, restoring into a second database).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tongban.core import backup
from tongban.core.demo import ID_NUMBERS
from tongban.core.tests.isolated import installations, postgres_base_url

LOAD_DEMO = """
from rich.console import Console
from tongban.core import demo as core
from tongban.exchange import demo as exchange
from tongban.credentials import demo as credentials
console = Console(quiet=True)
for part in (core, exchange, credentials):
    part.load(console)
"""

# Data-exchange queries through the HTTP API with the demo system key of 人社局: one granted, one refused (both
# are written to the access log).
QUERIES = """
import json
from django.test import Client
from tongban.core.demo import ID_NUMBERS
from tongban.exchange.demo import DEMO_CLIENT_KEY
client = Client()
codes = []
for body in ({"resource": "business_register", "subject_id": ID_NUMBERS["yunxi-tech"], "purpose": "单位社会保险登记"},
             {"resource": "household_register", "subject_id": ID_NUMBERS["zhangsan"], "purpose": "没有授权的查询"},
             {"resource": "business_register", "subject_id": ID_NUMBERS["yunxi-tech"], "purpose": "单位社会保险登记"}):
    r = client.post("/api/exchange/query", body, content_type="application/json",
                    headers={"X-Tongban-Client": DEMO_CLIENT_KEY})
    codes.append(r.status_code)
print(json.dumps(codes))
"""

# The licence through the public verification API: its status and the sealed PDF uploaded for verification.
VERIFY_API = """
import json
from pathlib import Path
from django.conf import settings
from django.test import Client
from tongban.credentials.models import Credential
credential = Credential.objects.get(pk="{id}")
client = Client()
status = client.get(f"/api/credentials/{{credential.pk}}/status").json()
pdf = (Path(settings.MEDIA_ROOT) / credential.pdf_path).read_bytes()
verified = client.post("/api/credentials/verify", pdf, content_type="application/pdf").json()
print(json.dumps({{"status": status, "verified": verified}}, ensure_ascii=False))
"""

READ_PERSON = """
from tongban.core import pii
from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User
user = User.objects.get(pii.matching("id_number", ID_NUMBERS["zhangsan"]))
print(user.username, user.id_number)
"""

COUNT_TABLES = "from django.db import connection; print(len(connection.introspection.table_names()))"


def _log_head(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if line.startswith(("tree_size=", "root_hash=")))


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


ENGINES = [
    pytest.param(False, id="sqlite"),
    pytest.param(None, id="postgresql", marks=[
        pytest.mark.postgres_only,
        pytest.mark.skipif(postgres_base_url() is None, reason="needs PostgreSQL (DATABASE_URL)")]),
]


@pytest.mark.parametrize("postgres", ENGINES)
def test_backup_restores_into_a_fresh_installation(tmp_path, postgres):
    with installations(tmp_path, postgres=postgres) as make:
        source, target = make("source"), make("target")
        source.tongban("migrate")
        source.python(LOAD_DEMO)
        licence = json.loads(source.tongban("credentials", "issue-demo", "--json").stdout)
        assert json.loads(source.python(QUERIES).strip().splitlines()[-1]) == [200, 403, 200]
        source.tongban("exchange", "sth")  # a signed tree head: restoring must keep the log-signing key
        source.python(QUERIES)  # and entries after it
        log = source.tongban("exchange", "verify-log").stdout
        head = _log_head(log)
        assert head["tree_size"] == "3" and "awaiting sequencing (checked, not yet in the tree): 3" in log, log

        saved = tmp_path / "backup"
        source.tongban("backup", str(saved))
        manifest = json.loads((saved / backup.MANIFEST).read_text())
        listed = {e["path"] for e in manifest["files"]}
        assert manifest["database"]["engine"] == target.engine
        assert {"home/secret_key", "keys/exchange/log-signing.pem", "keys/credentials/root-ca.key.pem",
                "pii/keyring.json"} <= listed
        assert any(p.startswith("files/credentials/") and p.endswith(".pdf") for p in listed)
        assert not [p for p in listed if p.startswith(("home/static/", "home/tongban.sqlite3"))]
        assert (saved / backup.MANIFEST_SUM).read_text().split()[0] == hashlib.sha256(
            (saved / backup.MANIFEST).read_bytes()).hexdigest()

        # a damaged and incomplete copy is refused, each problem named, and the target is left as it was
        damaged = tmp_path / "damaged"
        shutil.copytree(saved, damaged)
        key = damaged / "keys/exchange/log-signing.pem"
        key.write_bytes(key.read_bytes().replace(b"A", b"B", 1))
        blob = next(p for p in sorted(listed) if p.startswith("files/"))
        (damaged / blob).unlink()
        db_file = damaged / manifest["database"]["file"]
        db_file.write_bytes(db_file.read_bytes()[:-512])
        (damaged / "keys/extra.pem").write_text("not in the manifest")
        refused = target.tongban("restore", str(damaged), check=False)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "nothing changed" in refused.stderr
        for problem in ("SHA-256 不符 damaged: keys/exchange/log-signing.pem", f"缺少文件 missing: {blob}",
                        f"size differs (damaged or truncated): {manifest['database']['file']}",
                        "not in the manifest: keys/extra.pem"):
            assert problem in refused.stderr, refused.stderr
        # a manifest edited to hide a missing file no longer matches its digest
        hidden = tmp_path / "hidden"
        shutil.copytree(saved, hidden)
        edited = json.loads((hidden / backup.MANIFEST).read_text())
        edited["files"] = [e for e in edited["files"] if e["path"] != blob]
        (hidden / backup.MANIFEST).write_text(json.dumps(edited))
        (hidden / blob).unlink()
        refused = target.tongban("restore", str(hidden), check=False)
        assert refused.returncode == 1 and "manifest.json 与其 SHA-256 不符" in refused.stderr, refused.stderr
        assert target.python(COUNT_TABLES).strip().endswith("0")
        assert _files(target.home / "files") == [] and _files(target.home / "keys") == []

        assert "backup is complete" in target.tongban("restore", "--check", str(saved)).stdout
        restored = target.tongban("restore", str(saved))
        assert "恢复完成 restored" in restored.stdout
        assert (target.home / "secret_key").read_bytes() == (source.home / "secret_key").read_bytes()
        assert (target.home / "keys/exchange/log-signing.pem").stat().st_mode & 0o077 == 0

        assert target.tongban("exchange", "verify-log").stdout == log
        # the personal data encrypted at rest decrypts with the restored keyring, and is found by its keyed hash
        assert target.python(READ_PERSON).split() == ["zhangsan", ID_NUMBERS["zhangsan"]]
        assert (target.home / "keys/pii/keyring.json").stat().st_mode & 0o077 == 0
        pdf = target.home / "files" / next(p.split("/", 1)[1] for p in listed
                                           if p.startswith("files/") and licence["id"] in p and p.endswith(".pdf"))
        assert target.tongban("credentials", "verify", str(pdf)).stdout.startswith("valid:")
        vc = pdf.with_name(pdf.name.replace(".pdf", ".vc.jwt"))
        assert target.tongban("credentials", "verify", str(vc)).stdout.startswith("valid:")
        answer = json.loads(target.python(VERIFY_API.format(id=licence["id"])).strip().splitlines()[-1])
        assert answer["status"]["status"] == "active", answer
        assert answer["verified"]["valid"] is True, answer
        assert answer["verified"]["licence_number"] == licence["licence_number"]

        # restoring over an installation that holds data needs --force
        again = target.tongban("restore", str(saved), check=False)
        assert again.returncode == 1 and "--force" in again.stderr and "not empty" in again.stderr
        target.tongban("restore", "--force", str(saved))
        assert _log_head(target.tongban("exchange", "verify-log").stdout) == head


def test_backup_refuses_an_existing_directory(tmp_path):
    with installations(tmp_path, postgres=False) as make:
        inst = make("home")
        taken = tmp_path / "taken"
        taken.mkdir()
        (taken / "old.txt").write_text("an older backup")
        result = inst.tongban("backup", str(taken), check=False)
        assert result.returncode == 1 and "must be new or empty" in result.stderr
        assert _files(taken) == ["old.txt"]
        assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_restore_refuses_a_backup_of_another_engine(tmp_path):
    with installations(tmp_path, postgres=False) as make:
        inst = make("home")  # an empty database is enough
        saved = tmp_path / "backup"
        inst.tongban("backup", str(saved))
        manifest = json.loads((saved / backup.MANIFEST).read_text())
        manifest["database"].update(engine="postgresql", file="database.pgdump")
        for entry in manifest["files"]:
            if entry["path"] == "database.sqlite3":
                entry["path"] = "database.pgdump"
        (saved / "database.sqlite3").rename(saved / "database.pgdump")
        _rewrite_manifest(saved, manifest)
        result = make("other").tongban("restore", str(saved), check=False)
        assert result.returncode == 1
        assert "the backup is of a postgresql database, this installation uses sqlite" in result.stderr


# --- the manifest checks (no database) ------------------------------------------------------------------------


def _rewrite_manifest(directory: Path, manifest: dict) -> None:
    data = json.dumps(manifest).encode()
    (directory / backup.MANIFEST).write_bytes(data)
    (directory / backup.MANIFEST_SUM).write_text(f"{hashlib.sha256(data).hexdigest()}  {backup.MANIFEST}\n")


def _fake_backup(directory: Path, files: dict[str, bytes]) -> dict:
    directory.mkdir()
    entries = []
    for path, content in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_bytes(content)
        entries.append({"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
                        "mode": "0600"})
    manifest = {"format": backup.FORMAT, "version": backup.VERSION, "created_at": "2026-01-01T00:00:00+00:00",
                "database": {"engine": "sqlite", "file": "database.sqlite3", "migrations": []},
                "sections": {}, "dirs": [{"path": "keys", "mode": "0700"}], "files": entries}
    _rewrite_manifest(directory, manifest)
    return manifest


def test_verify_accepts_a_complete_backup(tmp_path):
    _fake_backup(tmp_path / "b", {"database.sqlite3": b"db", "keys/a.pem": b"key"})
    assert len(backup.verify_backup(tmp_path / "b")["files"]) == 2


@pytest.mark.parametrize("path", ["../outside", "keys/../../outside", "/etc/passwd", "static/x", "keys//a",
                                  "keys/./a", "keys\\a", ""])
def test_verify_refuses_paths_outside_the_sections(tmp_path, path):
    manifest = _fake_backup(tmp_path / "b", {"database.sqlite3": b"db"})
    manifest["files"].append({"path": path, "sha256": "0" * 64, "size": 0, "mode": "0600"})
    _rewrite_manifest(tmp_path / "b", manifest)
    with pytest.raises(backup.BackupError) as err:
        backup.verify_backup(tmp_path / "b")
    assert any("path not allowed" in p for p in err.value.problems), err.value.problems


def test_verify_refuses_a_missing_manifest_digest_and_a_foreign_format(tmp_path):
    _fake_backup(tmp_path / "b", {"database.sqlite3": b"db"})
    (tmp_path / "b" / backup.MANIFEST_SUM).unlink()
    with pytest.raises(backup.BackupError, match="incomplete backup: manifest.json.sha256 missing"):
        backup.verify_backup(tmp_path / "b")
    manifest = _fake_backup(tmp_path / "c", {"database.sqlite3": b"db"})
    _rewrite_manifest(tmp_path / "c", {**manifest, "version": 99})
    with pytest.raises(backup.BackupError, match="unsupported backup format version 99"):
        backup.verify_backup(tmp_path / "c")
    with pytest.raises(backup.BackupError, match="not a backup directory"):
        backup.verify_backup(tmp_path / "nowhere")


def test_verify_refuses_symbolic_links(tmp_path):
    _fake_backup(tmp_path / "b", {"database.sqlite3": b"db", "keys/a.pem": b"key"})
    (tmp_path / "b" / "keys" / "link.pem").symlink_to(tmp_path / "b" / "keys" / "a.pem")
    with pytest.raises(backup.BackupError) as err:
        backup.verify_backup(tmp_path / "b")
    assert err.value.problems == ["不是普通文件 not a regular file: keys/link.pem"]
