"""The audit log and evidence endpoints end to end (real server, PostgreSQL, Redis), with
the evidence package checked by `walletguard evidence verify` as a separate process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import text

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, decide, live_service, new_account, refused
from tests.e2e.test_cli_replay import CLI
from tests.support import EventFactory
from walletguard.access.roles import Role


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def verify_offline(package: Path, keys_dir: Path) -> subprocess.CompletedProcess[bytes]:
    """`walletguard evidence verify`, trusting the service's own audit key."""
    env = {**os.environ, "WALLETGUARD_KEYS_DIR": str(keys_dir), "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, "evidence", "verify", str(package)], env=env, capture_output=True, timeout=120
    )


def test_an_auditor_exports_evidence_that_verifies_offline(
    service: LiveService, events: EventFactory, tmp_path: Path
) -> None:
    account = new_account("alice")
    decide(service, [events.register(account), events.login(account)])
    with service.client(Role.ANALYST) as analyst:
        analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "phishing victim"})
        refused(analyst.post("/v1/evidence", json={"account_id": account}), 403)
    with service.client(Role.AUDITOR) as auditor:
        exported = auditor.post("/v1/evidence", json={"account_id": account})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == "application/zip"
        assert "attachment" in exported.headers["content-disposition"]
        both = auditor.post("/v1/evidence", json={"account_id": account, "case_id": "c"})
        assert refused(both, 422)["errors"][0]["path"] == "$"
        refused(auditor.post("/v1/evidence", json={}), 422)
        refused(auditor.post("/v1/evidence", json={"account_id": "never-seen"}), 404)
    package = tmp_path / "evidence.zip"
    package.write_bytes(exported.content)
    checked = verify_offline(package, service.keys_dir)
    assert checked.returncode == 0, checked.stderr
    assert f"account {account}".encode() in checked.stdout
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        records = [json.loads(line) for line in archive.read("audit_records.jsonl").splitlines()]
    freeze = next(r for r in records if r["action"] == "account.state_changed")
    assert freeze["actor"].startswith("key:")
    assert freeze["actor"].endswith(":test-analyst")  # the key's owner is the actor


def test_checkpoints_are_signed_by_supervisors_and_verified(
    service: LiveService, events: EventFactory
) -> None:
    account = new_account("carol")
    decide(service, [events.register(account)])
    with service.client(Role.ANALYST) as analyst:  # an audited change to checkpoint
        frozen = analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "test"})
        assert frozen.status_code == 200, frozen.text
    with service.client(Role.AUDITOR) as auditor:
        refused(auditor.post("/v1/audit/checkpoints"), 403)
    with service.client(Role.SUPERVISOR) as supervisor:
        signed = supervisor.post("/v1/audit/checkpoints")
        assert signed.status_code == 201, signed.text
        checkpoint = signed.json()
    assert len(checkpoint["heads"]) == 16
    assert checkpoint["records"] == sum(h["seq"] for h in checkpoint["heads"]) > 0
    with service.app.state.database.reading() as conn:  # the signing is audited
        signing = conn.execute(
            text("SELECT actor, action FROM audit_log WHERE subject = :s"),
            {"s": f"checkpoint:{checkpoint['id']}"},
        ).all()
    supervisor_key = service.keys[Role.SUPERVISOR].split("_")[1]
    assert [tuple(r) for r in signing] == [
        (f"key:{supervisor_key}:test-supervisor", "audit.checkpoint_signed")
    ]
    with service.client(Role.AUDITOR) as auditor:
        report = auditor.get("/v1/audit/verify").json()
    assert report["ok"] is True
    assert report["signatures_checked"] is True
    assert report["checkpoints"] >= 1
    assert len(report["chains"]) == 16
    assert all(c["ok"] and c["first_break"] is None for c in report["chains"])
    assert report["records"] >= checkpoint["records"]


def test_verify_names_the_first_record_that_was_edited(events: EventFactory) -> None:
    """On a database of its own: history is edited behind the service's back."""
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        account = new_account("alice")
        decide(live, [events.register(account)])
        with live.client(Role.ANALYST) as analyst:
            for reason in ("one", "two"):
                analyst.post(f"/v1/accounts/{account}/restrict", json={"reason": reason})
                analyst.post(f"/v1/accounts/{account}/lift-restriction", json={"reason": reason})
        with live.app.state.database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            chain, seq = conn.execute(
                text("SELECT chain, seq FROM audit_log WHERE actor LIKE 'key:%' ORDER BY seq")
            ).first()
            conn.execute(
                text("UPDATE audit_log SET actor = 'mallory' WHERE chain = :c AND seq = :s"),
                {"c": chain, "s": seq},
            )
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        with live.client(Role.AUDITOR) as auditor:
            report = auditor.get("/v1/audit/verify").json()
    assert report["ok"] is False
    (broken,) = [c for c in report["chains"] if not c["ok"]]
    assert broken["chain"] == chain
    assert broken["first_break"]["seq"] == seq
    assert "edited" in broken["first_break"]["problem"]
