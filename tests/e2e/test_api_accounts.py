"""Account endpoints end to end (real server, PostgreSQL, Redis): freeze, restrict,
unfreeze with maker-checker between people, bindings, freeze links, appeals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis as AsyncRedis

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, decide, live_service, new_account, refused
from tests.support import EventFactory
from walletguard.access.roles import Role
from walletguard.accounts.freeze_links import mint_freeze_token
from walletguard.keys import KeyStore


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    """One service for the module: each test works on its own accounts."""
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def registered(service: LiveService, events: EventFactory, *, card: bool = False) -> str:
    account = new_account("alice")
    docs = [events.register(account)]
    if card:
        events.advance(minutes=5)
        docs.append(events.bind(account, token=f"card-{account}"))
    decide(service, docs)
    return account


def test_an_analyst_freezes_and_another_person_approves_the_unfreeze(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events)
    lee, lee_again, kim = (
        service.new_key(Role.SUPERVISOR, owner="lee"),
        service.new_key(Role.SUPERVISOR, owner="lee"),
        service.new_key(Role.SUPERVISOR, owner="kim"),
    )
    with service.client(Role.ANALYST) as analyst:
        assert analyst.get(f"/v1/accounts/{account}").json()["state"] == "active"
        frozen = analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "mule signs"})
        assert frozen.status_code == 200
        assert frozen.json()["state"] == "frozen"
        assert frozen.json()["changed_by"].endswith(":test-analyst")
        again = analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "again"})
        assert refused(again, 409)["code"] == "illegal_transition"
        unverified = analyst.post(f"/v1/accounts/{account}/unfreeze", json={"reason": "called"})
        assert {e["path"] for e in refused(unverified, 422)["errors"]} == {"$.verified_by"}
    with service.client_with(lee) as asker:
        asked = asker.post(
            f"/v1/accounts/{account}/unfreeze",
            json={"reason": "holder verified at the branch", "verified_by": "manual_kyc"},
        ).json()
    assert asked["done"] is False
    assert asked["account"]["state"] == "frozen"
    approval = asked["approval"]
    assert approval["status"] == "pending"
    assert approval["action"] == "account.unfreeze"
    with service.client(Role.ANALYST) as analyst:
        pending = analyst.get("/v1/approvals").json()
        assert approval["id"] in {a["id"] for a in pending}
        no_role = analyst.post(f"/v1/approvals/{approval['id']}/approve")
        assert "approvals:decide" in refused(no_role, 403)["detail"]
    with service.client_with(lee_again) as same_person:
        own = same_person.post(f"/v1/approvals/{approval['id']}/approve")
        refused(own, 422, "SELF_APPROVAL")
    with service.client_with(kim) as checker:
        approved = checker.post(f"/v1/approvals/{approval['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["done"] is True
        assert approved.json()["approval"]["status"] == "approved"
        twice = checker.post(f"/v1/approvals/{approval['id']}/approve")
        refused(twice, 409)
    with service.client(Role.AUDITOR) as auditor:
        state = auditor.get(f"/v1/accounts/{account}").json()
        assert auditor.post(f"/v1/accounts/{account}/freeze", json={"reason": "x"}).status_code == (
            403
        )
    assert state["state"] == "active"
    assert state["changed_by"].endswith(":kim")
    assert [(t["from_state"], t["to_state"]) for t in state["transitions"]] == [
        ("frozen", "active"),
        ("active", "frozen"),
    ]


def test_lifting_someone_elses_restriction_needs_a_second_person(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events)
    lee, kim = (
        service.new_key(Role.SUPERVISOR, owner="lee"),
        service.new_key(Role.SUPERVISOR, owner="kim"),
    )
    with service.client(Role.ANALYST) as analyst:
        analyst.post(f"/v1/accounts/{account}/restrict", json={"reason": "mule signs"})
    with service.client_with(lee) as asker:
        asked = asker.post(
            f"/v1/accounts/{account}/lift-restriction", json={"reason": "documents checked"}
        ).json()
    assert asked["done"] is False
    assert asked["account"]["state"] == "restricted"
    assert asked["approval"]["action"] == "account.unfreeze"
    with service.client_with(kim) as checker:
        approved = checker.post(f"/v1/approvals/{asked['approval']['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["done"] is True
        assert checker.get(f"/v1/accounts/{account}").json()["state"] == "active"


def test_restrict_lift_and_what_cannot_be_loosened(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events)
    with service.client(Role.ANALYST) as analyst:
        restricted = analyst.post(f"/v1/accounts/{account}/restrict", json={"reason": "checks"})
        assert restricted.json()["state"] == "restricted"
        lifted = analyst.post(f"/v1/accounts/{account}/lift-restriction", json={"reason": "ok"})
        assert lifted.json()["done"] is True  # their own restriction
        assert lifted.json()["account"]["state"] == "active"
        refused(analyst.post(f"/v1/accounts/{account}/lift-restriction", json={"reason": "x"}), 409)
        analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "fraud"})
        loosen = analyst.post(f"/v1/accounts/{account}/restrict", json={"reason": "softer"})
        assert "use unfreeze" in refused(loosen, 409)["detail"]
        for nothing in ("", "   \t"):
            blank = analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": nothing})
            assert refused(blank, 422)["errors"][0]["path"] == "$.reason"
        unknown = analyst.post("/v1/accounts/nobody-at-all/freeze", json={"reason": "x"})
        refused(unknown, 404)
        assert analyst.get("/v1/accounts/nobody-at-all").status_code == 404


def test_bindings_are_flagged_and_unbound_with_their_history_kept(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events, card=True)
    card = f"card-{account}"
    with service.client(Role.ANALYST) as analyst:
        flagged = analyst.post(
            f"/v1/accounts/{account}/bindings/{card}/mark-suspicious",
            json={"reason": "chargebacks"},
        )
        assert flagged.status_code == 200, flagged.text
        assert flagged.json()["binding"]["suspicious"] is True
        unbound = analyst.post(
            f"/v1/accounts/{account}/bindings/{card}/unbind", json={"reason": "stolen card"}
        ).json()["binding"]
        assert unbound["active"] is False
        assert unbound["unbind_reason"] == "stolen card"
        again = analyst.post(
            f"/v1/accounts/{account}/bindings/{card}/unbind", json={"reason": "again"}
        )
        refused(again, 404)
        history = analyst.get(f"/v1/accounts/{account}").json()["bindings"]
    assert [(b["token"], b["active"], b["suspicious"]) for b in history] == [(card, False, True)]


def test_a_freeze_link_freezes_once_and_is_refused_after(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events)
    with service.client(Role.INTEGRATOR) as integrator:
        refused(integrator.post(f"/v1/accounts/{account}/freeze-links", json={}), 403)
    with service.client(Role.ANALYST) as analyst:
        minted = analyst.post(
            f"/v1/accounts/{account}/freeze-links",
            json={"base_url": "https://wallet.example/security"},
        )
        assert minted.status_code == 201, minted.text
        link = minted.json()
        assert link["url"] == f"https://wallet.example/security/freeze/{link['token']}"
        too_short = analyst.post(f"/v1/accounts/{account}/freeze-links", json={"ttl_hours": 0})
        assert refused(too_short, 422)["errors"][0]["path"] == "$.ttl_hours"
        # a link for a name walletguard does not know would create that account, frozen
        refused(analyst.post("/v1/accounts/never-seen/freeze-links", json={}), 404)
    secret = KeyStore(service.keys_dir).secret("freeze_link")
    expired = mint_freeze_token(secret, account, at=datetime.now(UTC) - timedelta(days=8))
    with service.client() as anonymous:  # no API key: the token is the credential
        first = anonymous.post("/v1/self-service/freeze", json={"token": link["url"]})
        assert first.status_code == 200, first.text
        assert first.json()["frozen_now"] is True
        assert first.json()["state"] == "frozen"
        second = anonymous.post("/v1/self-service/freeze", json={"token": link["token"]})
        assert "already used" in refused(second, 422, "FREEZE_LINK_USED")["detail"]
        forged = link["token"][:-4] + ("AAAA" if not link["token"].endswith("AAAA") else "BBBB")
        refused(
            anonymous.post("/v1/self-service/freeze", json={"token": forged}),
            422,
            "FREEZE_LINK_INVALID",
        )
        refused(
            anonymous.post("/v1/self-service/freeze", json={"token": expired}),
            422,
            "FREEZE_LINK_EXPIRED",
        )
    with service.client(Role.ANALYST) as analyst:
        state = analyst.get(f"/v1/accounts/{account}").json()
        assert state["changed_by"] == "user"
        unfrozen = analyst.post(
            f"/v1/accounts/{account}/unfreeze",
            json={"reason": "the holder froze it and called back", "verified_by": "face"},
        ).json()
    assert unfrozen["done"] is True  # the holder froze it: no second person needed
    assert unfrozen["account"]["state"] == "active"


def test_appeals_are_recorded_once_and_resolved_once(
    service: LiveService, events: EventFactory
) -> None:
    account = registered(service, events)
    with service.client(Role.ANALYST) as analyst:
        nothing = analyst.post(f"/v1/accounts/{account}/appeals", json={"text": "why?"})
        refused(nothing, 422, "NOTHING_TO_APPEAL")
        analyst.post(f"/v1/accounts/{account}/freeze", json={"reason": "odd logins"})
        blank = analyst.post(f"/v1/accounts/{account}/appeals", json={"text": " "})
        assert [e["path"] for e in refused(blank, 422)["errors"]] == ["$.text"]
        opened = analyst.post(
            f"/v1/accounts/{account}/appeals", json={"text": "it was me, on holiday"}
        )
        assert opened.status_code == 201, opened.text
        appeal = opened.json()
        assert appeal["restriction"] == "frozen"
        refused(analyst.post(f"/v1/accounts/{account}/appeals", json={"text": "again"}), 409)
        assert appeal["id"] in {a["id"] for a in analyst.get("/v1/appeals?open_only=true").json()}
        blank = analyst.post(
            f"/v1/appeals/{appeal['id']}/resolve", json={"result": "lifted", "note": " "}
        )
        assert [e["path"] for e in refused(blank, 422)["errors"]] == ["$.note"]
        resolved = analyst.post(
            f"/v1/appeals/{appeal['id']}/resolve",
            json={"result": "lifted", "note": "travel confirmed"},
        ).json()
        assert resolved["result"] == "lifted"
        assert resolved["seconds_to_resolution"] >= 0
        refused(
            analyst.post(
                f"/v1/appeals/{appeal['id']}/resolve", json={"result": "upheld", "note": "x"}
            ),
            409,
        )
    with service.client(Role.AUDITOR) as auditor:
        listed = auditor.get("/v1/appeals").json()
        assert any(a["id"] == appeal["id"] and a["result"] == "lifted" for a in listed)
        refused(auditor.post(f"/v1/appeals/{appeal['id']}/resolve", json={}), 403)


def test_the_self_service_freeze_is_rate_limited_per_address(service: LiveService) -> None:
    """Last in the module: it spends this address's allowance for a second."""
    with service.client() as anonymous:
        answers = [
            anonymous.post("/v1/self-service/freeze", json={"token": "forged.token"})
            for _ in range(20)
        ]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert "from this address" in refused(limited[0], 429)["detail"]
    assert {a.status_code for a in answers} <= {422, 429}
    time.sleep(1.1)
