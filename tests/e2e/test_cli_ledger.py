"""`walletguard reconcile` and `walletguard ledger ...` as an operator runs them: real
processes on a real embedded database, after a replay put money in the ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import EventFactory, write_jsonl

CLI = [sys.executable, "-m", "walletguard.cli.main"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WALLETGUARD_HOME": str(cwd / "home"), "COLUMNS": "240"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, timeout=120, text=True
    )


def test_an_operator_reconciles_and_issues_a_statement(tmp_path: Path) -> None:
    f = EventFactory()
    docs = f.funded("alice", "800.00", ref="real-1")
    docs += f.funded("mallory", "300.00", ref="fake-1")
    f.advance(days=2)
    docs.append(f.payment(amount="20.00"))
    events = write_jsonl(tmp_path / "events.jsonl", docs)
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    assert run("replay", str(events), "--out", "d.jsonl", "--db", db, cwd=tmp_path).returncode == 0

    statement = tmp_path / "unionpay.csv"
    statement.write_text(
        "channel_ref,amount,currency,merchant_no,settled_at\n"
        f"real-1,800.00,CNY,M-1,{f.now.isoformat()}\n"
        "nobody-1,5.00,CNY,M-1,2026-03-02T02:20:00Z\n"
    )
    first = run("reconcile", "unionpay", str(statement), "--json", "--db", db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    classes = {i["channel_ref"]: i["classification"] for i in report["items"]}
    assert classes["nobody-1"] == "statement_only"
    assert classes["fake-1"] == "ledger_only"
    again = run("reconcile", "unionpay", str(statement), "--db", db, cwd=tmp_path)
    assert "already imported: nothing changed" in again.stdout

    empty = tmp_path / "unionpay-empty.csv"
    empty.write_text("channel_ref,amount,currency,merchant_no,settled_at\n")
    nothing = run("reconcile", "unionpay", str(empty), "--db", db, cwd=tmp_path)
    assert nothing.returncode == 0, nothing.stderr
    assert "holds no lines: nothing was compared" in nothing.stdout
    assert "every line matched" not in nothing.stdout

    balance = run("ledger", "balance", "mallory", "--db", db, cwd=tmp_path)
    assert "available" in balance.stdout
    assert "held" in balance.stdout
    assert "300.00" in balance.stdout
    holds = run("ledger", "holds", "--db", db, cwd=tmp_path)
    assert "hold-recon-unionpay-fake-1" in holds.stdout

    csv_path, pdf_path = tmp_path / "alice.csv", tmp_path / "alice.pdf"
    made = run(
        "ledger",
        "statement",
        "alice",
        "--csv",
        str(csv_path),
        "--pdf",
        str(pdf_path),
        "--db",
        db,
        "--as",
        "operator:ann",
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    text = csv_path.read_text()
    assert "# audit chain head: chain=" in text
    assert text.strip().splitlines()[-1].split(",")[6] == "780.00"
    assert pdf_path.read_bytes().startswith(b"%PDF")

    check = run("ledger", "check", "--db", db, cwd=tmp_path)
    assert check.returncode == 0
    assert "every ledger invariant holds" in check.stdout

    refused = run("ledger", "hold", "void", "no-such-hold", "--db", db, cwd=tmp_path)
    assert refused.returncode == 1
    assert "no hold no-such-hold" in refused.stderr
