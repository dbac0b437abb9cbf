"""Ledger services on real databases: idempotent transfers, holds, limits, top-up sweeps,
withdrawal approvals (maker-checker) and statements."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.ledger_support import T0, fund, funded, pay, units
from walletguard.accounts.model import AccountSecurity
from walletguard.approvals.model import ApprovalStatus
from walletguard.kernel.errors import Conflict, NotFound, Refused
from walletguard.ledger import operator, service, withdrawals
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    HoldStatus,
    Platform,
    Topup,
    TopupStatus,
    TransferRequest,
    wallet_account,
)
from walletguard.ledger.settings import (
    LedgerSettings,
    PeriodLimits,
    StatementFormat,
    parse_ledger_settings,
)
from walletguard.ledger.statement_pdf import statement_pdf
from walletguard.ledger.statements import StatementFilter, statement_csv
from walletguard.ledger.sweep import sweep
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.ledger_import import import_transfers
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import issue_statement, ledger_session


def balance(db: Database, account: str) -> tuple[int, int, int]:
    """(posted, held, available) in units."""
    with ledger_session(db) as session:
        b = session.ledger.balance(wallet_account(account), "CNY")
    return b.posted, b.held, b.available


def assert_sound(db: Database) -> None:
    with db.reading() as conn:
        assert check_ledger(conn) == []


# -- idempotent transfers ---------------------------------------------------------------


def test_a_retried_transfer_pays_once_and_returns_the_first_result(db: Database) -> None:
    funded(db, alice="100.00")
    first = pay(db, "t-1", "alice", "bob", "30.00")
    again = pay(db, "t-1", "alice", "bob", "30.00", at=T0 + timedelta(minutes=5))
    assert first.ok
    assert again.ok
    assert again.replayed
    assert not first.replayed
    assert again.transaction_id == first.transaction_id
    assert balance(db, "alice")[0] == units("70.00")
    assert balance(db, "bob")[0] == units("30.00")
    assert_sound(db)


def test_money_beyond_what_a_balance_can_record_is_refused_and_nothing_moves(
    db: Database,
) -> None:
    largest = "922337203685477.5807"  # the most a balance records (a signed 64-bit column)
    with ledger_session(db) as session:
        fund(session, "alice", largest, channel="unionpay")
        fund(session, "bob", "1.00", channel="alipay")
    with ledger_session(db) as session, pytest.raises(Refused) as refused:
        fund(session, "carol", "0.0001", channel="unionpay")  # its clearing account is full
    assert refused.value.reason_code == "AMOUNT_TOO_LARGE"
    over = pay(db, "t-over", "bob", "alice", "1.00")  # alice's wallet is full
    assert not over.ok
    assert over.reason_code == "AMOUNT_TOO_LARGE"
    assert balance(db, "alice")[0] == units(largest)
    assert balance(db, "bob")[0] == units("1.00")
    assert balance(db, "carol")[0] == 0
    assert_sound(db)


def test_a_remembered_failure_stays_a_failure_even_once_money_arrives(db: Database) -> None:
    funded(db, alice="10.00")
    failed = pay(db, "t-2", "alice", "bob", "50.00")
    assert failed.reason_code == "INSUFFICIENT_FUNDS"
    funded(db, alice="100.00")
    retried = pay(db, "t-2", "alice", "bob", "50.00")
    assert not retried.ok
    assert retried.replayed
    assert retried.reason_code == "INSUFFICIENT_FUNDS"
    with pytest.raises(Refused, match="insufficient"):
        retried.raise_if_failed()
    assert balance(db, "bob")[0] == 0
    assert_sound(db)


def test_the_same_id_with_a_different_payload_is_a_conflict_naming_the_difference(
    db: Database,
) -> None:
    funded(db, alice="100.00")
    pay(db, "t-3", "alice", "bob", "30.00")
    with pytest.raises(Conflict, match=r"amount 30.00 then, 31.00 now"):
        pay(db, "t-3", "alice", "bob", "31.00")
    with pytest.raises(Conflict, match="destination"):
        pay(db, "t-3", "alice", "carol", "30.00")
    assert balance(db, "alice")[0] == units("70.00")


def test_reserved_and_empty_ids_are_refused_without_a_record(db: Database) -> None:
    funded(db, alice="100.00")
    for bad in ("", "hold:x", "topup:y", "recon:z", "evt:e-1"):
        with pytest.raises(Refused, match=r"reserved|empty"):
            pay(db, bad, "alice", "bob", "1.00")


# -- holds ----------------------------------------------------------------------------------


def _hold(hold_id: str, amount: str, **changes: object) -> Hold:
    hold = Hold(
        id=hold_id,
        account="wallet:alice",
        currency="CNY",
        amount=units(amount),
        purpose="payment",
        destination=Platform.MERCHANT_SETTLEMENT,
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        on_expiry=ExpiryAction.VOID,
        counterparty="merchant:shop-1",
    )
    return replace(hold, **changes)  # type: ignore[arg-type]


def test_a_hold_posts_in_part_and_releases_the_rest_once(db: Database) -> None:
    funded(db, alice="100.00")
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-1", "60.00"))
    assert balance(db, "alice") == (units("100.00"), units("60.00"), units("40.00"))
    with pytest.raises(Refused, match="insufficient"), ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-2", "40.01"))
    too_much = "hold h-1 can post more than 0 and at most 60.00 CNY, not 60.01"
    with pytest.raises(Refused, match=too_much), ledger_session(db) as session:
        service.post_hold(session.ledger, "h-1", at=T0, amount=units("60.01"))
    with ledger_session(db) as session:
        posted = service.post_hold(session.ledger, "h-1", at=T0, amount=units("25.00"))
    assert posted.status is HoldStatus.POSTED
    assert balance(db, "alice") == (units("75.00"), 0, units("75.00"))
    for resolve in (
        lambda s: service.post_hold(s.ledger, "h-1", at=T0),
        lambda s: service.void_hold(s.ledger, "h-1", at=T0),
    ):
        with pytest.raises(Conflict, match="already posted"), ledger_session(db) as session:
            resolve(session)
    with pytest.raises(NotFound), ledger_session(db) as session:
        service.void_hold(session.ledger, "nope", at=T0)
    assert_sound(db)


def test_expired_holds_do_what_they_said_when_placed(db: Database) -> None:
    funded(db, alice="100.00")
    with ledger_session(db) as session:
        for hold_id, action in (("h-v", "void"), ("h-e", "escalate"), ("h-k", "keep")):
            service.place_hold(
                session.ledger, _hold(hold_id, "10.00", on_expiry=ExpiryAction(action))
            )
    settings = LedgerSettings()
    with ledger_session(db) as session:
        early = sweep(session, session.queries, settings, now=T0 + timedelta(minutes=59))
    assert early.voided_holds == early.escalated_holds == early.kept_holds == []
    for _ in range(2):  # a second sweep escalates nothing twice
        with ledger_session(db) as session:
            report = sweep(session, session.queries, settings, now=T0 + timedelta(hours=2))
    assert report.kept_holds == ["h-k"]
    with ledger_session(db) as session:
        assert session.ledger.hold("h-v").status is HoldStatus.VOIDED  # type: ignore[union-attr]
        escalated = session.ledger.hold("h-e")
        assert escalated is not None
        assert escalated.status is HoldStatus.PENDING
        assert escalated.escalated_at is not None
        assert escalated.case_id is not None
    assert balance(db, "alice")[1] == units("20.00")
    with db.reading() as conn:
        kinds = conn.execute(select(t.alerts.c.kind)).scalars().all()
    assert kinds == ["review"]
    assert_sound(db)


def test_a_person_posts_or_voids_a_hold_with_an_audit_record(db: Database) -> None:
    funded(db, alice="100.00")
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-p", "10.00"))
        service.place_hold(session.ledger, _hold("h-w", "10.00", purpose="withdrawal"))
    with ledger_session(db) as session:
        operator.post_hold_as(session, "h-p", by="operator:ann", at=T0, amount=None, note="ok")
    with pytest.raises(Refused, match="withdrawal approve"), ledger_session(db) as session:
        operator.post_hold_as(session, "h-w", by="operator:ann", at=T0, amount=None, note="")
    with db.reading() as conn:
        actions = conn.execute(select(t.audit_log.c.action, t.audit_log.c.actor)).all()
    assert ("ledger.hold_posted", "operator:ann") in actions


def test_a_large_hold_is_not_posted_by_one_person_through_the_ledger(db: Database) -> None:
    """The case's release asks a second person from 10,000.00; the ledger's own door must
    not be the way around it."""
    funded(db, alice="30000.00")
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-big", "10000.00"))
        service.place_hold(session.ledger, _hold("h-small", "9999.99"))
    with pytest.raises(Refused) as refused, ledger_session(db) as session:
        operator.post_hold_as(session, "h-big", by="operator:ann", at=T0, amount=None, note="")
    assert refused.value.reason_code == "HOLD_NEEDS_APPROVAL"
    assert "release-hold" in refused.value.message
    with ledger_session(db) as session:
        assert session.ledger.hold("h-big").status is HoldStatus.PENDING  # type: ignore[union-attr]
        operator.post_hold_as(session, "h-small", by="operator:ann", at=T0, amount=None, note="")
        operator.void_hold_as(session, "h-big", by="operator:ann", at=T0, note="not needed")
    assert balance(db, "alice")[1] == 0
    assert_sound(db)


# -- limits -----------------------------------------------------------------------------------

LIMITS = """
limits:
  tiers:
    standard:
      transfer: {per_transaction: "500", daily: "800", monthly: "1000"}
    gold:
      transfer: {daily: "5000"}
  counterparty:
    default: {daily: "600"}
