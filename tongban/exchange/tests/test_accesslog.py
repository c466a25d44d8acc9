"""The access log: appends, the node cache, proofs from the database, signed tree heads, verify-log and its CLI."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from typer.testing import CliRunner

from tongban.core import pii
from tongban.exchange import accesslog, keys, merkle
from tongban.exchange.models import AccessLogEntry, MerkleNode, SignedTreeHead

pytestmark = pytest.mark.django_db


def add(n: int, start: int = 0) -> list[AccessLogEntry]:
    return [accesslog.append(actor="t", consumer_org="yx-scjg", source="shared", resource="household_register",
                             subject_id=f"S{start + i}", case_ref="C", purpose="p", fields=["name"],
                             masked_fields=[], outcome="granted") for i in range(n)]


def memory_tree() -> merkle.MemoryTree:
    return merkle.MemoryTree(bytes.fromhex(h) for h in AccessLogEntry.objects.order_by("seq")
                             .values_list("leaf_hash", flat=True))


def test_append_then_sequence_in_insertion_order_and_leaf_hash_is_rfc6962_of_the_canonical_entry():
    entries = add(5)
    assert all(e.seq is None for e in entries) and accesslog.log_size() == 0 and accesslog.pending_count() == 5
    state = accesslog.sync_tree()
    assert state.size == 5 and accesslog.pending_count() == 0
    assert list(AccessLogEntry.objects.order_by("id").values_list("seq", flat=True)) == [0, 1, 2, 3, 4]
    e = AccessLogEntry.objects.get(seq=3)
    data = accesslog.entry_bytes(e)
    assert e.leaf_hash == merkle.leaf_hash(data).hex() and e.subject_id == "S3"
    assert b'"subject_id":"S3"' in data and b'"seq"' not in data  # position-independent, as in RFC 6962
    assert accesslog.sync_tree().size == 5  # nothing new: idempotent
    add(2, start=5)
    assert accesslog.sync_tree().size == 7 and AccessLogEntry.objects.get(pii.matching("subject_id", "S6")).seq == 6


def test_proofs_from_the_database_verify_and_match_the_in_memory_tree():
    add(21)
    sth = accesslog.sign_tree_head()
    tree = memory_tree()
    assert sth.tree_size == 21 and sth.root_hash == tree.root().hex()
    for seq, size in [(0, 1), (0, 21), (7, 13), (20, 21), (16, 17)]:
        proof = accesslog.inclusion_proof(seq, size)
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert path == tree.inclusion_proof(seq, size)
        assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), seq, size, path,
                                       bytes.fromhex(proof["root_hash"]))
    for first, second in [(0, 21), (1, 21), (8, 21), (13, 20), (21, 21)]:
        proof = accesslog.consistency_proof(first, second)
        assert [bytes.fromhex(h) for h in proof["proof"]] == tree.consistency_proof(first, second)
        assert merkle.verify_consistency(first, second, bytes.fromhex(proof["first_root"]),
                                         bytes.fromhex(proof["second_root"]),
                                         [bytes.fromhex(h) for h in proof["proof"]])
    # The cache grows incrementally: more entries, a new head, proofs across both.
    add(6, start=21)
    proof = accesslog.consistency_proof(21, 27)
    assert proof["first_root"] == sth.root_hash
    assert MerkleNode.objects.filter(level=0).count() == 27  # synced on demand
    for bad in [(21, 21), (-1, 5), (3, 28)]:
        with pytest.raises(ValueError):
            accesslog.inclusion_proof(*bad)
    with pytest.raises(ValueError):
        accesslog.consistency_proof(5, 4)


def test_signed_tree_heads_verify_with_the_published_key(settings):
    add(3)
    sth = accesslog.sign_tree_head()
    assert accesslog.check_tree_head_signature(sth)
    assert (settings.KEYS_DIR / "exchange" / "log-signing.pem").stat().st_mode & 0o777 == 0o600
    published = {k["kid"] for k in keys.jwks()["keys"]}
    assert sth.key_id in published
    forged = SignedTreeHead(tree_size=sth.tree_size, root_hash="00" * 32, timestamp=sth.timestamp,
                            signature=sth.signature, key_id=sth.key_id)
    assert not accesslog.check_tree_head_signature(forged)
    # latest_tree_head re-signs only when the log grew and the head is old enough
    assert accesslog.latest_tree_head(max_age_seconds=3600).pk == sth.pk
    add(1)
    assert accesslog.latest_tree_head(max_age_seconds=3600).pk == sth.pk
    assert accesslog.latest_tree_head(max_age_seconds=0).tree_size == 4


def test_periodic_signing_is_enqueued_every_n_appends(settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.TONGBAN_EXCHANGE_STH_EVERY = 4
    expected = []
    for start in (0, 4, 8):  # each append commits on its own in production; here per block of four
        with django_capture_on_commit_callbacks(execute=True):
            block = add(4 if start < 8 else 3, start=start)
        if any(e.id % 4 == 0 for e in block):  # ids, not seqs, drive the schedule
            expected.append(start + len(block))
    sizes = sorted(SignedTreeHead.objects.values_list("tree_size", flat=True))
    assert sizes == expected and 2 <= len(sizes) <= 3  # not signed on every append
    assert all(accesslog.check_tree_head_signature(h) for h in SignedTreeHead.objects.all())


# --- verify-log -----------------------------------------------------------------------------------


def run_cli(*args: str):
    from tongban.exchange.cli import exchange_app

    return CliRunner().invoke(exchange_app, list(args))


def test_verify_log_ok_prints_size_and_root():
    add(10)
    accesslog.sign_tree_head()
    add(3, start=10)
    accesslog.sign_tree_head()
    result = run_cli("verify-log")
    assert result.exit_code == 0, result.output
    assert "tree_size=13" in result.output
    assert f"root_hash={memory_tree().root().hex()}" in result.output
    assert "signed tree heads checked: 2" in result.output


def test_verify_log_on_an_empty_log():
    result = run_cli("verify-log")
    assert result.exit_code == 0 and "tree_size=0" in result.output
    assert merkle.EMPTY_ROOT.hex() in result.output


def test_entry_altered_before_sequencing_is_reported():
    add(3)
    accesslog.sync_tree()
    add(2, start=3)
    AccessLogEntry.objects.filter(pii.matching("subject_id", "S4")).update(purpose="changed")
    result = run_cli("verify-log")
    assert result.exit_code == 1 and "not yet sequenced" in result.output
    AccessLogEntry.objects.filter(pii.matching("subject_id", "S4")).update(purpose="p")
    result = run_cli("verify-log")
    assert result.exit_code == 0 and "awaiting sequencing" in result.output and "tree_size=3" in result.output


def test_altered_entry_is_named():
    add(10)
    accesslog.sign_tree_head()
    AccessLogEntry.objects.filter(seq=6).update(subject_id="SOMEONE-ELSE")
    AccessLogEntry.objects.filter(seq=8).update(purpose="changed too")
    result = run_cli("verify-log")
    assert result.exit_code == 1
    assert "FIRST BAD ENTRY: seq 6" in result.output
    report = accesslog.verify_log()
    assert report.first_bad_seq == 6 and any("seq 8" in p for p in report.problems)


def test_rewritten_entry_with_recomputed_leaf_hash_is_named():
    add(10)
    accesslog.sign_tree_head()
    entry = AccessLogEntry.objects.get(seq=4)
    entry.consumer_org = "yx-sw"
    entry.leaf_hash = accesslog.compute_leaf_hash(entry)
    entry.save()
    result = run_cli("verify-log")
    assert result.exit_code == 1 and "FIRST BAD ENTRY: seq 4" in result.output
    assert "signed tree head" in result.output  # the signed root no longer matches either


def test_deleted_entry_is_named():
    add(6)
    accesslog.sync_tree()
    AccessLogEntry.objects.filter(seq=2).delete()
    result = run_cli("verify-log")
    assert result.exit_code == 1 and "FIRST BAD ENTRY: seq 2" in result.output
    AccessLogEntry.objects.filter(seq__gt=2).delete()  # truncation
    report = accesslog.verify_log()
    assert report.first_bad_seq == 2


def test_altered_tree_head_is_named():
    add(5)
    good = accesslog.sign_tree_head()
    add(2, start=5)
    bad = accesslog.sign_tree_head()
    SignedTreeHead.objects.filter(pk=bad.pk).update(root_hash="ab" * 32)
    result = run_cli("verify-log")
    assert result.exit_code == 1
    assert f"FIRST BAD TREE HEAD: #{bad.pk}" in result.output and f"#{good.pk}" not in result.output
    # a head with a forged signature (root left intact)
    SignedTreeHead.objects.filter(pk=bad.pk).update(root_hash=memory_tree().root().hex())
    assert run_cli("verify-log").exit_code == 0
    sig = bad.signature
    SignedTreeHead.objects.filter(pk=bad.pk).update(signature=("A" if sig[0] != "A" else "B") + sig[1:])
    result = run_cli("verify-log")
    assert result.exit_code == 1 and "signature does not verify" in result.output
    # a head that claims entries the log does not have
    SignedTreeHead.objects.filter(pk=bad.pk).update(signature=sig, tree_size=99)
    result = run_cli("verify-log")
    assert result.exit_code == 1 and "FIRST BAD TREE HEAD" in result.output


def test_sth_command_signs_now():
    add(2)
    result = run_cli("sth")
    assert result.exit_code == 0 and "tree_size=2" in result.output
    assert SignedTreeHead.objects.count() == 1 and accesslog.pending_count() == 0


def test_cli_registered_on_the_tongban_app():
    import typer

    from tongban.exchange.cli import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["exchange", "verify-log"])
    assert result.exit_code == 0 and "tree_size=0" in result.output


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_sequencers_give_gapless_sequential_seqs():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, several connections)")
    errors: list[BaseException] = []

    def appender(n: int) -> None:
        try:
            for i in range(25):
                accesslog.append(actor=f"w{n}", consumer_org="yx-ga", source="shared", resource="r",
                                 subject_id=f"{n}-{i}", outcome="granted")
                if i % 10 == 0:
                    accesslog.sync_tree(batch=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def sequencer() -> None:
        try:
            for _ in range(10):
                accesslog.sync_tree(batch=5)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=sequencer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    accesslog.sync_tree()
    seqs = list(AccessLogEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(150)) and accesslog.log_size() == 150
    # every writer's entries are in insertion (id) order within the tree
    for n in range(6):
        mine = list(AccessLogEntry.objects.filter(actor=f"w{n}").order_by("id").values_list("seq", flat=True))
        assert mine == sorted(mine)
    accesslog.sign_tree_head()
    assert accesslog.verify_log().ok
