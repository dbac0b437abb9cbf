"""Ledger endpoints end to end (real server, PostgreSQL, Redis): balances, statements,
holds, withdrawal approvals and reconciliation uploads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis as AsyncRedis
from sqlalchemy import func, select

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, decide, live_service, new_account, refused
from tests.support import EventFactory
from walletguard.access.roles import Role
from walletguard.storage import tables as t


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def funded(service: LiveService, events: EventFactory, amount: str) -> str:
    """A registered account with a card and `amount` topped up and confirmed."""
    account = new_account("alice")
    decide(service, events.funded(account, amount, ref=f"ref-{account}"))
    return account


def held_withdrawal(service: LiveService, events: EventFactory, account: str, amount: str) -> str:
    """A withdrawal large enough to wait for a person's approval: its hold id."""
    events.advance(hours=2)
    (decision,) = decide(service, [events.withdraw(account, amount, token=f"card-{account}")])
    assert decision["decision"] == "review", decision
    assert "APPROVAL_REQUIRED" in {r["code"] for r in decision["reasons"]}
    hold_id: str = decision["hold_id"]
    return hold_id


def balance(http: Any, account: str) -> dict[str, str]:
    (found,) = http.get(f"/v1/accounts/{account}/balances").json()
    return {k: v for k, v in found.items() if k in ("posted", "held", "available")}


def test_a_held_withdrawal_approved_by_a_supervisor_releases_the_money(
    service: LiveService, events: EventFactory
) -> None:
    account = funded(service, events, "80000.00")
    hold_id = held_withdrawal(service, events, account, "60000.00")
    with service.client(Role.ANALYST) as analyst:
        assert balance(analyst, account) == {
            "posted": "80000.00",
            "held": "60000.00",
            "available": "20000.00",
        }
        pending = analyst.get(f"/v1/holds?account_id={account}").json()
        assert [(h["id"], h["status"], h["amount"]) for h in pending] == [
            (hold_id, "pending", "60000.00")
        ]
        refused(analyst.post(f"/v1/withdrawals/{hold_id}/approve"), 403)
        not_like_this = analyst.post(f"/v1/holds/{hold_id}/post", json={})
        refused(not_like_this, 422, "WITHDRAWAL_NEEDS_APPROVAL")
        too_much = analyst.post(
            f"/v1/holds/{hold_id}/post", json={"amount": "999999999999999.9999"}
        )
        assert [e["path"] for e in refused(too_much, 422)["errors"]] == ["$.amount"]
        (case,) = analyst.get(f"/v1/cases?account_id={account}").json()
        from_the_case = analyst.post(
            f"/v1/cases/{case['id']}/holds/{hold_id}/release", json={"reason": "fine"}
        )
        refused(from_the_case, 422, "WITHDRAWAL_NEEDS_APPROVAL")  # no approval that never runs
        asked = {(a["action"], a["subject"]) for a in analyst.get("/v1/approvals").json()}
        assert ("hold.release", f"hold:{hold_id}") not in asked
        assert ("withdrawal.release", f"hold:{hold_id}") in asked
    with service.client(Role.SUPERVISOR) as supervisor:
        released = supervisor.post(f"/v1/withdrawals/{hold_id}/approve")
        assert released.status_code == 200, released.text
        body = released.json()
        assert body["released"] is True
        assert body["hold"]["status"] == "posted"
        assert body["hold"]["posted_amount"] == "60000.00"
        assert body["approval"]["approvers"][0].endswith(":test-supervisor")
        refused(supervisor.post(f"/v1/withdrawals/{hold_id}/approve"), 422, "HOLD_RESOLVED")
        assert balance(supervisor, account) == {
            "posted": "20000.00",
            "held": "0.00",
            "available": "20000.00",
        }
        assert supervisor.get(f"/v1/holds?account_id={account}").json() == []
        posted = supervisor.get(f"/v1/holds?account_id={account}&status=posted").json()
        assert [h["id"] for h in posted] == [hold_id]


