"""Reconciling channel statements with the ledger's top-ups, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.ledger_support import T0, fund, pay, units
from walletguard.accounts import service as accounts_service
from walletguard.accounts.model import AccountSecurity, AccountState, Actor, actor_kind
from walletguard.kernel.errors import ConfigurationError, InvalidInput, Refused
from walletguard.ledger import service, withdrawals
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    HoldStatus,
    Platform,
    Topup,
    TopupStatus,
    wallet_account,
)
from walletguard.ledger.reconcile import reconcile
from walletguard.ledger.settings import LedgerSettings, load_ledger_settings, parse_ledger_settings
from walletguard.storage import tables as t
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

SETTINGS = load_ledger_settings()  # tolerance 0.00, drift 60 minutes


def line(ref: str, amount: str, minutes: float = 1, merchant: str = "M-1") -> str:
    return f"{ref},{amount},CNY,{merchant},{(T0 + timedelta(minutes=minutes)).isoformat()}\n"


HEADER = "channel_ref,amount,currency,merchant_no,settled_at\n"


def seed(db: Database) -> None:
    """good (confirmed), pending-good (pending), fake (confirmed, missing from the statement,
    partly spent), short (confirmed, the statement shows less), ghost (pending, missing)."""
    with ledger_session(db) as session:
        fund(session, "alice", "100.00", ref="good")
        fund(session, "mallory", "500.00", ref="fake", at=T0 + timedelta(minutes=2))
        fund(session, "bob", "80.00", ref="short", at=T0 + timedelta(minutes=3))
        for ref, account in (("pending-good", "carol"), ("ghost", "dave")):
            service.request_topup(
                session.ledger,
                Topup("unionpay", ref, account, "CNY", units("50.00"), "M-1", T0, f"ev-{ref}"),
            )
    # mallory spends most of the fake money before the statement arrives
    pay(db, "spend", "mallory", "eve", "380.00")


def run(db: Database, text: str) -> dict[str, object]:
    with ledger_session(db) as session:
        return reconcile(
            session,
            session.queries,
            SETTINGS,
            channel="unionpay",
            data=text.encode(),
            source="stmt.csv",
            at=T0 + timedelta(days=1),
            actor="operator:ann",
        )


def test_each_line_and_topup_is_classified_and_fakes_are_made_unspendable(db: Database) -> None:
    seed(db)
    statement = (
        HEADER
        + line("good", "100.00")
        + line("pending-good", "50.00")
        + line("short", "60.00", minutes=4)
        + line("unknown", "70.00", minutes=120)
    )
    report = run(db, statement)
    by_ref = {item["channel_ref"]: item for item in report["items"]}  # type: ignore[attr-defined]
    assert {ref: item["classification"] for ref, item in by_ref.items()} == {
        "good": "matched",
        "pending-good": "matched",
        "short": "amount_mismatch",
        "unknown": "statement_only",
        "fake": "ledger_only",
        "ghost": "ledger_only",
    }
    assert report["counts"] == {  # type: ignore[comparison-overlap]
        "matched": 2,
        "amount_mismatch": 1,
        "detail_mismatch": 0,
        "statement_only": 1,
        "ledger_only": 2,
    }
    assert "120.00 held; 380.00 already spent" in by_ref["fake"]["action"]
    with ledger_session(db) as session:
        mallory = session.ledger.balance(wallet_account("mallory"), "CNY")
        bob = session.ledger.balance(wallet_account("bob"), "CNY")
        ghost = session.ledger.topup("unionpay", "ghost")
        fake = session.ledger.topup("unionpay", "fake")
    assert mallory.available == 0
    assert bob.held == units("20.00")  # the part the channel did not settle
    assert ghost is not None
    assert ghost.status is TopupStatus.SUSPECTED_FAKE
    assert fake is not None
    assert fake.status is TopupStatus.SUSPECTED_FAKE
    with db.reading() as conn:
        alerts = conn.execute(select(t.alerts.c.account_id, t.alerts.c.kind)).all()
        assert check_ledger(conn) == []
    assert sorted(alerts) == [
        ("bob", "suspected_fake_topup"),
        ("dave", "suspected_fake_topup"),
        ("mallory", "suspected_fake_topup"),
    ]
    # a later statement lists the ghost after all: matched, and said to be held back
    later = run(db, HEADER + line("ghost", "50.00"))
    (ghost_line,) = later["items"]  # type: ignore[misc]
    assert ghost_line["classification"] == "matched"
    assert ghost_line["note"].startswith("listed now, but held back before (")


def run_as(
    db: Database, text: str, source: str, settings: LedgerSettings = SETTINGS
) -> dict[str, str]:
    """Reconcile `text` (a file named `source`); each top-up's classification by reference."""
    with ledger_session(db) as session:
        report = reconcile(session, session.queries, settings, channel="unionpay",
                           data=text.encode(), source=source, at=T0 + timedelta(days=1),
                           actor="operator:ann")  # fmt: skip
    return {i["channel_ref"]: i["classification"] for i in report["items"]}