"""


def test_limits_refuse_by_name_and_count_only_what_moved(db: Database) -> None:
    limits = parse_ledger_settings(LIMITS, "test")
    funded(db, alice="10000.00")
    too_big = pay(db, "l-1", "alice", "bob", "500.01", limits=limits)
    assert too_big.reason_code == "LIMIT_PER_TRANSACTION_TRANSFER"
    assert "500.00 CNY" in too_big.message
    assert pay(db, "l-2", "alice", "bob", "400.00", limits=limits).ok
    to_bob = pay(db, "l-3", "alice", "bob", "300.00", limits=limits)
    assert to_bob.reason_code == "LIMIT_DAILY_COUNTERPARTY"
    assert pay(db, "l-4", "alice", "carol", "400.00", limits=limits).ok
    daily = pay(db, "l-5", "alice", "dave", "10.00", limits=limits)
    assert daily.reason_code == "LIMIT_DAILY_TRANSFER"
    assert "800.00 CNY used today" in daily.message
    tomorrow = T0 + timedelta(days=1)
    assert pay(db, "l-6", "alice", "dave", "200.00", at=tomorrow, limits=limits).ok
    monthly = pay(db, "l-7", "alice", "erin", "1.00", at=tomorrow, limits=limits)
    assert monthly.reason_code == "LIMIT_MONTHLY_TRANSFER"
    gold = pay(db, "l-8", "alice", "erin", "900.00", at=tomorrow, limits=limits, tier="gold")
    assert gold.reason_code == "LIMIT_DAILY_COUNTERPARTY"
    assert pay(db, "l-9", "alice", "erin", "600.00", at=tomorrow, limits=limits, tier="gold").ok
    assert_sound(db)


def test_a_hand_transfer_obeys_the_source_accounts_tier(db: Database) -> None:
    """By hand as by event: the limits are those of the tier the wallet's account is on."""
    limits = LedgerSettings(
        tiers={
            "standard": {},
            "basic": {"transfer": PeriodLimits(per_transaction=units("100.00"))},
        }
    )
    funded(db, alice="1000.00")
    with ledger_session(db) as session:
        session.accounts.save(AccountSecurity("alice", tier="basic"))
    request = TransferRequest(
        "tier-1", "transfer", wallet_account("alice"), wallet_account("bob"), "CNY",
        units("500.00"),
    )  # fmt: skip
    with ledger_session(db) as session:
        record = operator.transfer_as(session, request, by="ops:lee", at=T0, limits=limits)
    assert record.reason_code == "LIMIT_PER_TRANSACTION_TRANSFER"
    assert "(tier basic)" in (record.message or "")