def test_a_rejected_withdrawal_makes_the_money_available_again(
    service: LiveService, events: EventFactory
) -> None:
    account = funded(service, events, "70000.00")
    hold_id = held_withdrawal(service, events, account, "55000.00")
    with service.client(Role.SUPERVISOR) as supervisor:
        # not by voiding its hold: that would skip the reason and the user's notification
        voided = supervisor.post(f"/v1/holds/{hold_id}/void", json={})
        refused(voided, 422, "WITHDRAWAL_NEEDS_REJECTION")
        refused(supervisor.post(f"/v1/withdrawals/{hold_id}/reject", json={}), 422)
        rejected = supervisor.post(
            f"/v1/withdrawals/{hold_id}/reject", json={"reason": "payee not verified"}
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["hold"]["status"] == "voided"
        assert rejected.json()["approval"]["status"] == "rejected"
        assert balance(supervisor, account)["available"] == "70000.00"
        refused(supervisor.post(f"/v1/holds/{hold_id}/void", json={}), 409)


def test_nothing_is_half_applied_when_a_release_is_refused(
    service: LiveService, events: EventFactory
) -> None:
    """Approving the withdrawal of an account frozen meanwhile is refused, and the approval
    itself is not kept either: the whole call changed nothing."""
    account = funded(service, events, "60000.00")
    hold_id = held_withdrawal(service, events, account, "51000.00")
    with service.client(Role.ANALYST) as analyst:
        analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "takeover suspected"})
        approval_id = analyst.get(f"/v1/holds?account_id={account}").json()[0]["approval_id"]
    with service.client(Role.SUPERVISOR) as supervisor:
        refused(supervisor.post(f"/v1/withdrawals/{hold_id}/approve"), 422, "ACCOUNT_FROZEN")
        approval = supervisor.get(f"/v1/approvals/{approval_id}").json()
        assert (approval["status"], approval["approvers"]) == ("pending", [])
        assert supervisor.get(f"/v1/holds?account_id={account}").json()[0]["status"] == "pending"