def test_consecutive_statements_do_not_call_each_others_topups_missing(db: Database) -> None:
    """A statement's period reaches back the allowed drift (60 min) before its lines, over
    the end of the one before: what that one listed is not missing from this one. And it
    reaches back to where the one before ended: no top-up falls between the two."""
    with ledger_session(db) as session:
        for ref, minute in (("a", 0), ("b", 50), ("c", 70), ("d", 130), ("gap", 5)):
            fund(session, "alice", "10.00", ref=ref, at=T0 + timedelta(minutes=minute))
    day_1 = HEADER + line("a", "10.00", minutes=1) + line("b", "10.00", minutes=51)
    day_2 = HEADER + line("c", "10.00", minutes=71) + line("d", "10.00", minutes=131)
    assert run_as(db, day_1, "day-1.csv") == {"a": "matched", "b": "matched"}
    # day 2's own period is [11, 71] and b lies in it, listed by day 1; day 1's ended at
    # −9, so the top-up requested at 5, on neither statement, is day 2's to find
    assert run_as(db, day_2, "day-2.csv") == {"c": "matched", "d": "matched", "gap": "ledger_only"}
    with ledger_session(db) as session:
        b = session.ledger.topup("unionpay", "b")
        gap = session.ledger.topup("unionpay", "gap")
    assert b is not None
    assert b.status is TopupStatus.CONFIRMED
    assert gap is not None
    assert gap.status is TopupStatus.SUSPECTED_FAKE
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(t.alerts)).scalar() == 1


PER_MERCHANT = parse_ledger_settings(
    """
reconciliation:
  formats:
    default:
      per_merchant: true
      columns: {channel_ref: channel_ref, amount: amount, currency: currency,
                merchant_no: merchant_no, settled_at: settled_at}
""",
    "per-merchant.yaml",
)


def merchants_and_currencies(db: Database) -> None:
    with ledger_session(db) as session:
        fund(session, "alice", "10.00", ref="m1-a", at=T0)
        fund(session, "alice", "10.00", ref="m1-b", at=T0 + timedelta(minutes=90))
        for ref, account, currency, merchant in (
            ("m2", "bob", "CNY", "M-2"),
            ("usd", "carol", "USD", "M-1"),
        ):
            service.request_topup(session.ledger, Topup("unionpay", ref, account, currency,
                                  units("9.00"), merchant, T0 + timedelta(minutes=30),
                                  f"ev-{ref}"))  # fmt: skip


M1_CNY = HEADER + line("m1-a", "10.00", minutes=60) + line("m1-b", "10.00", minutes=150)


def test_a_statement_answers_for_every_topup_of_its_channel(db: Database) -> None:
    """A fake top-up at a merchant, or in a currency, the statement does not show is
    missing from it all the same."""
    merchants_and_currencies(db)
    assert run_as(db, M1_CNY, "all.csv") == {
        "m1-a": "matched", "m1-b": "matched", "m2": "ledger_only", "usd": "ledger_only",
    }  # fmt: skip