@pytest.mark.parametrize("garbled", ["carol ", " carol", "carol\n"])
def test_a_wallet_id_with_a_pasting_slip_is_refused_unless_an_account_has_it(
    db: Database, garbled: str
) -> None:
    funded(db, alice="100.00")
    request = TransferRequest(
        "slip-1", "adjustment", "platform:suspense", wallet_account(garbled), "CNY",
        units("5.00"),
    )  # fmt: skip
    with pytest.raises(Refused) as refused, ledger_session(db) as session:
        operator.transfer_as(session, request, by="ops:lee", at=T0, limits=None)
    assert refused.value.reason_code == "WALLET_UNKNOWN"
    with ledger_session(db) as session:
        session.accounts.save(AccountSecurity(garbled))  # such an id came with events
    with ledger_session(db) as session:
        assert operator.transfer_as(session, request, by="ops:lee", at=T0, limits=None).ok


def test_a_voided_hold_gives_its_limit_back(db: Database) -> None:
    limits = LedgerSettings(tiers={"standard": {"payment": PeriodLimits(daily=units("50.00"))}})
    funded(db, alice="100.00")
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-l", "40.00"), limits=limits)
    with pytest.raises(Refused, match="daily payment limit"), ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-l2", "20.00"), limits=limits)
    with ledger_session(db) as session:
        service.void_hold(session.ledger, "h-l", at=T0)
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-l3", "50.00"), limits=limits)


