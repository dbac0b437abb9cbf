"""The review queue, case work, case actions and approvals end to end (real server,
PostgreSQL, Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis as AsyncRedis

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, decide, live_service, new_account, refused
from tests.support import EventFactory
from walletguard.access.roles import Role


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def case_with_a_hold(
    service: LiveService, events: EventFactory, amount: str = "60000.00"
) -> dict[str, Any]:
    """An account whose large withdrawal waits for approval: its decision (case, hold)."""
    account = new_account("alice")
    decide(service, events.funded(account, "99000.00", ref=f"ref-{account}"))
    events.advance(hours=2)
    (decision,) = decide(service, [events.withdraw(account, amount, token=f"card-{account}")])
    assert decision.get("case_id"), decision
    assert decision.get("hold_id"), decision
    return {**decision, "account_id": account}


def test_the_queue_and_working_a_case_to_its_resolution(
    service: LiveService, events: EventFactory
) -> None:
    small = case_with_a_hold(service, events, "51000.00")
    large = case_with_a_hold(service, events, "90000.00")
    with service.client(Role.AUDITOR) as auditor:
        queue = auditor.get("/v1/cases").json()
        priorities = [c["priority"] for c in queue]
        assert priorities == sorted(priorities, reverse=True)
        ids = [c["id"] for c in queue]
        assert ids.index(large["case_id"]) < ids.index(small["case_id"])  # more at stake
        case = auditor.get(f"/v1/cases/{large['case_id']}").json()
        refused(auditor.post(f"/v1/cases/{large['case_id']}/notes", json={"text": "x"}), 403)
    assert case["account_id"] == large["account_id"]
    assert case["amount_at_stake"] == "90000.00"
    (alert,) = case["alerts"]
    assert alert["event_id"] == large["event_id"]
    assert alert["decision"] == "review"
    assert "APPROVAL_REQUIRED" in {r["code"] for r in alert["reasons"]}
    assert [h["id"] for h in case["holds"]] == [large["hold_id"]]
    case_id = large["case_id"]
    with service.client(Role.ANALYST) as analyst:
        blanks = [("assign", {"assignee": " "}), ("notes", {"text": " "})]
        blanks.append(("resolve", {"outcome": "false_positive", "note": " "}))
        for action, blank in blanks:  # named by their JSON path, like the schema's problems
            answer = analyst.post(f"/v1/cases/{case_id}/{action}", json=blank)
            assert [e["path"] for e in refused(answer, 422)["errors"]] == [f"$.{[*blank][-1]}"]
        assigned = analyst.post(f"/v1/cases/{case_id}/assign", json={"assignee": "rita"}).json()
        assert (assigned["assignee"], assigned["status"]) == ("rita", "investigating")
        noted = analyst.post(f"/v1/cases/{case_id}/notes", json={"text": "called the customer"})
        assert noted.status_code == 201
        assert noted.json()["author"].endswith(":test-analyst")
        waiting = analyst.post(
            f"/v1/cases/{case_id}/status", json={"status": "waiting_customer", "note": "ID asked"}
        ).json()
        assert waiting["status"] == "waiting_customer"
        to_resolved = analyst.post(f"/v1/cases/{case_id}/status", json={"status": "resolved"})
        assert refused(to_resolved, 422)["errors"][0]["path"] == "$.status"
        resolved = analyst.post(
            f"/v1/cases/{case_id}/resolve",
            json={"outcome": "false_positive", "note": "customer buying a car"},
        )
        assert resolved.status_code == 200, resolved.text
        assert (resolved.json()["status"], resolved.json()["labels"]) == ("resolved", 1)
        assert resolved.json()["priority"] is None
        again = analyst.post(
            f"/v1/cases/{case_id}/resolve", json={"outcome": "fraud_confirmed", "note": "x"}
        )
        refused(again, 409)
        assert case_id not in {c["id"] for c in analyst.get("/v1/cases").json()}
        everything = analyst.get("/v1/cases", params={"include_resolved": True}).json()
        assert case_id in {c["id"] for c in everything}
        detail = analyst.get(f"/v1/cases/{case_id}").json()
        assert [n["kind"] for n in detail["notes"]] == ["assign", "note", "status", "resolve"]
        assert [label["label"] for label in detail["labels"]] == ["legit"]
        refused(analyst.get("/v1/cases/case-nothing"), 404)


def test_case_actions_with_a_second_person_for_the_unfreeze(
    service: LiveService, events: EventFactory
) -> None:
    found = case_with_a_hold(service, events)
    case_id, account, hold_id = found["case_id"], found["account_id"], found["hold_id"]
    with service.client(Role.ANALYST) as analyst:
        frozen = analyst.post(f"/v1/cases/{case_id}/freeze", json={"reason": "mule pattern"})
        assert frozen.json()["done"] is True
        assert analyst.get(f"/v1/accounts/{account}").json()["state"] == "frozen"
        voided = analyst.post(
            f"/v1/cases/{case_id}/holds/{hold_id}/void", json={"reason": "not the owner"}
        ).json()
        assert voided["done"] is True
        listed = analyst.post(
            f"/v1/cases/{case_id}/lists",
            json={"entity": "device", "value": f"phone-{account}", "reason": "mule device"},
        ).json()
        assert listed["done"] is True
        assert any(e["value"] == f"phone-{account}" for e in analyst.get("/v1/lists").json())
        unbound = analyst.post(
            f"/v1/cases/{case_id}/unbind",
            json={"token": f"card-{account}", "reason": "card of a mule"},
        ).json()
        assert unbound["done"] is True
        asked = analyst.post(f"/v1/cases/{case_id}/unfreeze", json={"reason": "cleared"}).json()
        assert asked["done"] is False
        approval_id = asked["approval"]["id"]
        same = analyst.post(f"/v1/cases/{case_id}/unfreeze", json={"reason": "cleared"}).json()
        assert same["approval"]["id"] == approval_id  # one request, not two
        assert approval_id in {a["id"] for a in analyst.get("/v1/approvals").json()}
    with service.client(Role.SUPERVISOR) as supervisor:
        approved = supervisor.post(f"/v1/approvals/{approval_id}/approve").json()
        assert approved["done"] is True
        assert approved["message"].endswith("is active again")
        assert supervisor.get(f"/v1/accounts/{account}").json()["state"] == "active"
        notes = [n["text"] for n in supervisor.get(f"/v1/cases/{case_id}").json()["notes"]]
        decided = supervisor.get("/v1/approvals", params={"status": "approved"}).json()
    assert approval_id in {a["id"] for a in decided}
    assert any(n.startswith("froze the account") for n in notes)
    assert any(n.startswith("unfroze the account") for n in notes)
    with service.client(Role.INTEGRATOR) as http:
        events.advance(minutes=5)
        login = http.post("/v1/events", json=events.login(account)).json()
    assert login["decision"] == "block"  # its device is on the block list now
    assert "BLOCK_LIST" in {r["code"] for r in login["reasons"]}


def test_a_rejected_approval_never_runs(service: LiveService, events: EventFactory) -> None:
    found = case_with_a_hold(service, events)
    case_id, account = found["case_id"], found["account_id"]
    with service.client(Role.ANALYST) as analyst:
        analyst.post(f"/v1/cases/{case_id}/freeze", json={"reason": "odd"})
        asked = analyst.post(f"/v1/cases/{case_id}/unfreeze", json={"reason": "ok now"}).json()
    approval_id = asked["approval"]["id"]
    with service.client(Role.SUPERVISOR) as supervisor:
        refused(supervisor.post(f"/v1/approvals/{approval_id}/reject", json={"reason": ""}), 422)
        rejected = supervisor.post(
            f"/v1/approvals/{approval_id}/reject", json={"reason": "not convinced"}
        ).json()
        assert rejected["approval"]["status"] == "rejected"
        refused(supervisor.post(f"/v1/approvals/{approval_id}/approve"), 409)
        assert supervisor.get(f"/v1/accounts/{account}").json()["state"] == "frozen"
        notes = [n["text"] for n in supervisor.get(f"/v1/cases/{case_id}").json()["notes"]]
        assert any("rejected approval" in n and "not convinced" in n for n in notes)
        refused(supervisor.post("/v1/approvals/apr-nothing/approve"), 404)


def test_a_withdrawal_release_is_approved_through_the_approvals_queue(
    service: LiveService, events: EventFactory
) -> None:
    found = case_with_a_hold(service, events)
    with service.client(Role.SUPERVISOR) as supervisor:
        pending = supervisor.get("/v1/approvals").json()
        (approval,) = [a for a in pending if a["subject"] == f"hold:{found['hold_id']}"]
        assert approval["action"] == "withdrawal.release"
        released = supervisor.post(f"/v1/approvals/{approval['id']}/approve").json()
        assert released["done"] is True
        assert "released: 60000.00 CNY" in released["message"]
        (hold,) = supervisor.get(
            "/v1/holds", params={"account_id": found["account_id"], "status": "posted"}
        ).json()
    assert hold["id"] == found["hold_id"]