def test_a_channel_with_a_statement_per_merchant_is_judged_merchant_by_merchant(
    db: Database,
) -> None:
    merchants_and_currencies(db)
    # M-1's statement: M-2's top-up is not its to judge; M-1's USD one is
    assert run_as(db, M1_CNY, "m-1.csv", PER_MERCHANT) == {
        "m1-a": "matched", "m1-b": "matched", "usd": "ledger_only",
    }  # fmt: skip
    with pytest.raises(ConfigurationError, match="per_merchant: needs a merchant_no column"):
        parse_ledger_settings(
            "reconciliation: {formats: {x: {per_merchant: true, columns: {channel_ref: r, "
            "amount: a, currency: c, settled_at: s}}}}",
            "bad.yaml",
        )


def test_importing_the_same_statement_again_changes_nothing(db: Database) -> None:
    seed(db)
    statement = HEADER + line("good", "100.00")
    first = run(db, statement)
    with db.reading() as conn:
        rows_before = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar()
            for table in (t.holds, t.alerts, t.audit_log, t.topups, t.statement_imports)
        }
    again = run(db, statement)
    assert again["already_imported"] is True
    assert {k: v for k, v in again.items() if k != "already_imported"} == {
        k: v for k, v in first.items() if k != "already_imported"
    }
    with db.reading() as conn:
        rows_after = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar()
            for table in (t.holds, t.alerts, t.audit_log, t.topups, t.statement_imports)
        }
    assert rows_after == rows_before


def test_a_bad_statement_names_its_lines_and_changes_nothing(db: Database) -> None:
    seed(db)
    bad = HEADER + "good,10.00.0,CNY,M-1,2026-03-02T02:01:00Z\nx,5.00,CNY,M-1,yesterday\n"
    with pytest.raises(InvalidInput, match=r"line 2: .*line 3: "):
        run(db, bad)
    with pytest.raises(InvalidInput, match="missing column"):
        run(db, "ref,amount\n")
    with pytest.raises(InvalidInput, match="line 2: does not have the header's 5 columns"):
        run(db, HEADER + "good,10.00,CNY\n")
    with pytest.raises(InvalidInput, match=r"line 2: .*1e1"):
        run(db, HEADER + line("good", "1e1"))
    misspelt = "'unionpy': no top-up came through it"  # every line of it would be an alarm
    with pytest.raises(InvalidInput, match=misspelt), ledger_session(db) as session:
        reconcile(session, session.queries, SETTINGS, channel="unionpy",
                      data=(HEADER + line("good", "100.00")).encode(), source="s.csv",
                      at=T0, actor="operator:ann")  # fmt: skip
    fallback = "'default': no top-up came through it"  # the fallback format is no channel
    with pytest.raises(InvalidInput, match=fallback), ledger_session(db) as session:
        reconcile(session, session.queries, SETTINGS, channel="default",
                  data=(HEADER + line("good", "100.00")).encode(), source="s.csv",
                  at=T0, actor="operator:ann")  # fmt: skip
    for extreme in ("0001-01-01T00:30:00Z", "9999-12-31T23:30:00-05:00", "0001-01-02T00:00:00Z"):
        with pytest.raises(InvalidInput, match=r"line 2: time .* too near the year 1 or 9999"):
            run(db, HEADER + f"good,100.00,CNY,M-1,{extreme}\n")
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(t.statement_imports)).scalar() == 0


def test_a_channel_with_its_own_columns_and_units(db: Database) -> None:
    with ledger_session(db) as session:
        fund(session, "alice", "12.34", channel="example-cents", ref="w-1")
    statement = (
        "trade_no;total_fee;fee_type;mch_id;time_end\nw-1;1234;CNY;M-1;2026-03-02 10:01:00\n"
    )
    with ledger_session(db) as session:
        report = reconcile(
            session,
            session.queries,
            SETTINGS,
            channel="example-cents",
            data=statement.encode(),
            source="s.csv",
            at=T0,
            actor="operator:ann",
        )
    assert report["counts"]["matched"] == 1  # type: ignore[index]


# -- fake money a pending withdrawal has set aside ---------------------------------------------


