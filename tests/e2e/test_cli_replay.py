"""`walletguard replay` and `walletguard rules` as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import EventFactory, write_jsonl

CLI = [sys.executable, "-m", "walletguard.cli.main"]


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "WALLETGUARD_HOME": str(cwd / "home"), "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, input=stdin, capture_output=True, timeout=120
    )


def story(tmp_path: Path) -> Path:
    f = EventFactory()
    docs = f.funded("alice", "800.00")
    f.advance(days=2)
    docs.append(f.payment(amount="20.00"))
    docs.append(f.confirm(ref="ghost", amount="900.00", signature_valid=False))
    path = write_jsonl(tmp_path / "events.jsonl", docs)
    with path.open("a") as handle:
        handle.write("this is not json\n\n")
        handle.write(
            json.dumps(
                {
                    "event_id": "bad-1",
                    "type": "teleport",
                    "occurred_at": "2026-03-05T00:00:00Z",
                    "account_id": "x",
                }
            )
            + "\n"
        )
    return path


def test_replay_writes_one_line_per_event_in_order(tmp_path: Path) -> None:
    events = story(tmp_path)
    out = tmp_path / "decisions.jsonl"
    result = run("replay", str(events), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    inputs = [line for line in events.read_text().splitlines() if line.strip()]
    assert len(lines) == len(inputs) == 8
    assert [d["event_id"] for d in lines[:6]] == [json.loads(i)["event_id"] for i in inputs[:6]]
    assert all(d["decision"] in ("allow", "challenge", "review", "block") for d in lines[:6])
    assert lines[5]["decision"] == "block"
    assert lines[6] == {
        "event_id": None,
        "error": {"code": "invalid_input", "message": lines[6]["error"]["message"]},
    }
    assert lines[7]["event_id"] == "bad-1"
    assert "$.type" in lines[7]["error"]["message"]
    stderr = result.stderr.decode()
    assert "replay summary" in stderr
    assert "events/s" in stderr
    assert "fresh database" in stderr


def test_replay_on_a_named_database_is_idempotent(tmp_path: Path) -> None:
    events = story(tmp_path)
    db = f"sqlite:///{tmp_path / 'chain.db'}"
    first = tmp_path / "first.jsonl"
    second = tmp_path / "second.jsonl"
    assert run("replay", str(events), "--out", str(first), "--db", db, cwd=tmp_path).returncode == 0
    assert (
        run("replay", str(events), "--out", str(second), "--db", db, cwd=tmp_path).returncode == 0
    )
    assert first.read_text() == second.read_text()


def test_replay_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    events = story(tmp_path)
    result = run("replay", "-", "--out", "-", cwd=tmp_path, stdin=events.read_bytes())
    assert result.returncode == 0
    assert len(result.stdout.decode().splitlines()) == 8


def test_unreadable_input_is_an_error(tmp_path: Path) -> None:
    result = run(
        "replay", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl"), cwd=tmp_path
    )
    assert result.returncode != 0
    assert "missing.jsonl" in result.stderr.decode()


def test_a_broken_ruleset_is_refused_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: r1\n    on: login\n    when: login_count_by_acount_1h > 3\n    score: 10\n"
    )
    events = story(tmp_path)
    result = run(
        "replay",
        str(events),
        "--out",
        str(tmp_path / "o.jsonl"),
        "--ruleset",
        str(bad),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "rule r1" in result.stderr.decode()
    assert not (tmp_path / "o.jsonl").exists()


def test_rules_check(tmp_path: Path) -> None:
    good = run(
        "rules",
        "check",
        str(Path(__file__).parents[2] / "src/walletguard/rules/default_ruleset.yaml"),
        cwd=tmp_path,
    )
    assert good.returncode == 0
    assert "IMPOSSIBLE_TRAVEL" in good.stdout.decode()
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: r1\n    on: login\n    when: 'auth.method > 3'\n")
    result = run("rules", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert "rule r1 (line 1, column 1)" in result.stderr.decode()


def test_rules_names_lists_the_vocabulary(tmp_path: Path) -> None:
    result = run("rules", "names", cwd=tmp_path)
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "geo.impossible_travel" in out
    assert "{subject}_{measure}_by_{entity}_{window}" in out
