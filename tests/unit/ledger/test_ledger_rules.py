"""The ledger's pure rules: configuration, transactions, statement parsing and matching,
statement filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walletguard.kernel.errors import ConfigurationError, InvalidInput, Refused
from walletguard.ledger.channel_statement import StatementEntry, parse_statement
from walletguard.ledger.model import Posting, Topup, Transaction
from walletguard.ledger.reconcile import Classification, classify
from walletguard.ledger.settings import LedgerSettings, load_ledger_settings, parse_ledger_settings
from walletguard.ledger.statements import StatementFilter, StatementPosting, build_statement

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_the_default_configuration_loads_and_needs_more_approvers_for_more_money() -> None:
    settings = parse_ledger_settings(
        "approvals: {withdrawal: {one_approver_above: '100', two_approvers_above: '500'}}", "t"
    )
    assert [settings.approvers_needed(u * 10_000) for u in (100, 101, 500, 501)] == [0, 1, 1, 2]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "limits: {tiers: {standard: {transfer: {daily: 5000.5}}}}",
            "limits.tiers.standard.transfer.daily",
        ),
        ("limits: {tiers: {standard: {teleport: {daily: '1'}}}}", "limits.tiers.standard.teleport"),
        (
            "limits: {tiers: {standard: {transfer: {weekly: '1'}}}}",
            "limits.tiers.standard.transfer",
        ),
        (
            "approvals: {withdrawal: {one_approver_above: '9', two_approvers_above: '5'}}",
            "approvals.withdrawal",
        ),
        (
            "reconciliation: {formats: {x: {columns: {amount: a}}}}",
            "reconciliation.formats.x.columns",
        ),
        ("topups: {confirm_within_hours: -1}", "topups.confirm_within_hours"),
        ("reconciliation: {time_drift_minutes: .inf}", "reconciliation.time_drift_minutes"),
        ("reconciliation: {time_drift_minutes: .nan}", "reconciliation.time_drift_minutes"),
        ("topups: {confirm_within_hours: 1.0e+30}", "topups.confirm_within_hours"),
        ("limits: [1, 2]", "limits"),
    ],
)
def test_a_bad_configuration_names_the_key_that_is_wrong(text: str, where: str) -> None:
    with pytest.raises(ConfigurationError, match=where.replace(".", r"\.")):
        parse_ledger_settings(text, "ledger.yaml")


def test_a_transaction_must_balance_per_currency() -> None:
    def tx(*postings: Posting) -> Transaction:
        return Transaction("t", "adjustment", postings, T0)

    tx(Posting("a", "CNY", -5), Posting("b", "CNY", 5)).check_balanced()
    with pytest.raises(Refused, match="does not balance"):
        tx(Posting("a", "CNY", -5), Posting("b", "USD", 5)).check_balanced()
    with pytest.raises(Refused, match="fewer than two"):
        tx(Posting("a", "CNY", 0)).check_balanced()


def test_statement_lines_are_read_with_a_channel_mapping() -> None:
    fmt = parse_ledger_settings(
        """
reconciliation:
  formats:
    x:
      delimiter: ";"
      amount_unit: minor
      time_format: "%Y-%m-%d %H:%M:%S"
      timezone: "+08:00"
      columns: {channel_ref: ref, amount: fee, currency: cur, settled_at: t}
""",
        "t",
    ).statement_format("x")
    [entry] = parse_statement(b"ref;fee;cur;t\nr-1;1250;cny;2026-03-02 10:00:00\n", fmt)
    assert entry.amount == 12_5000
    assert entry.currency == "CNY"
    assert entry.settled_at == T0
    assert entry.merchant_no is None
    with pytest.raises(InvalidInput, match=r"line 2: amount '12\.5' is not a whole number"):
        parse_statement(b"ref;fee;cur;t\nr-1;12.5;CNY;2026-03-02 10:00:00\n", fmt)
    for look_alike in ("\u0421NY", "C1Y"):  # a Cyrillic С; a digit
        with pytest.raises(InvalidInput, match="is not a 3-letter code"):
            parse_statement(
                f"ref;fee;cur;t\nr-1;1250;{look_alike};2026-03-02 10:00:00\n".encode(), fmt
            )


def test_matching_uses_the_tolerances() -> None:
    settings = LedgerSettings(amount_tolerance=100, time_drift=timedelta(minutes=30))
    topup = Topup("u", "r", "alice", "CNY", 10_0000, "M-1", T0, "ev")

    def entry(amount: int, minutes: int = 5, merchant: str = "M-1") -> StatementEntry:
        return StatementEntry(2, "r", amount, "CNY", merchant, T0 + timedelta(minutes=minutes))

    assert classify(entry(10_0100), topup, settings)[0] is Classification.MATCHED
    assert classify(entry(10_0101), topup, settings)[0] is Classification.AMOUNT_MISMATCH
    assert (
        classify(entry(10_0000, minutes=31), topup, settings)[0] is Classification.DETAIL_MISMATCH
    )
    assert (
        classify(entry(10_0000, merchant="M-9"), topup, settings)[0]
        is Classification.DETAIL_MISMATCH
    )
    assert classify(entry(10_0000), None, settings)[0] is Classification.STATEMENT_ONLY


def test_filters_choose_lines_but_the_running_balance_counts_everything() -> None:
    def posting(n: int, amount: int, other: str, kind: str = "transfer") -> StatementPosting:
        return StatementPosting(
            n, f"t{n}", T0 + timedelta(minutes=n), kind, amount, None, "", (other,)
        )

    postings = [
        posting(1, 100, "platform:channel_clearing:unionpay", "topup"),
        posting(2, -30, "wallet:bob"),
        posting(3, -20, "wallet:carol"),
        posting(4, 5, "wallet:bob"),
    ]
    statement = build_statement(
        "wallet:alice",
        "CNY",
        StatementFilter(counterparty="bob"),
        opening=10,
        postings=postings,
        stamp=None,
        made_at=T0,
    )
    assert [(ln.amount, ln.balance) for ln in statement.lines] == [(-30, 80), (5, 65)]
    assert statement.closing == 65
    topups = build_statement(
        "wallet:alice",
        "CNY",
        StatementFilter(channel="unionpay"),
        opening=0,
        postings=postings,
        stamp=None,
        made_at=T0,
    )
    assert [ln.channel for ln in topups.lines] == ["unionpay"]
    assert statement.digest != topups.digest


HEADER = b"channel_ref,amount,currency,merchant_no,settled_at"


def test_lines_may_end_in_a_lone_carriage_return() -> None:
    fmt = load_ledger_settings().statement_format("any")
    data = HEADER + b"\rr-1,1.00,CNY,M-1,2026-03-02T02:00:00Z\r"
    [entry] = parse_statement(data, fmt)
    assert (entry.channel_ref, entry.amount) == ("r-1", 1_0000)


@pytest.mark.parametrize(
    "data",
    [
        HEADER + b'\n"' + b"x" * 200_000 + b'",1.00,CNY,M-1,2026-03-02T02:00:00Z\n',
        b"\xff\xfe not text",
        b"q,\rDX\x01\n",
    ],
)
def test_a_statement_that_is_not_csv_is_invalid_input_not_a_crash(data: bytes) -> None:
    fmt = load_ledger_settings().statement_format("any")
    with pytest.raises(InvalidInput):
        parse_statement(data, fmt)