def withdrawal_waiting_for_approval(db: Database, account: str, hold_id: str, amount: str) -> None:
    """A withdrawal held for approval (one approver): its money is set aside, still in the
    wallet, and leaves it only when approved."""
    with ledger_session(db) as session:
        hold = service.place_hold(
            session.ledger,
            Hold(
                id=hold_id,
                account=wallet_account(account),
                currency="CNY",
                amount=units(amount),
                purpose="withdrawal",
                destination=Platform.PAYOUT_CLEARING,
                created_at=T0 + timedelta(minutes=10),
                expires_at=T0 + timedelta(days=3),
                on_expiry=ExpiryAction.ESCALATE,
            ),
        )
        request = withdrawals.open_release_request(
            session.approvals, hold, required=1, requested_by=f"account:{account}",
            at=T0 + timedelta(minutes=10),
        )  # fmt: skip
        session.ledger.save_hold(replace(hold, approval_id=request.id))


def real_and_fake(db: Database) -> None:
    """Mallory's 1000.00 from the channel (two top-ups) and 1000.00 from a fake top-up."""
    with ledger_session(db) as session:
        fund(session, "mallory", "500.00", ref="real-1")
        fund(session, "mallory", "1000.00", ref="fake", at=T0 + timedelta(minutes=2))
        fund(session, "mallory", "500.00", ref="real-2", at=T0 + timedelta(minutes=120))


REAL_ONLY = HEADER + line("real-1", "500.00") + line("real-2", "500.00", minutes=121)


def test_fake_money_in_a_pending_withdrawal_is_reported_there_and_cannot_leave(
    db: Database,
) -> None:
    """The fake 1000.00 sits in a withdrawal waiting for approval: it is not "already
    spent", and approving the withdrawal must not pay it out."""
    real_and_fake(db)
    withdrawal_waiting_for_approval(db, "mallory", "hold-wd-1", "2000.00")
    report = run(db, REAL_ONLY)
    (fake,) = [i for i in report["items"] if i["channel_ref"] == "fake"]  # type: ignore[attr-defined]
    assert fake["classification"] == "ledger_only"
    assert fake["action"] == (
        "marked suspected fake; 0.00 held; 1000.00 in pending holds (hold-wd-1), account "
        "restricted until a person decides; case opened"
    )
    at = T0 + timedelta(days=1, hours=1)
    with ledger_session(db) as session:
        account = session.accounts.get("mallory")
        assert account is not None
        assert account.state is AccountState.RESTRICTED
        assert actor_kind(account.actor) is not Actor.ANALYST  # lifting it needs a checker
        with pytest.raises(Refused, match="restricted") as refused:
            withdrawals.approve_withdrawal(
                session, SETTINGS, "hold-wd-1", approver="operator:bob", at=at
            )
        assert refused.value.reason_code == "ACCOUNT_RESTRICTED"
    with ledger_session(db) as session:
        hold = session.ledger.hold("hold-wd-1")
        assert hold is not None
        assert hold.status is HoldStatus.PENDING
        lifted = accounts_service.lift_restriction(
            session, "mallory", reason="looks fine", actor="operator:ann", at=at
        )
        assert not lifted.done  # another person must approve
    with db.reading() as conn:
        (summary,) = conn.execute(select(t.alerts.c.summary)).scalars()
        changes = conn.execute(select(t.audit_log.c.action, t.audit_log.c.actor)).all()
        assert check_ledger(conn) == []
    assert "hold-wd-1" in summary
    assert ("account.state_changed", "system:reconciliation") in changes


def test_fake_money_is_split_into_held_in_pending_holds_and_spent(db: Database) -> None:
    real_and_fake(db)
    pay(db, "spend", "mallory", "eve", "1500.00")
    withdrawal_waiting_for_approval(db, "mallory", "hold-wd-2", "400.00")
    report = run(db, REAL_ONLY)
    (fake,) = [i for i in report["items"] if i["channel_ref"] == "fake"]  # type: ignore[attr-defined]
    assert fake["action"] == (
        "marked suspected fake; 100.00 held; 400.00 in pending holds (hold-wd-2), account "
        "restricted until a person decides; 500.00 already spent; case opened"
    )
    with ledger_session(db) as session:
        mallory = session.ledger.balance(wallet_account("mallory"), "CNY")
        account = session.accounts.get("mallory")
    assert mallory.available == 0
    assert mallory.held == units("500.00")
    assert account is not None
    assert account.state is AccountState.RESTRICTED