# -- top-ups ------------------------------------------------------------------------------------


def test_an_unconfirmed_topup_is_flagged_by_the_sweep_and_never_spendable(db: Database) -> None:
    topup = Topup("unionpay", "slow", "alice", "CNY", units("500.00"), "M-1", T0, "ev-t")
    with ledger_session(db) as session:
        service.request_topup(session.ledger, topup)
    settings = LedgerSettings(topup_confirm_within=timedelta(hours=24))
    with ledger_session(db) as session:
        assert (
            sweep(session, session.queries, settings, now=T0 + timedelta(hours=23)).flagged_topups
            == []
        )
    with ledger_session(db) as session:
        report = sweep(session, session.queries, settings, now=T0 + timedelta(hours=25))
    assert report.flagged_topups == ["unionpay/slow"]
    with ledger_session(db) as session:
        flagged = session.ledger.topup("unionpay", "slow")
        assert flagged is not None
        assert flagged.status is TopupStatus.SUSPECTED_FAKE
        assert "within 24 h" in flagged.problem
        assert (
            service.topup_problem(
                flagged,
                amount=topup.amount,
                currency="CNY",
                account_id="alice",
                merchant_no="M-1",
                signature_valid=True,
            )
            == "the top-up is already suspected_fake"
        )
    assert balance(db, "alice") == (0, 0, 0)
    with db.reading() as conn:
        assert conn.execute(select(t.alerts.c.kind)).scalars().all() == ["suspected_fake_topup"]
    assert_sound(db)


# -- withdrawals ----------------------------------------------------------------------------------


def _withdrawal_hold(session, amount: str, approvers: int) -> Hold:  # type: ignore[no-untyped-def]
    hold = _hold(
        "hold-w1",
        amount,
        purpose="withdrawal",
        destination=Platform.PAYOUT_CLEARING,
        on_expiry=ExpiryAction.ESCALATE,
    )
    request = withdrawals.open_release_request(
        session.approvals, hold, required=approvers, requested_by="account:alice", at=T0
    )
    hold = replace(hold, approval_id=request.id)
    service.place_hold(session.ledger, hold)
    return hold


