"""Stored decisions on a real database: every path that stores them seals them into the
audit log (one record per flush, not per decision), the database refuses changes, and
whoever bypasses it is caught by `audit verify` and by the evidence export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.conftest import fresh_pg_database
from tests.integration.casework import NOW, case_harness, held_withdrawal
from tests.integration.tampering import tamper, unguarded
from tests.support import EventFactory
from walletguard.audit.checkpoint import TrustedKeys
from walletguard.audit.decisions import SEALED
from walletguard.audit.verify import VerifyReport, verify_log
from walletguard.composition import export_evidence_from
from walletguard.events.decode import decode_event
from walletguard.kernel.errors import Refused
from walletguard.keys import KeyStore
from walletguard.storage import tables as t
from walletguard.storage.database import Database, open_database
from walletguard.storage.repositories.audit import SqlAuditReader


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()  # plain event ids: ev-1, ev-2, ...


@pytest.fixture
def database(db_url: str, tmp_path: Path, events: EventFactory) -> Iterator[Database]:
    """alice's large withdrawal (ev-5) held for review, bob's events decided in one batch."""
    h = case_harness(db_url, tmp_path)
    try:
        held_withdrawal(h, events, "alice", "20000.00")
        batch = [decode_event(d) for d in events.funded("bob", "100.00")]
        batch.append(decode_event(events.login("bob")))
        assert len(list(h.engine.decide_batch(batch))) == 5
    finally:
        h.close()
    db = open_database(db_url)
    yield db
    db.dispose()


def verify(database: Database) -> VerifyReport:
    return verify_log(SqlAuditReader(database), TrustedKeys())


def seals(database: Database) -> list[dict[str, object]]:
    with database.reading() as conn:
        rows = conn.execute(
            text("SELECT payload FROM audit_log WHERE action = :a ORDER BY at, chain, seq"),
            {"a": SEALED},
        )
        return [msgspec.json.decode(r.payload) for r in rows]


def export(database: Database, tmp_path: Path, account: str = "alice") -> bytes:
    store = KeyStore(tmp_path / "keys")
    return export_evidence_from(
        database, store, account_id=account, case_id=None, actor="ann", at=NOW
    ).data


def forge_allow(database: Database, event_id: str) -> None:
    """What the review reproduced: the decision turned into an allow, with no reasons and
    an empty trace."""
    with database.reading() as conn:
        body = msgspec.json.decode(
            conn.execute(
                text("SELECT body FROM decisions WHERE event_id = :e"), {"e": event_id}
            ).scalar_one()
        )
    body.update(decision="allow", risk_level="low", score=0, reasons=[], actions=[])
    tamper(
        database,
        "UPDATE decisions SET decision = 'allow', risk_level = 'low', score = 0, body = :b,"
        " trace = '[]' WHERE event_id = :e",
        b=msgspec.json.encode(body).decode(),
        e=event_id,
    )


def test_every_flush_that_stores_decisions_seals_them_once(database: Database) -> None:
    report = verify(database)
    assert report.ok, report.decision_problems
    assert report.decisions == 10
    found = seals(database)
    # alice's five events one at a time (engine.decide), bob's five in one batch
    assert [s["count"] for s in found] == [1, 1, 1, 1, 1, 5]
    assert found[-1]["ranges"] == [[6, 10]]
    assert report.decision_seals == 6


def test_the_database_refuses_changes_to_decisions(database: Database) -> None:
    for sql in ("UPDATE decisions SET decision = 'allow'", "DELETE FROM decisions"):
        with pytest.raises(DatabaseError, match="append-only"), database.writing() as conn:
            conn.execute(text(sql))
    assert verify(database).ok


def test_an_edited_decision_is_caught_and_not_exported(database: Database, tmp_path: Path) -> None:
    forge_allow(database, "ev-5")
    report = verify(database)
    assert not report.ok
    [problem] = report.decision_problems
    assert problem.startswith("decision 5 sealed by chain ")
    assert "edited" in problem
    with pytest.raises(Refused, match="edited") as refused:
        export(database, tmp_path)
    assert refused.value.reason_code == "DECISIONS_TAMPERED"
    assert exports_recorded(database) == []  # refused: not recorded as made
    export(database, tmp_path, account="bob")  # other decisions still export
    assert exports_recorded(database) == ["account:bob"]


def exports_recorded(database: Database) -> list[str]:
    with database.reading() as conn:
        rows = conn.execute(
            text("SELECT subject FROM audit_log WHERE action = 'evidence.exported'")
        )
        return [r.subject for r in rows]


def test_a_deleted_decision_is_named(database: Database, tmp_path: Path) -> None:
    tamper(database, "DELETE FROM decisions WHERE seq = 8")
    [problem] = verify(database).decision_problems
    assert problem.startswith("decisions 6..10 sealed by chain ")
    assert problem.endswith(": seq 8 gone (deleted)")
    with pytest.raises(Refused, match="seq 8 gone"):
        export(database, tmp_path, account="bob")


def test_a_decision_inserted_behind_the_engines_back_is_named(
    database: Database, tmp_path: Path
) -> None:
    with unguarded(database) as conn:
        conn.execute(
            text(
                "INSERT INTO decisions (event_id, account_id, event_type, occurred_at, payload,"
                " payload_hash, decision, risk_level, score, body, trace, ruleset_version,"
                " model_version) SELECT 'ev-99', account_id, event_type, occurred_at, payload,"
                " payload_hash, decision, risk_level, score, body, trace, ruleset_version,"
                " model_version FROM decisions WHERE event_id = 'ev-1'"
            )
        )
    [problem] = verify(database).decision_problems
    assert problem == (
        "decisions not covered by any seal (inserted behind the engine's back): seq 11 (ev-99)"
    )
    with pytest.raises(Refused, match="not covered by any seal"):
        export(database, tmp_path)


def test_the_export_of_untouched_decisions_verifies(database: Database, tmp_path: Path) -> None:
    from walletguard.evidence.package import verify_package

    data = export(database, tmp_path)
    store = KeyStore(tmp_path / "keys")
    assert verify_package(data, TrustedKeys([store.signing_key("audit").public_key()])).ok


def test_an_edited_event_is_named(database: Database, tmp_path: Path) -> None:
    """The seal covers the event through its hash; the event is checked against it."""
    tamper(
        database,
        "UPDATE decisions SET payload = replace(payload, '20000.00', '2.00') WHERE seq = 5",
    )
    [problem] = verify(database).decision_problems
    assert problem == "decision 5 (ev-5): the event stored does not match its hash (edited)"
    with pytest.raises(Refused, match="does not match its hash"):
        export(database, tmp_path)
    tamper(database, "UPDATE decisions SET payload_hash = :h WHERE seq = 5", h="0" * 64)
    problems = verify(database).decision_problems
    assert len(problems) == 2
    assert "edited" in problems[1]


def test_decisions_stored_before_sealing_began_are_counted_apart(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    """An installation upgraded to the sealing version holds decisions no seal covers: the
    migration marks where sealing began, and `audit verify` counts those apart instead of
    calling them inserted behind the engine's back — and still names a row inserted later."""
    older = open_database(f"sqlite:///{tmp_path / 'older.db'}", migrate=False)
    if not db_url.startswith("sqlite"):
        older.dispose()
        older = open_database(fresh_pg_database(), migrate=False)
    try:
        older.migrate("0003_account_case")  # the schema as the version before 0011 left it
        with database.reading() as conn:
            rows = [dict(r._mapping) for r in conn.execute(t.decisions.select())]
        with older.writing() as conn:
            for row in rows:
                row.pop("seq")
                conn.execute(t.decisions.insert().values(**row))
        older.migrate()
        report = verify(older)
        assert report.ok, report.decision_problems
        assert report.decisions_before_seals == len(rows) == 10
        with unguarded(older) as conn:
            conn.execute(
                text(
                    "INSERT INTO decisions (event_id, account_id, event_type, occurred_at,"
                    " payload, payload_hash, decision, risk_level, score, body, trace,"
                    " ruleset_version, model_version) SELECT 'ev-99', account_id, event_type,"
                    " occurred_at, payload, payload_hash, decision, risk_level, score, body,"
                    " trace, ruleset_version, model_version FROM decisions WHERE event_id = 'ev-1'"
                )
            )
        assert verify(older).decision_problems == [
            "decisions not covered by any seal (inserted behind the engine's back): seq 11 (ev-99)"
        ]
    finally:
        older.dispose()
