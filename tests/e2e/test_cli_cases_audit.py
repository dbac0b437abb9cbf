"""The case, audit and evidence commands as an analyst and an auditor run them (in
process, except the first and last commands, which run as real processes)."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.e2e.test_cli_replay import run
from tests.integration.casework import ruleset_file
from tests.support import EventFactory, write_jsonl
from walletguard.cli.main import app


class Result:
    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(*args: str, cwd: Path) -> Result:
    import os

    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    finally:
        os.chdir(here)
    return Result(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def test_a_case_from_decision_to_evidence(tmp_path: Path) -> None:
    f = EventFactory()
    docs = f.funded("alice", "50000.00")
    f.advance(days=2)
    docs.append(f.withdraw("alice", "20000.00", token="card-alice"))
    events = write_jsonl(tmp_path / "events.jsonl", docs)
    db_path = tmp_path / "wg.db"
    db = f"sqlite:///{db_path}"
    rules = str(ruleset_file(tmp_path))
    assert (
        run(
            "replay", str(events), "-o", "out.jsonl", "--db", db, "--ruleset", rules, cwd=tmp_path
        ).returncode
        == 0
    )

    queue = cli("cases", "list", "--db", db, cwd=tmp_path)
    assert queue.returncode == 0
    assert b"case-ev-5" in queue.stdout
    assert b"alice" in queue.stdout

    waiting = cli(
        "cases",
        "unfreeze",
        "case-ev-5",
        "--reason",
        "verified",
        "--as",
        "ann",
        "--db",
        db,
        cwd=tmp_path,
    )
    assert b"needs a second person" in waiting.stdout
    approval = next(w for w in waiting.stdout.decode().split() if w.startswith("apr-"))
    refused = cli("cases", "approve", approval, "--as", "ann", "--db", db, cwd=tmp_path)
    assert refused.returncode == 1
    assert b"maker-checker" in refused.stderr
    approved = cli("cases", "approve", approval, "--as", "carl", "--db", db, cwd=tmp_path)
    assert approved.returncode == 0
    assert b"active again" in approved.stdout

    resolved = cli(
        "cases",
        "resolve",
        "case-ev-5",
        "--outcome",
        "false_positive",
        "--note",
        "salary",
        "--as",
        "ann",
        "--db",
        db,
        cwd=tmp_path,
    )
    assert resolved.returncode == 0, resolved.stderr
    stats = cli("cases", "rule-stats", "--db", db, cwd=tmp_path)
    assert b"big_money_out" in stats.stdout

    signed = cli("audit", "checkpoint", "--as", "ops:lee", "--db", db, cwd=tmp_path)
    assert signed.returncode == 0
    assert b"created the audit signing key at" in signed.stderr
    with sqlite3.connect(db_path) as conn:  # the signing is audited as its actor's
        signing = conn.execute(
            "SELECT actor, subject FROM audit_log WHERE action = 'audit.checkpoint_signed'"
        ).fetchall()
    assert signing == [("ops:lee", "checkpoint:1")]
    assert cli("audit", "verify", "--db", db, cwd=tmp_path).returncode == 0

    exported = cli(
        "evidence", "export", "--case", "case-ev-5", "-o", "case.zip", "--db", db, cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    assert cli("evidence", "verify", "case.zip", cwd=tmp_path).returncode == 0
    public = cli("audit", "public-key", "-o", "audit.pub", cwd=tmp_path)
    assert public.returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    offline = cli(
        "evidence",
        "verify",
        str(tmp_path / "case.zip"),
        "--public-key",
        str(tmp_path / "audit.pub"),
        cwd=elsewhere,
    )
    assert offline.returncode == 0, offline.stderr

    zipped = (tmp_path / "case.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    contents["cases.jsonl"] = contents["cases.jsonl"].replace(b"false_positive", b"fraud_confirmed")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    (tmp_path / "edited.zip").write_bytes(buffer.getvalue())
    edited = cli("evidence", "verify", "edited.zip", cwd=tmp_path)
    assert edited.returncode == 1
    assert b"cases.jsonl" in edited.stderr

    # someone with the database file edits history: the database refuses, then is bypassed
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    conn.commit()
    conn.close()
    broken = run("audit", "verify", "--db", db, cwd=tmp_path)
    assert broken.returncode == 1
    assert b"record 2" in broken.stderr
    assert b"edited" in broken.stderr