def test_a_large_withdrawal_needs_two_different_approvers_never_the_requester(
    db: Database,
) -> None:
    settings = LedgerSettings(one_approver_above=units("100"), two_approvers_above=units("500"))
    with ledger_session(db) as session:
        fund(session, "alice", "1000.00")
        _withdrawal_hold(session, "800.00", 2)
    with pytest.raises(Refused, match=r"APPROVAL|approved"), ledger_session(db) as session:
        service.post_hold(session.ledger, "hold-w1", at=T0, approvals=session.approvals)
    with pytest.raises(Refused, match="maker-checker"), ledger_session(db) as session:
        withdrawals.approve_withdrawal(
            session, settings, "hold-w1", approver="account:alice", at=T0
        )
    with ledger_session(db) as session:
        hold, request = withdrawals.approve_withdrawal(
            session, settings, "hold-w1", approver="operator:ann", at=T0
        )
    assert hold.status is HoldStatus.PENDING
    assert request.missing == 1
    with pytest.raises(Refused, match="already approved"), ledger_session(db) as session:
        withdrawals.approve_withdrawal(session, settings, "hold-w1", approver="operator:ann", at=T0)
    with ledger_session(db) as session:
        hold, request = withdrawals.approve_withdrawal(
            session, settings, "hold-w1", approver="operator:bob", at=T0
        )
    assert request.status is ApprovalStatus.APPROVED
    assert hold.status is HoldStatus.POSTED
    assert balance(db, "alice") == (units("200.00"), 0, units("200.00"))
    with ledger_session(db) as session:
        assert session.ledger.balance(Platform.PAYOUT_CLEARING, "CNY").posted == units("800.00")
    assert_sound(db)


def test_a_rejected_withdrawal_frees_the_money_and_tells_the_user(db: Database) -> None:
    with ledger_session(db) as session:
        fund(session, "alice", "1000.00")
        _withdrawal_hold(session, "300.00", 1)
    with pytest.raises(Refused, match="say why"), ledger_session(db) as session:
        withdrawals.reject_withdrawal(session, "hold-w1", by="operator:ann", reason=" ", at=T0)
    with ledger_session(db) as session:
        withdrawals.reject_withdrawal(
            session, "hold-w1", by="operator:ann", reason="the card is reported stolen", at=T0
        )
    assert balance(db, "alice") == (units("1000.00"), 0, units("1000.00"))
    with db.reading() as conn:
        note = conn.execute(select(t.outbox)).one()
        status = conn.execute(select(t.approvals.c.status)).scalar()
    assert note.template == "withdrawal.rejected"
    assert note.account_id == "alice"
    assert "reported stolen" in note.params
    assert status == "rejected"
    with pytest.raises(Refused, match="already voided"), ledger_session(db) as session:
        withdrawals.approve_withdrawal(
            session, LedgerSettings(), "hold-w1", approver="operator:bob", at=T0
        )


# -- statements ---------------------------------------------------------------------------


