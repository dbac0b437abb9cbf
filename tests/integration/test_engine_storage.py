"""The engine on real databases (SQLite and PostgreSQL): idempotency, durability,
restarts, per-event atomicity in batches, and the ledger effects of decisions."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.support import EventFactory, Harness, codes, restart_story
from walletguard.decisions.engine import INTERNAL_ERROR, Failure
from walletguard.events.decode import decode_event
from walletguard.kernel.errors import Conflict, WalletguardError
from walletguard.kernel.money import from_units
from walletguard.ledger.model import wallet_account
from walletguard.storage import tables as t


@pytest.fixture
def h(db_url: str) -> Any:
    harness = Harness(db_url)
    yield harness
    harness.close()


def balance(h: Harness, account: str) -> dict[str, Decimal]:
    with h.runtime.database.reading() as conn:
        row = conn.execute(
            select(t.balances).where(t.balances.c.account == wallet_account(account))
        ).first()
    if row is None:
        return {"posted": Decimal(0), "held": Decimal(0), "pending_in": Decimal(0)}
    return {k: from_units(getattr(row, k)) for k in ("posted", "held", "pending_in")}


def count(h: Harness, table: Any) -> int:
    with h.runtime.database.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_same_event_twice_gets_the_same_decision_and_applies_once(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice", "500.00"))
    payment = events.payment(amount="120.00")
    first = h.decide(payment)
    again = h.decide(payment)
    reordered = h.decide(json.loads(json.dumps(payment, sort_keys=True)))
    assert first == again == reordered
    assert balance(h, "alice")["posted"] == Decimal("380.00")
    assert count(h, t.decisions) == 5


def test_same_id_with_a_different_body_is_a_conflict(h: Harness, events: EventFactory) -> None:
    payment = events.payment(amount="1.00")
    h.decide(payment)
    with pytest.raises(Conflict, match="different body"):
        h.decide({**payment, "amount": "2.00"})


def test_duplicates_inside_one_batch(h: Harness, events: EventFactory) -> None:
    docs = events.funded("alice", "100.00")
    pay = events.payment(amount="10.00")
    batch = [decode_event(d) for d in [*docs, pay, pay, {**pay, "amount": "11.00"}]]
    results = list(h.engine.decide_batch(batch))
    assert results[4] == results[5]
    assert isinstance(results[6], Failure)
    assert results[6].code == "conflict"
    assert balance(h, "alice")["posted"] == Decimal("90.00")


def test_decisions_are_stored_with_their_rule_trace(h: Harness, events: EventFactory) -> None:
    decision = h.decide(events.login(network={"ip": "159.89.1.1"}))
    assert "HOSTING_NETWORK" in codes(decision)
    with h.runtime.database.reading() as conn:
        row = conn.execute(
            select(t.decisions).where(t.decisions.c.event_id == decision.event_id)
        ).one()
    trace = json.loads(row.trace)
    hit = next(hit for hit in trace["hits"] if hit["rule"] == "datacenter_ip")
    assert hit["values"]["net.is_datacenter"] is True
    assert "DIGITALOCEAN" in hit["values"]["net.asn"]
    assert json.loads(row.body) == decision.to_dict()
    assert row.ruleset_version == decision.ruleset_version


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (WalletguardError("injected failure after the ledger moved money"), "error"),
        # A defect meeting this event's data: it fails alone too, not the whole batch.
        (OverflowError("int too big to convert"), INTERNAL_ERROR),
    ],
    ids=["refused", "defect"],
)
def test_a_failing_event_in_a_batch_is_undone_alone(
    h: Harness, events: EventFactory, error: Exception, code: str
) -> None:
    class Explode:
        def guard(self, ctx: Any, out: Any) -> None:
            return None

        def apply(self, ctx: Any, out: Any) -> None:
            if ctx.event.event_id == doomed["event_id"]:
                raise error

    h.engine.stages.append(Explode())
    docs = events.funded("alice", "100.00")
    doomed = events.payment(amount="40.00")
    after = events.payment(amount="15.00")
    results = list(h.engine.decide_batch([decode_event(d) for d in [*docs, doomed, after]]))
    assert isinstance(results[4], Failure)
    assert results[4].code == code
    assert results[5].decision == "allow"
    assert balance(h, "alice")["posted"] == Decimal("85.00")
    with h.runtime.database.reading() as conn:
        ids = set(conn.execute(select(t.decisions.c.event_id)).scalars())
    assert doomed["event_id"] not in ids
    assert after["event_id"] in ids


def test_topups_are_pending_until_proven(h: Harness, events: EventFactory) -> None:
    h.decide(events.register())
    h.decide(events.bind(token="card-alice"))
    h.decide(events.topup(amount="300.00", ref="r1"))
    assert balance(h, "alice") == {"posted": 0, "held": 0, "pending_in": Decimal("300.00")}
    too_early = h.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert too_early.decision == "block"
    assert "INSUFFICIENT_FUNDS" in codes(too_early)
    h.decide(events.confirm(amount="300.00", ref="r1"))
    assert balance(h, "alice")["posted"] == Decimal("300.00")
    assert balance(h, "alice")["pending_in"] == 0


def test_a_fake_topup_never_becomes_spendable(h: Harness, events: EventFactory) -> None:
    h.decide(events.register())
    h.decide(events.topup(amount="5000.00", ref="fake"))
    decision = h.decide(events.confirm(amount="5000.00", ref="fake", signature_valid=False))
    assert decision.decision == "block"
    assert decision.case_id is not None
    assert balance(h, "alice")["posted"] == 0
    with h.runtime.database.reading() as conn:
        status = conn.execute(
            select(t.topups.c.status).where(t.topups.c.channel_ref == "fake")
        ).scalar()
    assert status == "suspected_fake"


@pytest.mark.parametrize(
    ("confirmation", "problem"),
    [
        ({"currency": "JPY"}, "the confirmed currency JPY differs from the top-up's CNY"),
        ({"account": "mallory"}, "the confirmation is for another wallet than the top-up"),
    ],
)
def test_a_confirmation_must_name_the_topups_wallet_and_currency(
    h: Harness, events: EventFactory, confirmation: dict[str, str], problem: str
) -> None:
    h.decide(events.register())
    h.decide(events.register("mallory"))
    h.decide(events.topup(amount="500.00", ref="r-cur"))
    changes = dict(confirmation)
    doc = events.confirm(changes.pop("account", "alice"), amount="500.00", ref="r-cur")
    doc.update(changes)
    decision = h.decide(doc)
    assert decision.decision == "block"
    assert balance(h, "alice")["posted"] == 0
    assert balance(h, "mallory")["posted"] == 0
    with h.runtime.database.reading() as conn:
        status, said = conn.execute(
            select(t.topups.c.status, t.topups.c.problem).where(t.topups.c.channel_ref == "r-cur")
        ).one()
    assert (status, said) == ("suspected_fake", problem)


def test_money_moves_between_wallets_and_the_books_balance(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice", "100.00"))
    h.decide_all(events.funded("bob", "5.00"))
    h.decide(events.transfer("alice", to="bob", amount="30.00"))
    assert balance(h, "alice")["posted"] == Decimal("70.00")
    assert balance(h, "bob")["posted"] == Decimal("35.00")
    with h.runtime.database.reading() as conn:
        sums = conn.execute(
            select(t.postings.c.transaction_id, func.sum(t.postings.c.amount)).group_by(
                t.postings.c.transaction_id
            )
        ).all()
        total = conn.execute(select(func.sum(t.balances.c.posted))).scalar()
    assert sums
    assert all(s == 0 for _, s in sums)
    assert total == 0


def test_held_money_is_not_available(h: Harness, events: EventFactory) -> None:
    h.decide_all(events.funded("alice", "1000.00"))
    events.advance(minutes=31)
    # A new account's first withdrawal, to a card bound half an hour ago: challenged, money held.
    held = h.decide(events.withdraw(token="card-alice", amount="900.00"))
    assert held.decision == "challenge"
    assert held.account_state == "active"
    assert held.hold_id is not None
    assert balance(h, "alice")["held"] == Decimal("900.00")
    second = h.decide(events.withdraw(token="card-alice", amount="200.00"))
    assert "INSUFFICIENT_FUNDS" in codes(second)


def test_restart_continues_exactly_where_the_last_run_stopped(
    db_url: str, events: EventFactory
) -> None:
    docs, later = restart_story(events)

    whole = Harness(
        db_url.replace("walletguard.db", "whole.db") if db_url.startswith("sqlite") else _fresh_pg()
    )
    expected = whole.decide_all(docs + later)
    whole.close()

    first = Harness(db_url)
    first.decide_all(docs[:10])
    first.runtime.save_features()  # a checkpoint part-way...
    first.decide_all(docs[10:])  # ...then events that only the database holds (a crash)
    first.close()
    second = Harness(db_url)
    assert second.runtime.restored[1] == len(docs) - 10
    assert second.decide_all(later) == expected[-2:]
    second.close()


def _fresh_pg() -> str:
    from tests.conftest import fresh_pg_database

    return fresh_pg_database()


@pytest.mark.postgres
def test_postgres_refuses_nothing_sqlite_accepts(pg_url: str) -> None:
    """The same migrations produce the same tables on both databases."""
    h = Harness(pg_url)
    with h.runtime.database.reading() as conn:
        tables = set(
            conn.execute(
                text("select table_name from information_schema.tables where table_schema='public'")
            ).scalars()
        )
    h.close()
    assert {table.name for table in t.metadata.sorted_tables} <= tables


def test_any_schema_valid_identifier_can_be_stored(h: Harness, events: EventFactory) -> None:
    """PostgreSQL text cannot hold NUL; the event is still decided and stored."""
    doc = events.login()
    doc["account_id"] = "nul\x00in-id"
    decision = h.engine.decide(decode_event(json.dumps(doc).encode()))
    assert decision.decision in ("allow", "challenge", "review", "block")
    with h.runtime.database.reading() as conn:
        stored = conn.execute(
            select(t.decisions.c.payload).where(t.decisions.c.event_id == doc["event_id"])
        ).scalar()
    assert json.loads(stored)["account_id"] == "nul\x00in-id"
