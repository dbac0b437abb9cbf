"""The audit log on a real database: the database refuses edits, and whoever bypasses it
is caught by `verify` and the signed checkpoints."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.integration.tampering import rewrite_chain, tamper
from tests.support import EventFactory, Harness
from walletguard.audit.chain import chain_for, record_hash
from walletguard.audit.checkpoint import TrustedKeys, sign_checkpoint
from walletguard.audit.verify import VerifyReport, verify_log
from walletguard.composition import export_evidence_from, sign_heads
from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.kernel.errors import Refused
from walletguard.keys import KeyStore
from walletguard.storage.database import Database, open_database
from walletguard.storage.repositories.audit import SqlAuditLog, SqlAuditReader
from walletguard.storage.uow import SqlUnitOfWork

AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


def append(database: Database, subjects: list[str], actor: str = "test") -> None:
    uow = SqlUnitOfWork(database)
    try:
        for i, subject in enumerate(subjects):
            uow.audit.append(
                at=AT, actor=actor, action="test.did", subject=subject, payload={"i": i}
            )
        uow.commit()
    finally:
        uow.close()


def verify(database: Database, key: Ed25519PrivateKey | None = None) -> VerifyReport:
    trusted = TrustedKeys([key.public_key()]) if key is not None else TrustedKeys()
    return verify_log(SqlAuditReader(database), trusted)


SUBJECTS = [f"account:a{i % 3}" for i in range(12)]


def one_chain(database: Database) -> int:
    return chain_for("account:a0", 16)


def test_an_untouched_log_verifies(database: Database) -> None:
    append(database, SUBJECTS)
    report = verify(database)
    assert report.ok
    assert report.records == 12


def test_the_database_refuses_update_and_delete(database: Database) -> None:
    append(database, SUBJECTS)
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), database.writing() as conn:
            conn.execute(text(sql))
    assert verify(database).ok


def test_an_edited_record_is_named(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(database, "UPDATE audit_log SET actor = 'mallory' WHERE chain = :c AND seq = 3", c=chain)
    report = verify(database)
    assert not report.ok
    [broken] = report.breaks
    assert (broken.chain, broken.seq) == (chain, 3)
    assert "edited" in broken.problem


def test_an_edited_payload_is_named(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(
        database,
        "UPDATE audit_log SET payload = :p WHERE chain = :c AND seq = 2",
        p='{"i":99}',
        c=chain,
    )
    [broken] = verify(database).breaks
    assert (broken.seq, "payload" in broken.problem) == (2, True)


def test_a_deleted_record_is_named(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(database, "DELETE FROM audit_log WHERE chain = :c AND seq = 2", c=chain)
    [broken] = verify(database).breaks
    assert broken.seq == 2
    assert "deleted" in broken.problem


def test_deleting_the_newest_record_is_caught_by_the_head(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(database, "DELETE FROM audit_log WHERE chain = :c AND seq = 4", c=chain)
    [broken] = verify(database).breaks
    assert broken.seq == 4
    assert "deleted" in broken.problem


def test_a_chain_whose_head_row_was_deleted_is_still_walked(database: Database) -> None:
    """Deleting the head row must not take the chain (and an edit in it) out of the check."""
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(database, "DELETE FROM audit_heads WHERE chain = :c", c=chain)
    report = verify(database)
    assert len(report.chains) == 16
    [broken] = report.breaks
    assert (broken.chain, broken.problem) == (chain, "the chain's head row is missing")
    tamper(database, "UPDATE audit_log SET actor = 'forged' WHERE chain = :c AND seq = 2", c=chain)
    [broken] = verify(database).breaks
    assert (broken.chain, broken.seq) == (chain, 2)


def test_reordered_records_are_named(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    # swap the contents of records 2 and 3, keeping their sequence numbers
    tamper(database, "UPDATE audit_log SET seq = -1 WHERE chain = :c AND seq = 2", c=chain)
    tamper(database, "UPDATE audit_log SET seq = 2 WHERE chain = :c AND seq = 3", c=chain)
    tamper(database, "UPDATE audit_log SET seq = 3 WHERE chain = :c AND seq = -1", c=chain)
    [broken] = verify(database).breaks
    assert broken.seq == 2


def test_an_inserted_record_is_named(database: Database) -> None:
    append(database, SUBJECTS)
    chain = one_chain(database)
    tamper(
        database,
        "INSERT INTO audit_log (chain, seq, at, actor, action, subject, payload, payload_hash,"
        " prev_hash, hash) VALUES (:c, 5, :at, 'mallory', 'x', 'account:a0', '{}', :ph, :prev, :h)",
        c=chain,
        at=AT,
        ph=sha256_hex(canonical_json({})),
        prev="0" * 64,
        h=record_hash(
            5, AT, "mallory", "x", "account:a0", sha256_hex(canonical_json({})), "0" * 64
        ),
    )
    [broken] = verify(database).breaks
    assert broken.seq == 5
    assert "inserted" in broken.problem


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(
    database: Database, tmp_path: Path
) -> None:
    """Recomputing every hash after an edit makes the chain consistent again; the signed
    head it was checkpointed with no longer matches."""
    append(database, SUBJECTS)
    key = Ed25519PrivateKey.generate()
    reader = SqlAuditReader(database)
    reader.add_checkpoint(sign_checkpoint(key, reader.heads(), at=AT))
    assert verify(database, key).ok
    rewrite_chain(database, one_chain(database))
    report = verify(database, key)
    assert not report.breaks  # the chain itself is consistent again...
    assert any("rewritten" in p for p in report.checkpoint_problems)  # ...but not signed
    assert not verify(database, Ed25519PrivateKey.generate()).ok  # unknown key: refused
    # and nothing signs over the rewrite: a new checkpoint, an evidence export
    checkpoints = len(reader.checkpoints())
    store = KeyStore(tmp_path / "keys")
    with pytest.raises(Refused) as refused:
        sign_heads(database, store, actor="ann", at=AT)
    assert refused.value.reason_code == "AUDIT_LOG_REWRITTEN"
    with pytest.raises(Refused, match="rewritten"):
        export_evidence_from(database, store, account_id="a0", case_id=None, actor="ann", at=AT)
    assert len(reader.checkpoints()) == checkpoints


def test_signing_a_checkpoint_is_audited_with_it(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint and the record of who signed it commit together, or neither does."""
    append(database, SUBJECTS)
    store = KeyStore(tmp_path / "keys")
    reader = SqlAuditReader(database)
    signed = sign_heads(database, store, actor="key:k1:lee", at=AT)
    assert [c.id for c in reader.checkpoints()] == [signed.id]
    (record,) = reader.for_subjects([f"checkpoint:{signed.id}"])
    assert (record.actor, record.action) == ("key:k1:lee", "audit.checkpoint_signed")
    assert record.payload == {
        "key_id": signed.key_id,
        "chains": len(signed.heads),
        "records": len(SUBJECTS),
    }
    signed_head = next(h for h in signed.heads if h.chain == record.chain)
    assert record.seq == signed_head.seq + 1  # it follows the heads it signed
    assert verify(database, store.signing_key("audit")).ok

    def broken(self: object) -> None:
        raise RuntimeError("the audit record could not be written")

    monkeypatch.setattr(SqlAuditLog, "seal_pending", broken)
    with pytest.raises(RuntimeError):
        sign_heads(database, store, actor="key:k1:lee", at=AT)
    assert [c.id for c in reader.checkpoints()] == [signed.id]  # no unaudited checkpoint


