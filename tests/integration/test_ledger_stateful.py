"""A Hypothesis state machine drives the real ledger services (on SQLite and on
PostgreSQL) with random top-ups, confirmations, transfers, holds, posts, voids and
retries, and compares every balance with a simple reference model after each step."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.ledger_support import T0
from walletguard.kernel.errors import Conflict, Refused
from walletguard.ledger import service
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    Platform,
    Topup,
    TransferRequest,
    wallet_account,
)
from walletguard.storage.database import Database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

NAMES = ("a", "b", "c")
amounts = st.integers(min_value=1, max_value=300).map(lambda n: n * 10_000)
_runs = itertools.count()


@dataclass
class Model:
    """What the ledger should say: plain integers, no invariants of its own."""

    posted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NAMES, 0))
    held: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NAMES, 0))
    pending: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NAMES, 0))
    topups: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Pending top-ups: ref → (account, amount)."""
    holds: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Pending holds: id → (account, amount)."""
    resolved_holds: set[str] = field(default_factory=set)
    transfers: dict[str, tuple[tuple[str, str, int], bool]] = field(default_factory=dict)
    """Transfer id → ((source, destination, amount), posted?)."""

    def available(self, name: str) -> int:
        return self.posted[name] - self.held[name]


def test_the_ledger_behaves_like_its_reference_model(db: Database) -> None:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.run = next(_runs)
            self.model = Model()
            self.refs = itertools.count()

        def account(self, name: str) -> str:
            return wallet_account(f"r{self.run}-{name}")

        # -- top-ups --------------------------------------------------------------------

        @rule(name=st.sampled_from(NAMES), amount=amounts)
        def request_topup(self, name: str, amount: int) -> None:
            ref = f"r{self.run}-t{next(self.refs)}"
            with ledger_session(db) as s:
                service.request_topup(
                    s.ledger,
                    Topup(
                        "unionpay",
                        ref,
                        f"r{self.run}-{name}",
                        "CNY",
                        amount,
                        "M-1",
                        T0,
                        "ev-" + ref,
                    ),
                )
            self.model.topups[ref] = (name, amount)
            self.model.pending[name] += amount

        @precondition(lambda self: self.model.topups)
        @rule(data=st.data(), proven=st.booleans())
        def confirm_topup(self, data: st.DataObject, proven: bool) -> None:
            ref = data.draw(st.sampled_from(sorted(self.model.topups)))
            name, amount = self.model.topups.pop(ref)
            with ledger_session(db) as s:
                topup = s.ledger.topup("unionpay", ref)
                assert topup is not None
                if proven:
                    service.confirm_topup(s.ledger, topup, at=T0, event_id="ev-c")
                else:
                    service.suspect_topup(s.ledger, topup, at=T0, event_id=None, problem="bad")
            if proven:
                self.model.pending[name] -= amount
                self.model.posted[name] += amount

        # -- transfers, with retries of earlier ids ------------------------------------------

        @rule(
            number=st.integers(min_value=0, max_value=12),
            source=st.sampled_from(NAMES),
            dest=st.sampled_from(NAMES),
            amount=amounts,
        )
        def transfer(self, number: int, source: str, dest: str, amount: int) -> None:
            transfer_id = f"r{self.run}-x{number}"
            request = TransferRequest(
                id=transfer_id,
                kind="transfer",
                source=self.account(source),
                destination=self.account(dest),
                currency="CNY",
                amount=amount,
            )
            known = self.model.transfers.get(transfer_id)
            if known is not None and known[0] != (source, dest, amount):
                with pytest.raises(Conflict), ledger_session(db) as s:
                    service.transfer(s.ledger, request, at=T0)
                return
            with ledger_session(db) as s:
                record = service.transfer(s.ledger, request, at=T0)
            if known is not None:
                assert record.replayed
                assert record.ok == known[1]
                return
            expected = source != dest and self.model.available(source) >= amount
            assert record.ok == expected, record.message
            self.model.transfers[transfer_id] = ((source, dest, amount), expected)
            if expected:
                self.model.posted[source] -= amount
                self.model.posted[dest] += amount

        # -- holds ---------------------------------------------------------------------------------

        @rule(name=st.sampled_from(NAMES), amount=amounts)
        def place_hold(self, name: str, amount: int) -> None:
            hold_id = f"r{self.run}-h{next(self.refs)}"
            hold = Hold(
                id=hold_id,
                account=self.account(name),
                currency="CNY",
                amount=amount,
                purpose="payment",
                destination=Platform.MERCHANT_SETTLEMENT,
                created_at=T0,
                expires_at=None,
                on_expiry=ExpiryAction.KEEP,
            )
            if self.model.available(name) < amount:
                with pytest.raises(Refused), ledger_session(db) as s:
                    service.place_hold(s.ledger, hold)
                return
            with ledger_session(db) as s:
                service.place_hold(s.ledger, hold)
            self.model.holds[hold_id] = (name, amount)
            self.model.held[name] += amount

        @precondition(lambda self: self.model.holds)
        @rule(data=st.data(), void=st.booleans(), part=st.integers(min_value=1, max_value=100))
        def resolve_hold(self, data: st.DataObject, void: bool, part: int) -> None:
            """Void a hold, or post `part` % of it (the rest is released)."""
            hold_id = data.draw(st.sampled_from(sorted(self.model.holds)))
            name, amount = self.model.holds.pop(hold_id)
            posted = 0 if void else max(1, amount * part // 100)
            with ledger_session(db) as s:
                if posted:
                    service.post_hold(s.ledger, hold_id, at=T0, amount=posted)
                else:
                    service.void_hold(s.ledger, hold_id, at=T0)
            self.model.held[name] -= amount
            self.model.posted[name] -= posted
            self.model.resolved_holds.add(hold_id)

        @precondition(lambda self: self.model.resolved_holds)
        @rule(data=st.data(), post=st.booleans())
        def resolve_again(self, data: st.DataObject, post: bool) -> None:
            hold_id = data.draw(st.sampled_from(sorted(self.model.resolved_holds)))
            resolve = service.post_hold if post else service.void_hold
            with pytest.raises(Conflict, match="already"), ledger_session(db) as s:
                resolve(s.ledger, hold_id, at=T0)

        # -- what must always hold ---------------------------------------------------------------

        @invariant()
        def balances_match_the_model(self) -> None:
            with ledger_session(db) as s:
                for name in NAMES:
                    b = s.ledger.balance(self.account(name), "CNY")
                    assert (b.posted, b.held, b.pending_in) == (
                        self.model.posted[name],
                        self.model.held[name],
                        self.model.pending[name],
                    ), name
                    assert b.available >= 0

        def teardown(self) -> None:
            with db.reading() as conn:
                assert check_ledger(conn) == []

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=15 if db.is_sqlite else 8,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
