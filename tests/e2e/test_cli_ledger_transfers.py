"""`walletguard ledger transfer` and `ledger transfers FILE` as an operator runs them, on
SQLite and on PostgreSQL (where chunks without limited wallet operations take the
server-side batch path): each id at most once, bad files applying nothing, books sound."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from tests.e2e.test_cli_ledger import run
from tests.support import EventFactory, write_jsonl
from walletguard.storage import tables as t
from walletguard.storage.database import open_database


def write_lines(path: Path, lines: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def available(name: str, db: str, cwd: Path) -> str:
    shown = run("ledger", "balance", name, "--db", db, cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    return next(line for line in shown.stdout.splitlines() if "available" in line)


def test_a_file_of_transfers_is_imported_once_and_keeps_the_books(
    db_url: str, tmp_path: Path
) -> None:
    lines = [
        {"id": "adj-1", "kind": "adjustment", "source": "platform:suspense",
         "destination": "alice", "amount": "50.00", "memo": "goodwill"},
    ]  # fmt: skip
    lines += [
        {"id": f"settle-{i}", "kind": "settlement", "source": "platform:merchant_settlement",
         "destination": "platform:payout_clearing", "amount": "10.00"}
        for i in range(230)
    ]  # fmt: skip
    lines.append(
        {"id": "tr-1", "kind": "transfer", "source": "alice", "destination": "bob",
         "amount": "20.00"}
    )  # fmt: skip
    path = write_lines(tmp_path / "transfers.jsonl", lines)

    first = run("ledger", "transfers", str(path), "--db", db_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "232 transfers: posted 232, refused 0" in first.stdout
    again = run("ledger", "transfers", str(path), "--db", db_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "posted 0" in again.stdout
    assert "already imported 232" in again.stdout
    assert "30.00" in available("alice", db_url, tmp_path)
    assert "20.00" in available("bob", db_url, tmp_path)
    assert "2300.00" in available("platform:payout_clearing", db_url, tmp_path)

    changed = write_lines(
        tmp_path / "changed.jsonl",
        [{**lines[5], "amount": "11.00"},  # a used id with another amount
         {"id": "tr-2", "kind": "transfer", "source": "alice", "destination": "bob",
          "amount": "500.00"}],  # more than alice has
    )  # fmt: skip
    refused = run("ledger", "transfers", str(changed), "--db", db_url, cwd=tmp_path)
    assert refused.returncode == 1, refused.stderr  # the others stand, but it did not all go
    assert "refused 1, conflicting ids 1" in refused.stdout
    assert "settle-4: conflict" in refused.stdout
    assert "tr-2: failed INSUFFICIENT_FUNDS" in refused.stdout
    assert "30.00" in available("alice", db_url, tmp_path)

    assert run("ledger", "check", "--db", db_url, cwd=tmp_path).returncode == 0
    verified = run("audit", "verify", "--db", db_url, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    database = open_database(db_url)
    with database.reading() as conn:
        actions = Counter(conn.execute(select(t.audit_log.c.action)).scalars())
    database.dispose()
    # Audited once each: the 232 first outcomes and the refused tr-2; retries and the
    # conflicting id changed nothing. On PostgreSQL the two chunks of 100 without a limited
    # wallet operation went the server-side way, one record each.
    if database.is_sqlite:
        assert (actions["ledger.transfer"], actions["ledger.transfers"]) == (233, 0)
    else:
        assert (actions["ledger.transfer"], actions["ledger.transfers"]) == (33, 2)


def test_a_bad_line_names_itself_and_nothing_is_applied(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    path = write_lines(
        tmp_path / "bad.jsonl",
        [{"id": "ok-1", "kind": "adjustment", "source": "platform:suspense",
          "destination": "alice", "amount": "50.00"},
         {"id": "bad-1", "kind": "gift", "source": "platform:suspense",
          "destination": "alice", "amount": "1.5"},
         {"id": "ok-1", "kind": "adjustment", "source": "platform:suspense",
          "destination": "alice", "amount": "0.00001"}],
    )  # fmt: skip
    result = run("ledger", "transfers", str(path), "--db", db, cwd=tmp_path)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "line 2: $.kind" in said
    assert "'gift'" in said
    assert "line 3: $.id" in said  # used on line 1 already
    assert "line 3: $.amount" in said
    # line 1 was not applied either: alice's wallet never held money
    shown = run("ledger", "balance", "alice", "--db", db, cwd=tmp_path)
    assert shown.returncode == 2  # the file was refused before the database was even made
    assert "nodatabaseat" in "".join(shown.stderr.split())


def test_one_transfer_by_hand_is_posted_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"

    def transfer(*args: str) -> tuple[int, str]:
        done = run("ledger", "transfer", *args, "--db", db, "--as", "ops:lee", cwd=tmp_path)
        return done.returncode, done.stdout + done.stderr

    code, said = transfer("fund-1", "platform:suspense", "alice", "80.00")
    assert code == 0, said
    assert "transfer fund-1 posted: 80.00 CNY platform:suspense → wallet:alice" in said
    code, said = transfer("fund-1", "platform:suspense", "alice", "80.00")
    assert code == 0
    assert "a retry: the first outcome, nothing changed" in said
    code, said = transfer("fund-1", "platform:suspense", "alice", "90.00")
    assert code != 0
    assert "amount 80.00 then, 90.00 now" in said
    code, said = transfer("pay-1", "alice", "bob", "100.00", "--kind", "transfer")
    assert code == 1
    assert "INSUFFICIENT_FUNDS" in said
    assert "80.00" in available("alice", db, tmp_path)
    audit = run("audit", "verify", "--db", db, cwd=tmp_path)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_frozen_wallet_moves_no_money_by_hand_either(db_url: str, tmp_path: Path) -> None:
    db = db_url
    events = EventFactory()
    registered = write_jsonl(
        tmp_path / "e.jsonl", [events.register("alice"), events.register("bob")]
    )
    replayed = run("replay", str(registered), "-o", "-", "--db", db, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr

    def transfer(*args: str) -> tuple[int, str]:
        done = run("ledger", "transfer", *args, "--db", db, "--as", "ops:lee", cwd=tmp_path)
        return done.returncode, done.stdout + done.stderr

    for name in ("alice", "bob"):
        assert transfer(f"fund-{name}", "platform:suspense", name, "80.00")[0] == 0
    assert transfer("early-1", "bob", "alice", "1.00", "--kind", "transfer")[0] == 0
    frozen = run("account", "freeze", "alice", "--reason", "stolen phone", "--db", db, cwd=tmp_path)
    assert frozen.returncode == 0, frozen.stderr
    code, said = transfer("out-1", "alice", "bob", "10.00", "--kind", "transfer")
    assert code == 1
    assert "account alice is frozen: it may not send money" in said
    code, said = transfer("in-1", "bob", "alice", "10.00", "--kind", "transfer")
    assert code == 1
    assert "account alice is frozen: it may not receive money" in said
    # the platform's own correction still reaches it, audited like any hand transfer
    code, said = transfer("fix-1", "platform:suspense", "alice", "5.00", "--kind", "adjustment")
    assert code == 0, said
    # a retry of what was posted before the freeze gets its first outcome
    code, said = transfer("early-1", "bob", "alice", "1.00", "--kind", "transfer")
    assert code == 0, said
    assert "a retry: the first outcome" in said
    # a file takes the same checks, on PostgreSQL's batch path too
    path = write_lines(
        tmp_path / "to-frozen.jsonl",
        [{"id": "file-1", "kind": "transfer", "source": "platform:suspense",
          "destination": "alice", "amount": "7.00"},
         {"id": "file-2", "kind": "settlement", "source": "platform:merchant_settlement",
          "destination": "platform:payout_clearing", "amount": "3.00"}],
    )  # fmt: skip
    imported = run("ledger", "transfers", str(path), "--db", db, "--as", "ops:lee", cwd=tmp_path)
    assert imported.returncode == 1
    assert "file-1: failed ACCOUNT_FROZEN" in imported.stdout
    assert "86.00" in available("alice", db, tmp_path)
    assert "79.00" in available("bob", db, tmp_path)
