"""`walletguard evaluate`, `backtest` and `demo` as a user runs them: real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from walletguard.simulate import TYPOLOGIES, SimConfig, write_run

CLI = [sys.executable, "-m", "walletguard.cli.main"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WALLETGUARD_HOME": str(cwd / "home"), "COLUMNS": "200"}
    for name in ("WALLETGUARD_PUSH_URL", "WALLETGUARD_EMAIL_URL", "WALLETGUARD_SMS_URL"):
        env.pop(name, None)
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    write_run(SimConfig(seed=5, users=100, days=2, rates=dict.fromkeys(TYPOLOGIES, 150.0)), out)
    return out


def test_evaluate_prints_the_targets_and_writes_json_and_the_report(
    week: Path, tmp_path: Path
) -> None:
    result = run(
        "evaluate",
        str(week / "events.jsonl"),
        str(week / "labels.jsonl"),
        "--json",
        str(tmp_path / "figures.json"),
        "--report",
        str(tmp_path / "report"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "legitimate users challenged or held" in result.stdout
    doc = json.loads((tmp_path / "figures.json").read_text())
    assert {t["typology"] for t in doc["typologies"]} == set(TYPOLOGIES)
    assert doc["events"] == sum(doc["decisions"].values())
    assert (tmp_path / "report" / "report.pdf").read_bytes().startswith(b"%PDF")
    html = (tmp_path / "report" / "report.html").read_text()
    assert "Targets" in html
    assert "data:image/png;base64," in html
    assert "decided on a fresh database" in result.stderr


def test_evaluate_refuses_labels_it_cannot_read(week: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"event_id": "e1", "campaign_id": "c1", "typology": "x"}\nnot json\n')
    result = run("evaluate", str(week / "events.jsonl"), str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert "labels.jsonl:2: is not JSON" in result.stderr


def test_backtest_shows_what_a_candidate_would_change(week: Path, tmp_path: Path) -> None:
    candidate = tmp_path / "strict.yaml"
    candidate.write_text(
        "name: strict\n"
        "rules:\n"
        "  - id: no_emulators\n"
        "    on: all\n"
        "    when: device.is_emulator\n"
        "    score: 1000\n"
        "    floor: critical\n"
        '    reason: "From an emulator"\n'
    )
    result = run(
        "backtest",
        str(week / "events.jsonl"),
        str(week / "labels.jsonl"),
        "--candidate",
        str(candidate),
        "--json",
        str(tmp_path / "diff.json"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "back-test: current vs candidate" in result.stdout
    doc = json.loads((tmp_path / "diff.json").read_text())
    assert doc["decisions_changed"] > 0
    assert doc["current"]["ruleset_version"] != doc["candidate"]["ruleset_version"]
    assert set(doc["current"]["by_typology"]) == set(TYPOLOGIES)
    assert doc["changes"]
    assert doc["examples"]


def test_demo_runs_the_whole_job_into_a_fresh_directory(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run("demo", "--users", "120", "--days", "2", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert all(t["campaigns"] >= 1 for t in summary["typologies"])
    assert summary["demo"]["housekeeping"]["allow_listed_agents"] >= 2
    assert summary["demo"]["housekeeping"]["notifications"]["passed"] is True
    assert (out / "report" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "walletguard.db").is_file()
    assert (out / "sim" / "events.jsonl").is_file()
    assert f"walletguard serve --db sqlite:///{out / 'walletguard.db'}" in result.stdout
    # the database is worth exploring afterwards
    cases = run("cases", "list", "--db", f"sqlite:///{out / 'walletguard.db'}", cwd=tmp_path)
    assert cases.returncode == 0, cases.stderr
    verify = run("audit", "verify", "--db", f"sqlite:///{out / 'walletguard.db'}", cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    again = run("demo", "--users", "120", "--days", "2", "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1
    assert "not empty" in again.stderr