def test_a_freeze_its_holder_could_lift_alone_is_taken_over(db: Database) -> None:
    real_and_fake(db)
    withdrawal_waiting_for_approval(db, "mallory", "hold-wd-3", "2000.00")
    with ledger_session(db) as session:
        frozen, change = AccountSecurity("mallory").transition(
            AccountState.FROZEN, reason="not me", actor="user", at=T0 + timedelta(hours=3)
        )
        session.accounts.save(frozen, change)
    report = run(db, REAL_ONLY)
    (fake,) = [i for i in report["items"] if i["channel_ref"] == "fake"]  # type: ignore[attr-defined]
    taken_over = "1000.00 in pending holds (hold-wd-3), the holder's own freeze taken over"
    assert taken_over in fake["action"]
    with ledger_session(db) as session:
        account = session.accounts.get("mallory")
        assert account is not None
        assert account.state is AccountState.FROZEN
        assert account.actor == "system:reconciliation"
        assert accounts_service.needs_approval(session, account)  # no self-service unfreeze


# -- a channel with a statement per merchant ----------------------------------------------------

D1 = datetime(2026, 3, 2, tzinfo=UTC)
D2 = D1 + timedelta(days=1)


def merchant_topup(db: Database, ref: str, merchant: str, at: datetime) -> None:
    """A confirmed 10.00 top-up at `merchant`, requested at `at`."""
    with ledger_session(db) as session:
        topup = service.request_topup(
            session.ledger,
            Topup("unionpay", ref, "alice", "CNY", units("10.00"), merchant, at, f"ev-{ref}"),
        )
        service.confirm_topup(session.ledger, topup, at=at, event_id=f"ev-{ref}-ok")


def merchant_statement(
    db: Database, merchant: str, *lines: tuple[str, datetime], at: datetime
) -> dict[str, str]:
    text = HEADER + "".join(
        f"{ref},10.00,CNY,{merchant},{when.isoformat()}\n" for ref, when in lines
    )
    with ledger_session(db) as session:
        report = reconcile(session, session.queries, PER_MERCHANT, channel="unionpay",
                           data=text.encode(), source=f"{merchant}.csv", at=at,
                           actor="operator:ann")  # fmt: skip
    return {i["channel_ref"]: i["classification"] for i in report["items"]}


def test_each_merchant_reaches_back_to_its_own_previous_statement(db: Database) -> None:
    """B's day-2 statement reaches back to where B's day-1 statement ended, not to where A's
    (imported in between) did: B's fake top-up in the gap is found."""
    merchant_topup(db, "b-1", "M-B", D1 + timedelta(hours=8, minutes=5))
    merchant_topup(db, "b-fake", "M-B", D1 + timedelta(hours=15))
    merchant_topup(db, "a-2", "M-A", D2 + timedelta(hours=8, minutes=5))
    merchant_topup(db, "b-2", "M-B", D2 + timedelta(hours=10, minutes=5))
    # B day 1: period ends 07:05 (a line at 08:05, less the hour of drift)
    b_day_1 = merchant_statement(
        db, "M-B", ("b-1", D1 + timedelta(hours=8, minutes=5)), at=D2 + timedelta(hours=1)
    )
    assert b_day_1 == {"b-1": "matched"}
    a_day_2 = merchant_statement(
        db, "M-A", ("a-2", D2 + timedelta(hours=8, minutes=5)), at=D2 + timedelta(hours=20)
    )
    assert a_day_2 == {"a-2": "matched"}  # B's top-ups are not A's statement's to judge
    # B day 2 starts at 09:05; A's statement ended at day 2 07:05, B's own at day 1 07:05
    b_day_2 = merchant_statement(
        db, "M-B", ("b-2", D2 + timedelta(hours=10, minutes=5)), at=D2 + timedelta(hours=21)
    )
    assert b_day_2 == {"b-2": "matched", "b-fake": "ledger_only"}
    with ledger_session(db) as session:
        fake = session.ledger.topup("unionpay", "b-fake")
    assert fake is not None
    assert fake.status is TopupStatus.SUSPECTED_FAKE


