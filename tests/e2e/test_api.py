"""The HTTP service end to end: a real server, PostgreSQL, Redis, real HTTP."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis as AsyncRedis

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, live_service
from tests.support import EventFactory
from walletguard.access import keys as keys_module
from walletguard.access.keys import parse_key
from walletguard.access.roles import Role
from walletguard.api.app import ApiSettings
from walletguard.composition import default_ruleset_text

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    """One service (PostgreSQL + Redis) for the module: each test uses its own event ids."""
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def test_submit_an_event_and_read_its_decision(service: LiveService, events: EventFactory) -> None:
    doc = events.login(network={"ip": "159.89.1.1"})
    with service.client(Role.INTEGRATOR) as http:
        answer = http.post("/v1/events", json=doc)
        assert answer.status_code == 200
        decision = answer.json()
        assert decision["event_id"] == doc["event_id"]
        assert "HOSTING_NETWORK" in {r["code"] for r in decision["reasons"]}
        assert http.post("/v1/events", json=doc).json() == decision
        assert http.get(f"/v1/decisions/{doc['event_id']}").json() == decision
        missing = http.get("/v1/decisions/nope")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM
        assert "no decision for event nope" in missing.json()["detail"]
        slashed = {**events.login(), "event_id": "shop/2026/ev-1?x#y"}
        assert http.post("/v1/events", json=slashed).status_code == 200
        read = http.get("/v1/decisions/shop%2F2026%2Fev-1%3Fx%23y")
        assert read.status_code == 200, read.text
        assert read.json()["event_id"] == slashed["event_id"]
        assert http.get("/v1/decisions/" + "x" * 129).status_code == 422


def test_same_id_different_body_is_409(service: LiveService, events: EventFactory) -> None:
    doc = events.payment(amount="1.00")
    with service.client(Role.INTEGRATOR) as http:
        http.post("/v1/events", json=doc)
        clash = http.post("/v1/events", json={**doc, "amount": "2.00"})
    assert clash.status_code == 409
    assert clash.json()["code"] == "conflict"


def test_bad_input_names_every_field_and_changes_nothing(service: LiveService) -> None:
    with service.client(Role.INTEGRATOR) as http:
        bad = http.post("/v1/events", json={"event_id": "b1", "type": "teleport", "amount": 3})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == PROBLEM
        paths = {e["path"] for e in bad.json()["errors"]}
        assert {"$.type", "$.amount", "$.occurred_at", "$.account_id"} <= paths
        assert http.get("/v1/decisions/b1").status_code == 404
        not_json = http.post(
            "/v1/events", content=b"{oops", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422


def test_the_largest_amounts_are_decided_and_break_no_one_after_them(
    service: LiveService, events: EventFactory
) -> None:
    """Amounts the schema admits up to 15 digits; the ledger holds up to 922337203685477.5807.
    Neither kind may leave an account, or the wallet it paid, failing afterwards."""
    largest, beyond = "922337203685477.5807", "999999999999999.9999"
    setup = events.funded("giver", "50.00")
    huge = [
        events.transfer("attacker", to="victim", amount=largest),
        events.transfer("attacker", to="victim", amount=largest),
        events.confirm("attacker", amount=beyond, ref="ref-beyond"),
        events.withdraw("attacker", amount=beyond),
    ]
    after = [
        events.transfer("attacker", to="victim", amount="1.00"),
        events.transfer("giver", to="victim", amount="1.00"),
        events.transfer("victim", to="giver", amount="0.50"),
    ]
    with service.client(Role.INTEGRATOR) as http:
        for doc in setup:
            assert http.post("/v1/events", json=doc).status_code == 200
        answers = [http.post("/v1/events", json=doc) for doc in [*huge, *after]]
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    assert [a.json()["decision"] for a in answers[: len(huge)]] == ["block"] * len(huge)
    assert answers[-2].json()["decision"] == "allow"  # the payee's money arrives
    assert answers[-1].json()["decision"] == "allow"  # and can be spent


def test_oversized_bodies_are_refused(service: LiveService, events: EventFactory) -> None:
    doc = events.login(metadata={"padding": "x" * 100_000})
    with service.client(Role.INTEGRATOR) as http:
        answer = http.post("/v1/events", json=doc)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM


def test_a_chunked_body_over_the_limit_is_refused_413(service: LiveService) -> None:
    """A body sent without a length (chunked) is counted as it arrives: over the limit it is
    413, for an endpoint whose body the framework parses as for one that reads it itself."""

    def chunks() -> Iterator[bytes]:
        yield b'{"kind": "block", "entity": "device", "value": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'", "reason": "too long"}'

    for role, path in [(Role.ANALYST, "/v1/lists"), (Role.INTEGRATOR, "/v1/events")]:
        with service.client(role) as http:
            answer = http.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert answer.status_code == 413, (path, answer.text)
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["code"] == "payload_too_large"
    with service.client(Role.ANALYST) as analyst:
        small = analyst.post(
            "/v1/lists",
            content=iter([b'{"kind": "block", "entity": "device", ', b'"value": "p-1"}']),
            headers={"content-type": "application/json"},
        )
        assert small.status_code == 422  # read whole: the reason is missing
        assert [e["path"] for e in small.json()["errors"]] == ["$.reason"]


def test_keys_are_required_checked_and_revocable(
    service: LiveService, events: EventFactory
) -> None:
    with service.client() as anonymous:
        assert anonymous.post("/v1/events", json=events.login()).status_code == 401
        forged = anonymous.post(
            "/v1/events", json=events.login(), headers={"Authorization": "Bearer wg_nothere_secret"}
        )
        assert forged.status_code == 401
    with service.client(Role.AUDITOR) as auditor:
        refused = auditor.post("/v1/events", json=events.login())
        assert refused.status_code == 403
        assert "events:submit" in refused.json()["detail"]


def test_rate_limit_per_key_says_when_to_retry(pg_url: str, events: EventFactory) -> None:
    with live_service(pg_url, redis=AsyncRedis(), settings=ApiSettings(rate_per_second=3)) as live:
        with live.client(Role.INTEGRATOR) as http:
            statuses = [http.post("/v1/events", json=events.login()) for _ in range(8)]
        with live.client(Role.AUDITOR) as auditor:  # refused calls count against the key too
            forbidden = [auditor.post("/v1/events", json=events.login()) for _ in range(8)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].headers["content-type"] == PROBLEM
    assert {r.status_code for r in forbidden} == {403, 429}, [r.status_code for r in forbidden]


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in-process"])
def test_failed_authentications_are_limited_before_a_key_is_hashed(
    pg_url: str, shared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong secret for a key the service has not verified yet costs an argon2 check:
    beyond the failures allowed per client address and per key id, 429 without one."""
    hashed: list[str] = []
    real = keys_module._hasher

    class CountingHasher:
        def hash(self, secret: str) -> str:
            return real.hash(secret)

        def verify(self, hash_: str, secret: str) -> bool:
            hashed.append(secret)
            return real.verify(hash_, secret)

    monkeypatch.setattr(keys_module, "_hasher", CountingHasher())
    settings = ApiSettings(auth_failures=3, auth_failure_window_seconds=86400)  # one window
    redis = AsyncRedis() if shared else None
    with live_service(pg_url, redis=redis, settings=settings, keys=False) as live:
        good = live.new_key(Role.INTEGRATOR)
        with live.client_with(good) as http:
            assert http.get("/v1/decisions/nope").status_code == 404  # verified once
        fresh = live.new_key(Role.AUDITOR)
        parsed = parse_key(fresh)
        assert parsed is not None
        hashed.clear()
        with live.client_with(f"wg_{parsed[0]}_not-the-secret") as wrong:
            answers = [wrong.get("/v1/decisions/nope") for _ in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
        assert len(hashed) == 3  # the refused attempts were not hashed
        limited = answers[3]
        assert limited.headers["content-type"] == PROBLEM
        assert 1 <= int(limited.headers["Retry-After"]) <= 86400
        assert "failed authentications" in limited.json()["detail"]
        elsewhere = {"X-Forwarded-For": "203.0.113.9"}  # another client address
        with live.client_with(fresh) as http:  # the key id is over its limit from anywhere
            assert http.get("/v1/decisions/nope", headers=elsewhere).status_code == 429
        with live.client_with("wg_nothere_secret") as http:  # the address has its own count
            assert http.get("/v1/decisions/nope", headers=elsewhere).status_code == 401
        assert len(hashed) == 3
        with live.client() as anonymous:  # this address is over its limit
            assert anonymous.get("/v1/decisions/nope").status_code == 429
        with live.client_with(good) as http:  # a key already verified is not held up
            assert http.get("/v1/decisions/nope").status_code == 404


def test_lists_take_effect_on_the_next_event(service: LiveService, events: EventFactory) -> None:
    with service.client(Role.ANALYST) as analyst:
        added = analyst.post(
            "/v1/lists",
            json={
                "kind": "block",
                "entity": "device",
                "value": "stolen-phone",
                "reason": "reported stolen",
            },
        )
        assert added.status_code == 201
        assert any(e["value"] == "stolen-phone" for e in analyst.get("/v1/lists").json())
        bad = analyst.post(
            "/v1/lists", json={"kind": "block", "entity": "ip", "value": "999.1.1.1", "reason": "x"}
        )
        assert bad.status_code == 422
        entry = {"kind": "block", "entity": "device", "value": "phone-2", "reason": "x"}
        for expires_at in [
            "2026-03-01T00:00:00",
            "9999-12-31T23:59:59-05:00",
            "1999-01-01T00:00:00Z",
        ]:
            answer = analyst.post("/v1/lists", json={**entry, "expires_at": expires_at})
            assert answer.status_code == 422, (expires_at, answer.text)
            assert answer.headers["content-type"] == PROBLEM
            assert [e["path"] for e in answer.json()["errors"]] == ["$.expires_at"]
        assert not any(e["value"] == "phone-2" for e in analyst.get("/v1/lists").json())
    with service.client(Role.INTEGRATOR) as http:
        decision = http.post("/v1/events", json=events.login(device={"id": "stolen-phone"})).json()
    assert decision["decision"] == "block"
    assert "BLOCK_LIST" in {r["code"] for r in decision["reasons"]}


def test_a_ruleset_runs_in_shadow_until_a_supervisor_promotes_it(
    service: LiveService, events: EventFactory
) -> None:
    stricter = (
        default_ruleset_text().replace("name: default", "name: stricter")
        + """
  - id: any_login_is_suspicious
    code: TEST_SUSPICIOUS_LOGIN
    on: login
    when: "true"
    score: 350
    reason: "Every sign-in is suspicious today"
"""
    )
    with service.client(Role.ANALYST) as analyst:
        check = analyst.post("/v1/rulesets/validate", json={"content": stricter}).json()
        assert check["valid"]
        uploaded = analyst.post("/v1/rulesets", json={"content": stricter})
        assert uploaded.status_code == 201
        version = uploaded.json()["version"]
        assert uploaded.json()["mode"] == "shadow"
        assert analyst.post(f"/v1/rulesets/{version}/promote").status_code == 403
    with service.client(Role.INTEGRATOR) as http:
        shadowed = http.post("/v1/events", json=events.login()).json()
    assert "TEST_SUSPICIOUS_LOGIN" not in {r["code"] for r in shadowed["reasons"]}
    assert shadowed["ruleset_version"] != version
    with service.client(Role.SUPERVISOR) as supervisor:
        promoted = supervisor.post(f"/v1/rulesets/{version}/promote")
        assert promoted.status_code == 200
        modes = {r["version"]: r["mode"] for r in supervisor.get("/v1/rulesets").json()}
        assert modes[version] == "active"
    with service.client(Role.INTEGRATOR) as http:
        after = http.post("/v1/events", json=events.login()).json()
    assert after["ruleset_version"] == version
    assert "TEST_SUSPICIOUS_LOGIN" in {r["code"] for r in after["reasons"]}


def test_health_readiness_and_metrics(service: LiveService, events: EventFactory) -> None:
    with service.client(Role.INTEGRATOR) as http:
        http.post("/v1/events", json=events.login())
        assert http.get("/health").json()["status"] == "ok"
        ready = http.get("/ready").json()
        checks = {"database": "ok", "decider": "ok", "redis": "ok"}
        assert ready == {"status": "ok", "checks": checks}
        metrics = http.get("/metrics").text
    assert 'walletguard_decisions_total{decision="allow"}' in metrics
    assert "walletguard_decision_seconds_bucket" in metrics
    assert "walletguard_review_queue_depth" in metrics


def test_a_decision_stuck_behind_the_database_is_answered_503_and_a_retry_gets_it(
    tmp_path: Path, events: EventFactory
) -> None:
    db = tmp_path / "stuck.db"
    settings = ApiSettings(decision_timeout_seconds=0.5)
    with live_service(f"sqlite:///{db}", settings=settings) as live:
        doc = events.login()
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database's write lock
        with live.client(Role.INTEGRATOR) as http:
            stuck = http.post("/v1/events", json=doc)
            holder.execute("ROLLBACK")
            holder.close()
            assert stuck.status_code == 503
            assert stuck.headers["retry-after"] == "1"
            assert "no decision within 0.5 s" in stuck.json()["detail"]
            again = http.post("/v1/events", json=doc)  # sent again, as the 503 asks
            assert again.status_code == 200
            assert http.get(f"/v1/decisions/{doc['event_id']}").json() == again.json()