def test_statements_as_json_csv_and_pdf(service: LiveService, events: EventFactory) -> None:
    account = funded(service, events, "500.00")
    events.advance(hours=1)
    decide(service, [events.payment(account, amount="30.00")])
    with service.client(Role.AUDITOR) as auditor:
        statement = auditor.get(f"/v1/accounts/{account}/statement").json()
        assert [(ln["type"], ln["amount"], ln["balance"]) for ln in statement["lines"]] == [
            ("topup", "500.00", "500.00"),
            ("payment", "-30.00", "470.00"),
        ]
        assert statement["closing"] == "470.00"
        assert len(statement["audit_stamp"]["hash"]) == 64
        only_payments = auditor.get(
            f"/v1/accounts/{account}/statement", params={"type": "payment"}
        ).json()
        assert [ln["type"] for ln in only_payments["lines"]] == ["payment"]
        later = auditor.get(
            f"/v1/accounts/{account}/statement", params={"from": "2030-01-01T00:00:00Z"}
        ).json()
        assert (later["lines"], later["opening"]) == ([], "470.00")
        as_csv = auditor.get(f"/v1/accounts/{account}/statement", params={"format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.text.startswith(f"# walletguard statement for wallet:{account}")
        assert "-30.00,470.00" in as_csv.text
        as_pdf = auditor.get(f"/v1/accounts/{account}/statement", params={"format": "pdf"})
        assert as_pdf.headers["content-type"] == "application/pdf"
        assert as_pdf.content.startswith(b"%PDF")
        bad = auditor.get(f"/v1/accounts/{account}/statement", params={"from": "yesterday"})
        assert refused(bad, 422)["errors"][0]["path"] == "$.from"
        backwards = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
        bad = auditor.get(f"/v1/accounts/{account}/statement", params=backwards)
        backwards_problem = refused(bad, 422)
        assert "is after to" in backwards_problem["detail"]
        assert [e["path"] for e in backwards_problem["errors"]] == ["$.from"]  # as for `yesterday`
        # a made-up name is not a wallet with an empty statement (nor a line in the audit log)
        issued = statements_issued(service)
        refused(auditor.get("/v1/accounts/nobody-at-all/statement"), 404)
        refused(auditor.get("/v1/accounts/nobody-at-all/balances"), 404)
        assert statements_issued(service) == issued


def statements_issued(service: LiveService) -> int:
    with service.app.state.database.reading() as conn:
        return int(
            conn.execute(
                select(func.count()).where(t.audit_log.c.action == "ledger.statement_issued")
            ).scalar_one()
        )


def statement_csv(lines: list[tuple[str, str, str]]) -> bytes:
    rows = ["channel_ref,amount,currency,merchant_no,settled_at"]
    rows += [f"{ref},{amount},CNY,M-1,{at}" for ref, amount, at in lines]
    return ("\n".join(rows) + "\n").encode()


def test_a_reconciliation_upload_classifies_lines_and_a_reupload_changes_nothing(
    service: LiveService, events: EventFactory
) -> None:
    channel = new_account("chan")  # a channel of its own: other tests' top-ups stay out
    account = new_account("bob")
    topup = {"channel": channel, "merchant_no": "M-1"}
    docs = [events.register(account)]
    requested = {}
    for ref, amount in (("good", "100.00"), ("short", "200.00"), ("ghost", "300.00")):
        events.advance(minutes=5)
        docs.append(events.topup(account, amount, ref=ref, topup={**topup, "channel_ref": ref}))
        requested[ref] = events.now
    decide(service, docs)
    late = (requested["ghost"] + timedelta(minutes=90)).isoformat()
    data = statement_csv(  # its period (settled − 60 min) covers the ghost's request
        [
            ("good", "100.00", requested["good"].isoformat()),
            ("short", "150.00", requested["short"].isoformat()),
            ("stranger", "9.00", late),
        ]
    )
    settled = late
    with service.client(Role.ANALYST) as analyst:
        first = analyst.post(
            f"/v1/reconciliations/{channel}",
            content=data,
            params={"source": "day-1.csv"},
            headers={"content-type": "text/csv"},
        )
        assert first.status_code == 200, first.text
        report = first.json()
        assert report["already_imported"] is False
        assert report["source"] == "day-1.csv"
        classes = {i["channel_ref"]: i["classification"] for i in report["items"]}
        assert classes == {
            "good": "matched",
            "short": "amount_mismatch",
            "stranger": "statement_only",
            "ghost": "ledger_only",
        }
        assert (
            "case opened"
            in next(i for i in report["items"] if i["channel_ref"] == "ghost")["action"]
        )
        cases_before = analyst.get("/v1/cases", params={"account_id": account}).json()
        again = analyst.post(
            f"/v1/reconciliations/{channel}", content=data, headers={"content-type": "text/csv"}
        ).json()
        assert again["already_imported"] is True
        assert (again["digest"], again["items"]) == (report["digest"], report["items"])
        assert analyst.get("/v1/cases", params={"account_id": account}).json() == cases_before
        stored = analyst.get(f"/v1/reconciliations/{channel}/{report['digest']}").json()
        assert stored["items"] == report["items"]
        listed = analyst.get(f"/v1/reconciliations/{channel}").json()
        assert [r["digest"] for r in listed] == [report["digest"]]
        refused(analyst.get(f"/v1/reconciliations/other/{report['digest']}"), 404)
        broken = analyst.post(f"/v1/reconciliations/{channel}", content=b"ref;amount\nx;1\n")
        assert refused(broken, 422)["errors"][0]["path"] == "header"
        bad_line = analyst.post(
            f"/v1/reconciliations/{channel}",
            content=statement_csv([("x", "lots", settled)]),
        )
        assert "line 2" in refused(bad_line, 422)["detail"]


def test_a_statement_may_be_larger_than_other_bodies_up_to_its_own_limit(
    service: LiveService, events: EventFactory
) -> None:
    settled = events.now.isoformat()
    big = statement_csv([(f"r{i}", "1.00", settled) for i in range(3000)])  # ~130 KB
    assert 64 * 1024 < len(big) < 8 * 1024 * 1024
    channel = new_account("chan")
    account = funded(service, events, "10.00")
    decide(
        service, [events.topup(account, "5.00", ref=f"ref-{channel}", topup={"channel": channel})]
    )
    with service.client(Role.ANALYST) as analyst:
        accepted = analyst.post(f"/v1/reconciliations/{channel}", content=big)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["counts"]["statement_only"] == 3000
        too_big = analyst.post("/v1/reconciliations/x", content=b"a" * (8 * 1024 * 1024 + 1))
        refused(too_big, 413)
        refused(analyst.post("/v1/lists", content=b"a" * (64 * 1024 + 1)), 413)
    with service.client(Role.AUDITOR) as auditor:
        refused(auditor.post("/v1/reconciliations/x", content=big), 403)