def test_a_channel_wide_statement_still_reaches_back_to_the_channels_last_one(
    db: Database,
) -> None:
    """Without `per_merchant`, the previous statement is the channel's, whatever merchants
    its lines named."""
    merchant_topup(db, "b-1", "M-B", D1 + timedelta(hours=8, minutes=5))
    merchant_topup(db, "gap", "M-A", D1 + timedelta(hours=15))
    merchant_topup(db, "a-2", "M-A", D2 + timedelta(hours=8, minutes=5))
    first = run_as(db, HEADER + line("b-1", "10.00", minutes=365, merchant="M-B"), "one.csv")
    assert first == {"b-1": "matched"}
    day_2 = f"a-2,10.00,CNY,M-A,{(D2 + timedelta(hours=8, minutes=5)).isoformat()}\n"
    with ledger_session(db) as session:
        report = reconcile(session, session.queries, SETTINGS, channel="unionpay",
                           data=(HEADER + day_2).encode(), source="two.csv",
                           at=D2 + timedelta(hours=20), actor="operator:ann")  # fmt: skip
    assert {i["channel_ref"]: i["classification"] for i in report["items"]} == {
        "a-2": "matched",
        "gap": "ledger_only",
    }


# -- a top-up that changes between the read and the act (PostgreSQL) ---------------------------


class ConfirmedMeanwhile:
    """The report queries, except that right after the candidates are read another session
    confirms the pending top-up `ref` (as the engine may, between the read and the commit)."""

    def __init__(self, queries: Any, database: Database, ref: str) -> None:
        self._queries = queries
        self._database = database
        self._ref = ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queries, name)

    def topups_between(self, channel: str, start: datetime, end: datetime) -> list[Topup]:
        found: list[Topup] = self._queries.topups_between(channel, start, end)
        with ledger_session(self._database) as other:
            topup = other.ledger.topup(channel, self._ref)
            assert topup is not None
            service.confirm_topup(
                other.ledger, topup, at=T0 + timedelta(hours=3), event_id="ev-late-ok"
            )
        return found


@pytest.mark.postgres
def test_a_candidate_confirmed_after_it_was_read_is_acted_on_as_confirmed(pg_url: str) -> None:
    db = open_database(pg_url)
    try:
        with ledger_session(db) as session:
            fund(session, "alice", "10.00", ref="listed")
            fund(session, "alice", "10.00", ref="listed-2", at=T0 + timedelta(minutes=120))
            service.request_topup(
                session.ledger,
                Topup("unionpay", "late", "mallory", "CNY", units("50.00"), "M-1",
                      T0 + timedelta(minutes=2), "ev-late"),
            )  # fmt: skip
        statement = HEADER + line("listed", "10.00") + line("listed-2", "10.00", minutes=121)
        with ledger_session(db) as session:
            report = reconcile(
                session, ConfirmedMeanwhile(session.queries, db, "late"), SETTINGS,
                channel="unionpay", data=statement.encode(),
                source="s.csv", at=T0 + timedelta(days=1), actor="operator:ann",
            )  # fmt: skip
        (late,) = [i for i in report["items"] if i["channel_ref"] == "late"]
        assert late["topup_status"] == "confirmed"
        assert late["action"] == "marked suspected fake; 50.00 held; case opened"
        with ledger_session(db) as session:
            topup = session.ledger.topup("unionpay", "late")
            mallory = session.ledger.balance(wallet_account("mallory"), "CNY")
        assert topup is not None
        assert topup.status is TopupStatus.SUSPECTED_FAKE
        assert topup.confirm_event_id == "ev-late-ok"  # the confirmation is not forgotten
        assert mallory.held == units("50.00")
        assert mallory.available == 0
        with db.reading() as conn:
            assert check_ledger(conn) == []
    finally:
        db.dispose()