def test_engine_records_verify(db_url: str, events: EventFactory) -> None:
    h = Harness(db_url)
    try:
        h.decide_all(events.funded("alice", "100.00"))
        h.decide(events.withdraw("alice", "20.00", token="card-alice"))
    finally:
        h.close()
    database = open_database(db_url)
    try:
        report = verify(database)
        assert report.ok
        assert report.records >= 3
    finally:
        database.dispose()


def test_an_account_walletguard_first_sees_is_recorded_as_opened_once(
    db_url: str, events: EventFactory
) -> None:
    h = Harness(db_url)
    try:
        registered = events.register("carol")
        h.decide_all([registered, events.login("carol"), events.login("carol")])
    finally:
        h.close()
    database = open_database(db_url)
    try:
        records = SqlAuditReader(database).for_subjects(["account:carol"])
    finally:
        database.dispose()
    opened = [r for r in records if r.action == "account.opened"]
    assert len(opened) == 1
    assert opened[0].payload["state"] == "active"
    assert opened[0].payload["event_id"] == registered["event_id"]


@pytest.mark.postgres
def test_concurrent_writers_keep_every_chain_whole(pg_url: str) -> None:
    """Many units of work appending at once (shared mode, row locks on the heads): no
    sequence number is taken twice, nothing is lost, every chain verifies."""
    database = open_database(pg_url, pool_size=8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for round_ in range(10):
                append(
                    database, [f"account:w{n}", f"case:c{round_ % 4}", "account:shared"], f"w{n}"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        report = verify(database)
        assert report.ok
        assert report.records == 6 * 10 * 3
    finally:
        database.dispose()


def test_a_new_database_names_its_chains(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert len(SqlAuditReader(database).heads()) == 16
    finally:
        database.dispose()


def test_a_replay_and_an_analyst_writing_at_once_keep_the_chain(
    db_url: str, events: EventFactory
) -> None:
    """The replay engine keeps state between batches; the audit chains' heads it reads
    anew at each write, so records an analyst's command appended meanwhile are followed."""
    h = Harness(db_url)  # exclusive: the replay's runtime
    try:
        h.decide_all(events.funded("alice", "100.00"))
        append(h.runtime.database, ["account:alice"], actor="analyst")
        h.decide(events.withdraw("alice", "20.00", token="card-alice"))
        report = verify(h.runtime.database)
    finally:
        h.close()
    assert report.ok
