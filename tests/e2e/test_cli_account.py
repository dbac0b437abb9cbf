"""The account stories as a user runs them: `walletguard replay` on event files and
`walletguard account ...` on the same database, each a real process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import walletguard.rules
from tests.support import FOREIGN_IP, EventFactory, write_jsonl
from walletguard.decisions.effects.challenges import challenge_id_for

CLI = [sys.executable, "-m", "walletguard.cli.main"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WALLETGUARD_HOME": str(cwd / "home"), "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def replay(
    tmp: Path, db: str, docs: list[dict[str, Any]], name: str, *options: str
) -> list[dict[str, Any]]:
    events = write_jsonl(tmp / f"{name}.jsonl", docs)
    out = tmp / f"{name}-decisions.jsonl"
    result = run("replay", str(events), "--out", str(out), "--db", db, *options, cwd=tmp)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def reasons(decision: dict[str, Any]) -> set[str]:
    return {r["code"] for r in decision["reasons"]}


def test_password_guessing_ends_locked_and_its_withdrawal_is_refused(tmp_path: Path) -> None:
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=5)
    attacker = {"device": {"id": "attacker"}, "network": {"ip": FOREIGN_IP}}
    for _ in range(5):
        f.advance(seconds=20)
        docs.append(f.login(success=False, **attacker))
    f.advance(minutes=1)
    docs.append(f.withdraw(token="card-alice", amount="500.00", **attacker))
    decisions = replay(tmp_path, f"sqlite:///{tmp_path / 'wg.db'}", docs, "guess")
    locked, withdrawal = decisions[-2:]
    assert locked["account_state"] == "locked"
    assert locked["locked_until"]
    assert withdrawal["decision"] == "block"
    assert "ACCOUNT_LOCKED" in reasons(withdrawal)


def test_a_restricted_account_accepts_a_topup_and_refuses_a_withdrawal(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    replay(tmp_path, db, f.funded("alice", "1000.00"), "setup")
    restricted = run(
        "account", "restrict", "alice", "--reason", "complaint under review",
        "--as", "analyst:kim", "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert restricted.returncode == 0, restricted.stderr
    assert "restricted" in restricted.stdout
    f.advance(days=1)
    topup = f.topup(amount="300.00", ref="r-2")
    f.advance(seconds=30)
    later = [topup, f.confirm(amount="300.00", ref="r-2"), f.withdraw(token="card-alice")]
    top, confirm, withdrawal = replay(tmp_path, db, later, "restricted")
    assert (top["decision"], confirm["decision"]) == ("allow", "allow")
    assert withdrawal["decision"] == "block"
    assert "ACCOUNT_RESTRICTED" in reasons(withdrawal)
    shown = run("account", "show", "alice", "--db", db, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "restricted" in shown.stdout
    assert "analyst:kim" in shown.stdout
    assert "card-alice" in shown.stdout
    assert "ACCOUNT_RESTRICTED" in shown.stdout


def test_sim_change_sms_reset_new_card_then_withdrawal_is_stopped(tmp_path: Path) -> None:
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=5)
    docs.append(f.make("profile_change", profile={"field": "sim"}))
    f.advance(minutes=30)
    docs.append(f.make("password_reset_request"))
    f.advance(minutes=5)
    docs.append(f.make("password_reset_complete", auth={"method": "sms_otp", "success": True}))
    f.advance(minutes=10)
    docs.append(f.bind(token="card-new", binding={"institution": "CMB"}))
    f.advance(minutes=5)
    docs.append(f.withdraw(token="card-new", amount="900.00"))
    decisions = replay(tmp_path, f"sqlite:///{tmp_path / 'wg.db'}", docs, "sim")
    card, withdrawal = decisions[-2:]
    assert card["decision"] == "block"
    assert withdrawal["decision"] == "block"


def test_a_passed_face_check_releases_the_held_withdrawal(tmp_path: Path) -> None:
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=5)
    docs.append(f.make("profile_change", profile={"field": "sim"}))
    f.advance(hours=1)
    withdrawal = f.withdraw(token="card-alice", amount="300.00")
    docs.append(withdrawal)
    f.advance(minutes=2)
    step = {"challenge_id": challenge_id_for(withdrawal["event_id"]), "method": "face"}
    docs.append(f.make("step_up_result", step_up={**step, "success": True}))
    f.advance(minutes=1)
    docs.append(f.payment(amount="700.00"))
    docs.append(f.payment(amount="0.01"))
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    held, passed, rest, nothing_left = replay(tmp_path, db, docs, "face")[-4:]
    assert held["decision"] == "challenge"
    assert held["hold_id"]
    assert passed["decision"] == "allow"
    assert rest["decision"] == "allow"  # 1000 − 300 withdrawn = 700 left
    assert "INSUFFICIENT_FUNDS" in reasons(nothing_left)


def test_a_freeze_link_works_once_and_not_after_it_expires(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    replay(tmp_path, db, f.funded("alice", "1000.00"), "setup")
    unknown = run("account", "freeze-link", "nobody", "--db", db, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "no account nobody" in unknown.stderr
    minted = run("account", "freeze-link", "alice", "--db", db, "--as", "analyst:kim",
                 cwd=tmp_path)  # fmt: skip
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    first = run("account", "redeem-freeze-link", token, "--db", db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "frozen" in first.stdout
    used = run("account", "redeem-freeze-link", token, "--db", db, cwd=tmp_path)
    assert used.returncode == 1
    assert "already used" in used.stderr
    old = run(
        "account", "freeze-link", "alice", "--ttl-hours", "1", "--at", "2026-01-01T00:00:00Z",
        "--db", db, "--as", "operator:joe", cwd=tmp_path,
    )  # fmt: skip
    expired = run("account", "redeem-freeze-link", old.stdout.strip(), "--db", db, cwd=tmp_path)
    assert expired.returncode == 1
    assert "expired" in expired.stderr
    f.advance(minutes=5)
    (withdrawal,) = replay(tmp_path, db, [f.withdraw(token="card-alice")], "after")
    assert "ACCOUNT_FROZEN" in reasons(withdrawal)
    with closing(sqlite3.connect(tmp_path / "wg.db")) as conn:
        minters = conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'account.freeze_link_minted'"
        ).fetchall()
    assert [actor for (actor,) in minters] == ["analyst:kim", "operator:joe"]


def test_an_analyst_freeze_is_lifted_only_with_someone_elses_approval(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    replay(tmp_path, db, f.funded("alice", "1000.00"), "setup")
    common = ["--db", db]
    assert run("account", "freeze", "alice", "--reason", "fraud report", "--as", "analyst:kim",
               *common, cwd=tmp_path).returncode == 0  # fmt: skip
    asked = run(
        "account", "unfreeze", "alice", "--reason", "documents checked", "--verified",
        "manual_kyc", "--as", "analyst:kim", *common, cwd=tmp_path,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    approval = asked.stdout.split("approval ")[1].split()[0]
    same = run("account", "approve-unfreeze", approval, "--as", "analyst:kim", *common,
               cwd=tmp_path)  # fmt: skip
    assert same.returncode == 1
    assert "maker-checker" in same.stderr
    other = run("account", "approve-unfreeze", approval, "--as", "analyst:lee", *common,
                cwd=tmp_path)  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert "active" in other.stdout


def test_unbinding_and_flagging_stop_withdrawals_to_that_account(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=3)
    docs.append(f.bind(token="card-2"))
    replay(tmp_path, db, docs, "setup")
    assert run("account", "unbind", "alice", "card-alice", "--reason", "stolen card",
               "--as", "analyst:kim", "--db", db, cwd=tmp_path).returncode == 0  # fmt: skip
    flagged = run("account", "mark-suspicious", "alice", "card-2", "--reason", "mule ring",
                  "--as", "analyst:kim", "--db", db, cwd=tmp_path)  # fmt: skip
    assert flagged.returncode == 0, flagged.stderr
    f.advance(days=1)
    removed, suspicious = replay(
        tmp_path, db, [f.withdraw(token="card-alice"), f.withdraw(token="card-2")], "after"
    )
    assert "BINDING_REMOVED" in reasons(removed)
    assert "BINDING_SUSPICIOUS" in reasons(suspicious)
    shown = run("account", "show", "alice", "--db", db, cwd=tmp_path).stdout
    assert "unbound" in shown
    assert "suspicious" in shown


def test_a_reset_code_is_checked_by_walletguard(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=3)
    docs.append(f.make("password_reset_request"))
    request = replay(tmp_path, db, docs, "reset")[-1]
    assert "step_up:sms_otp" in request["actions"]
    challenge = request["challenge_id"]
    code = run("account", "challenge-code", challenge, cwd=tmp_path).stdout.strip()
    assert len(code) == 6
    f.advance(minutes=1)
    wrong = "000000" if code != "000000" else "111111"
    at = ["--at", f.now.isoformat(), "--db", db]
    rejected = run("account", "verify-code", challenge, wrong, *at, cwd=tmp_path)
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["decision"] == "challenge"
    accepted = run("account", "verify-code", challenge, code, *at, cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["decision"] == "allow"


def test_a_code_is_decided_with_the_ruleset_the_events_were_replayed_with(
    tmp_path: Path,
) -> None:
    """`verify-code --ruleset` decides the step-up result it makes with that ruleset, as
    `replay --ruleset` decided the events before it."""
    default = Path(walletguard.rules.__file__).with_name("default_ruleset.yaml")
    ruleset = tmp_path / "house.yaml"
    ruleset.write_text(
        default.read_text()
        + """
  - id: house_step_up_watch
    code: HOUSE_STEP_UP_WATCH
    on: step_up_result
    when: "true"
    score: 10
    reason: "House rule: every step-up answer is noted"
"""
    )
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    f = EventFactory()
    docs = f.funded("alice", "1000.00")
    f.advance(days=3)
    docs.append(f.make("password_reset_request"))
    request = replay(tmp_path, db, docs, "reset", "--ruleset", str(ruleset))[-1]
    challenge = request["challenge_id"]
    code = run("account", "challenge-code", challenge, cwd=tmp_path).stdout.strip()
    f.advance(minutes=1)
    at = ["--at", f.now.isoformat(), "--db", db]
    missing = run("account", "verify-code", challenge, code, *at, "--ruleset",
                  str(tmp_path / "nope.yaml"), cwd=tmp_path)  # fmt: skip
    assert missing.returncode != 0
    assert "nope.yaml" in missing.stderr
    accepted = run(
        "account", "verify-code", challenge, code, *at, "--ruleset", str(ruleset), cwd=tmp_path
    )
    assert accepted.returncode == 0, accepted.stderr
    decision = json.loads(accepted.stdout)
    assert decision["decision"] == "allow"
    assert "HOUSE_STEP_UP_WATCH" in reasons(decision)
