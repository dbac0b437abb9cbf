"""`walletguard ledger withdrawal approve|reject`, `hold`, `sweep` and `balance` through
the command line (in process, on a real embedded database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.ledger_support import T0, fund, units
from walletguard.cli.main import app
from walletguard.ledger import service, withdrawals
from walletguard.ledger.model import ExpiryAction, Hold, Platform, Topup
from walletguard.storage.database import open_database
from walletguard.storage.ledger_session import ledger_session

runner = CliRunner()


def setup(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wg.db'}"
    database = open_database(url)
    with ledger_session(database) as session:
        fund(session, "alice", "90000.00")
        for hold_id, amount, required in (("hold-big", "70000.00", 2), ("hold-small", "100.00", 0)):
            hold = Hold(
                id=hold_id,
                account="wallet:alice",
                currency="CNY",
                amount=units(amount),
                purpose="withdrawal",
                destination=Platform.PAYOUT_CLEARING,
                created_at=T0,
                expires_at=T0 + timedelta(hours=72),
                on_expiry=ExpiryAction.ESCALATE,
            )
            if required:
                request = withdrawals.open_release_request(
                    session.approvals,
                    hold,
                    required=required,
                    requested_by="operator:max",
                    at=T0,
                )
                hold = replace(hold, approval_id=request.id)
            service.place_hold(session.ledger, hold)
        service.request_topup(
            session.ledger,
            Topup("unionpay", "stale", "alice", "CNY", units("5.00"), "M-1", T0, "ev-s"),
        )
    database.dispose()
    return url


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_withdrawal_approvals_from_the_command_line(tmp_path: Path) -> None:
    db = setup(tmp_path)
    code, output = cli(
        "ledger", "withdrawal", "approve", "hold-big", "--db", db, "--as", "operator:max"
    )
    assert code == 1
    assert "cannot also approve" in output
    code, output = cli(
        "ledger", "withdrawal", "approve", "hold-big", "--db", db, "--as", "operator:ann"
    )
    assert code == 0
    assert "1 more approver(s) needed" in output
    code, output = cli(
        "ledger", "withdrawal", "approve", "hold-big", "--db", db, "--as", "operator:bob"
    )
    assert "released: 70000.00 CNY" in output
    code, output = cli("ledger", "hold", "post", "hold-small", "--db", db, "--as", "operator:ann")
    assert code == 1
    assert "withdrawal approve" in output
    code, output = cli(
        "ledger",
        "withdrawal",
        "reject",
        "hold-small",
        "--reason",
        "not the owner",
        "--db",
        db,
        "--as",
        "operator:ann",
    )
    assert code == 0
    assert "released" in output
    code, output = cli("ledger", "balance", "alice", "--db", db)
    assert "20000.00" in output
    code, output = cli("ledger", "sweep", "--now", "2026-03-04T00:00:00Z", "--db", db)
    assert code == 0
    assert "suspected fake top-up unionpay/stale" in output
    code, output = cli("ledger", "check", "--db", db)
    assert code == 0