def test_statements_have_running_balances_filters_and_an_audit_stamp(db: Database) -> None:
    with ledger_session(db) as session:
        fund(session, "alice", "100.00", ref="s-1")
        session.audit.append(at=T0, actor="test", action="test.mark", subject="x", payload={})
    pay(db, "s-t1", "alice", "bob", "30.00", at=T0 + timedelta(hours=1))
    pay(db, "s-t2", "bob", "alice", "5.00", at=T0 + timedelta(hours=2))
    pay(
        db,
        "s-p1",
        "alice",
        "platform:merchant_settlement",
        "20.00",
        kind="payment",
        at=T0 + timedelta(hours=3),
    )
    with ledger_session(db) as session:
        whole = issue_statement(
            session, "wallet:alice", "CNY", StatementFilter(), at=T0, actor="test"
        )
        to_bob = issue_statement(
            session,
            "wallet:alice",
            "CNY",
            StatementFilter(start=T0 + timedelta(minutes=30), counterparty="bob"),
            at=T0,
            actor="test",
        )
        topups = issue_statement(
            session,
            "wallet:alice",
            "CNY",
            StatementFilter(channel="unionpay"),
            at=T0,
            actor="test",
        )
    assert [ln.balance for ln in whole.lines] == [units(a) for a in ("100", "70", "75", "55")]
    assert [ln.kind for ln in whole.lines] == ["topup", "transfer", "transfer", "payment"]
    assert to_bob.opening == units("100.00")
    assert [(ln.amount, ln.balance) for ln in to_bob.lines] == [
        (-units("30"), units("70")),
        (units("5"), units("75")),
    ]
    assert [ln.channel for ln in topups.lines] == ["unionpay"]
    assert whole.stamp is not None
    assert to_bob.stamp is not None
    assert whole.stamp.chain == to_bob.stamp.chain  # the account's chain
    assert to_bob.stamp.seq == whole.stamp.seq + 1  # issuing `whole` was recorded there
    text = statement_csv(whole)
    assert f"chain={whole.stamp.chain} seq={whole.stamp.seq} hash={whole.stamp.hash}" in text
    assert "55.00" in text.splitlines()[-1]
    pdf = statement_pdf(whole)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000
    with db.reading() as conn:
        issued = (
            conn.execute(
                select(t.audit_log.c.payload).where(
                    t.audit_log.c.action == "ledger.statement_issued"
                )
            )
            .scalars()
            .first()
        )
    assert issued is not None
    assert whole.digest in issued


def test_a_slip_in_an_account_code_is_refused_on_every_path(db: Database) -> None:
    """A hand transfer must not open an account nobody can reach: a pasted space, a wallet
    id differing only in case from an account's, a misspelt channel. On PostgreSQL a chunk
    holding one leaves the batch path for the one-by-one path, so each is refused alike
    (and not remembered: the corrected line may use the same id); the rest stand."""
    funded(db, alice="100.00")  # a top-up through unionpay
    with ledger_session(db) as session:
        session.accounts.save(AccountSecurity("alice"))
        session.accounts.save(AccountSecurity("Bob"))
        session.accounts.save(AccountSecurity("bob"))  # both exist: either is meant
    alipay = LedgerSettings(formats={"alipay": StatementFormat(columns={})})

    def adjustment(transfer_id: str, destination: str) -> TransferRequest:
        return TransferRequest(transfer_id, "adjustment", "platform:suspense", destination,
                               "CNY", units("1.00"))  # fmt: skip

    chunk = [
        adjustment("ok-alice", wallet_account("alice")),
        adjustment("slip-space", wallet_account("alice ")),
        adjustment("slip-case", wallet_account("ALICE")),
        adjustment("ok-both-cases", wallet_account("Bob")),
        adjustment("ok-new-wallet", wallet_account("carol")),  # opening balances come first
        adjustment("ok-seen-channel", "platform:channel_clearing:unionpay"),
        adjustment("slip-channel", "platform:channel_clearing:unoinpay"),
        adjustment("ok-named-channel", "platform:channel_clearing:alipay"),
    ]
    with ledger_session(db) as session:
        outcomes = import_transfers(session, chunk, by="ops:lee", at=T0, limits=alipay)
    got = {o.id: (o.status, o.reason_code) for o in outcomes}
    assert got == {
        "ok-alice": ("posted", None),
        "slip-space": ("failed", "WALLET_UNKNOWN"),
        "slip-case": ("failed", "WALLET_UNKNOWN"),
        "ok-both-cases": ("posted", None),
        "ok-new-wallet": ("posted", None),
        "ok-seen-channel": ("posted", None),
        "slip-channel": ("failed", "CHANNEL_UNKNOWN"),
        "ok-named-channel": ("posted", None),
    }
    detail = {o.id: o.detail for o in outcomes}
    assert "'alice' differs only in letter case" in detail["slip-case"]
    assert "'unoinpay'" in detail["slip-channel"]
    fixed = [adjustment("slip-case", wallet_account("alice"))]
    with ledger_session(db) as session:
        again = import_transfers(session, fixed, by="ops:lee", at=T0, limits=alipay)
    assert (again[0].status, again[0].replayed) == ("posted", False)
    with db.reading() as conn:
        assert check_ledger(conn) == []
