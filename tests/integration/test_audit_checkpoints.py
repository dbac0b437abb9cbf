"""Signed checkpoints on a real database: their rows are append-only, a deleted one is
reported, and no checkpoint row (forged, or signed by another key) lets anything be
signed over a rewritten log."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.conftest import fresh_pg_database
from tests.integration.tampering import rewrite_chain, tamper
from tests.integration.test_audit_log import AT, SUBJECTS, append, one_chain, verify
from walletguard.audit.checkpoint import Checkpoint, sign_checkpoint
from walletguard.composition import export_evidence_from, sign_heads
from walletguard.kernel.errors import Refused
from walletguard.keys import KeyStore
from walletguard.storage.database import Database, open_database
from walletguard.storage.repositories.audit import SqlAuditLog, SqlAuditReader


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys")


def test_the_database_refuses_changes_to_checkpoints(database: Database, store: KeyStore) -> None:
    append(database, SUBJECTS)
    sign_heads(database, store, actor="ann", at=AT)
    for sql in ("UPDATE audit_checkpoints SET key_id = 'x'", "DELETE FROM audit_checkpoints"):
        with pytest.raises(DatabaseError, match="append-only"), database.writing() as conn:
            conn.execute(text(sql))
    assert verify(database, store.signing_key("audit")).ok


def test_a_deleted_checkpoint_is_named_by_the_record_of_its_signing(
    database: Database, store: KeyStore
) -> None:
    append(database, SUBJECTS)
    sign_heads(database, store, actor="ann", at=AT)
    newest = sign_heads(database, store, actor="ann", at=AT)
    tamper(database, "DELETE FROM audit_checkpoints WHERE id = :i", i=newest.id)
    report = verify(database, store.signing_key("audit"))
    assert not report.ok
    assert report.checkpoint_problems == [
        f"checkpoint {newest.id} was signed (chain {_signing_record(database, newest.id)}) "
        "but its row is gone (deleted)"
    ]
    with pytest.raises(Refused, match="gone") as refused:  # nothing is signed over it
        sign_heads(database, store, actor="ann", at=AT)
    assert refused.value.reason_code == "AUDIT_LOG_REWRITTEN"


def _signing_record(database: Database, checkpoint_id: int | None) -> str:
    (record,) = SqlAuditReader(database).for_subjects([f"checkpoint:{checkpoint_id}"])
    return f"{record.chain} record {record.seq} says so"


def test_a_gap_in_checkpoint_ids_is_reported(database: Database) -> None:
    """Checkpoints with no record of their signing (as evidence exports made them before)
    are still missed: ids are given out without gaps."""
    append(database, SUBJECTS)
    key = Ed25519PrivateKey.generate()
    reader = SqlAuditReader(database)
    ids = [reader.add_checkpoint(sign_checkpoint(key, reader.heads(), at=AT)).id for _ in "abcd"]
    assert ids == [1, 2, 3, 4]
    tamper(database, "DELETE FROM audit_checkpoints WHERE id IN (2, 3)")
    report = verify(database, key)
    assert report.checkpoint_problems == [
        "checkpoints 2..3 are missing between the stored checkpoints (deleted)"
    ]


def test_deleting_the_checkpoint_does_not_hide_a_rewrite(
    database: Database, store: KeyStore
) -> None:
    append(database, SUBJECTS)
    sign_heads(database, store, actor="ann", at=AT)
    rewrite_chain(database, one_chain(database))
    tamper(database, "DELETE FROM audit_checkpoints")
    report = verify(database, store.signing_key("audit"))
    assert not report.ok
    assert any("row is gone" in p for p in report.checkpoint_problems)


def test_a_failed_signing_leaves_no_gap(
    database: Database, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a rolled-back insert would skip a sequence number: ids are not taken
    from a sequence, so a failed signing is no false "deleted"."""
    append(database, SUBJECTS)
    first = sign_heads(database, store, actor="ann", at=AT)

    def broken(self: object) -> None:
        raise RuntimeError("the audit record could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(SqlAuditLog, "seal_pending", broken)
        with pytest.raises(RuntimeError):
            sign_heads(database, store, actor="ann", at=AT)
    second = sign_heads(database, store, actor="ann", at=AT)
    assert (first.id, second.id) == (1, 2)
    assert verify(database, store.signing_key("audit")).ok


def _forge(database: Database, checkpoint: Checkpoint) -> None:
    """Insert a checkpoint row behind the application's back."""
    SqlAuditReader(database).add_checkpoint(checkpoint)


@pytest.mark.parametrize("forgery", ["garbage signature", "another key"])
def test_a_forged_newest_checkpoint_does_not_let_a_rewrite_be_signed(
    database: Database, store: KeyStore, forgery: str
) -> None:
    """After a rewrite, a row with the rewritten heads as the newest checkpoint: with a
    signature that does not verify, or signed by a key the installation does not trust."""
    append(database, SUBJECTS)
    sign_heads(database, store, actor="ann", at=AT)
    rewrite_chain(database, one_chain(database))
    heads = SqlAuditReader(database).heads()
    if forgery == "garbage signature":
        real = sign_checkpoint(store.signing_key("audit"), heads, at=AT)
        garbage = base64.b64encode(b"\0" * 64).decode()
        _forge(database, Checkpoint(real.at, real.heads, real.key_id, garbage))
        expected = "does not verify"
    else:
        _forge(database, sign_checkpoint(Ed25519PrivateKey.generate(), heads, at=AT))
        expected = "rewritten"
    with pytest.raises(Refused, match=expected) as refused:
        sign_heads(database, store, actor="ann", at=AT)
    assert refused.value.reason_code == "AUDIT_LOG_REWRITTEN"
    with pytest.raises(Refused, match=expected):
        export_evidence_from(database, store, account_id="a0", case_id=None, actor="ann", at=AT)
    assert not verify(database, store.signing_key("audit")).ok


def test_checkpoints_by_a_key_no_longer_trusted_do_not_stop_signing(
    database: Database, store: KeyStore
) -> None:
    """A rotated-out key's checkpoints (their signatures are checked by audit verify
    --public-key) do not block the new key while the heads they name still hold."""
    append(database, SUBJECTS)
    reader = SqlAuditReader(database)
    reader.add_checkpoint(sign_checkpoint(Ed25519PrivateKey.generate(), reader.heads(), at=AT))
    append(database, SUBJECTS)
    assert sign_heads(database, store, actor="ann", at=AT).id == 2


def test_gaps_left_before_ids_were_gapless_are_not_called_deletions(
    db_url: str, tmp_path: Path
) -> None:
    """Before migration 0011 checkpoint ids came from a sequence, which skips one when a
    signing rolls back: an upgraded installation's old gaps are not reported; new ones are."""
    url = (
        f"sqlite:///{tmp_path / 'older.db'}" if db_url.startswith("sqlite") else fresh_pg_database()
    )
    database = open_database(url, migrate=False)
    try:
        database.migrate("0003_account_case")  # the schema as the version before 0011 left it
        append(database, SUBJECTS)
        key = Ed25519PrivateKey.generate()
        reader = SqlAuditReader(database)
        for _ in "abc":
            reader.add_checkpoint(sign_checkpoint(key, reader.heads(), at=AT))
        with database.writing() as conn:  # what a rolled-back signing left: no row 2
            conn.execute(text("DELETE FROM audit_checkpoints WHERE id = 2"))
        database.migrate()
        assert verify(database, key).checkpoint_problems == []
        for _ in "de":
            reader.add_checkpoint(sign_checkpoint(key, reader.heads(), at=AT))
        tamper(database, "DELETE FROM audit_checkpoints WHERE id = 4")
        assert verify(database, key).checkpoint_problems == [
            "checkpoint 4 is missing between the stored checkpoints (deleted)"
        ]
    finally:
        database.dispose()
