"""A command that writes a file checks, before any work, that it can: a missing directory or
a directory given as the file is one clear error, and nothing is recorded as written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import EventFactory, write_jsonl
from walletguard.cli.main import app

COMMANDS = {
    "statement": ["ledger", "statement", "alice", "--csv", "{out}", "--db", "{db}"],
    "evidence": ["evidence", "export", "--account", "alice", "-o", "{out}", "--db", "{db}"],
    "replay": ["replay", "{events}", "-o", "{out}", "--db", "{db}"],
    "public key": ["audit", "public-key", "-o", "{out}"],
    "labels": ["cases", "labels", "-o", "{out}", "--db", "{db}"],
}


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, command: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wg.db"
    events = write_jsonl(tmp_path / "e.jsonl", [EventFactory().register("alice")])
    monkeypatch.setenv("WALLETGUARD_HOME", str(tmp_path / "home"))
    setup = CliRunner().invoke(app, ["replay", str(events), "-o", "-", "--db", f"sqlite:///{db}"])
    assert setup.exit_code == 0, setup.output
    audited = _audit_records(db)
    out = tmp_path / "nowhere" / "file" if where == "missing directory" else tmp_path
    args = [a.format(out=out, events=events, db=f"sqlite:///{db}") for a in COMMANDS[command]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.replace("│", " ").split())  # rich boxes and wraps it
    assert (
        "is not an existing directory" if where == "missing directory" else "is a directory"
    ) in said
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _audit_records(db) == audited


def _audit_records(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from audit_log").fetchone()[0])
