"""Bindings are recorded with when, from which device and where; unbinding keeps the
history; a challenged binding counts once its step-up passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import EventFactory, Harness
from walletguard.accounts import service
from walletguard.accounts.bindings import Target


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    harness = Harness(db_url)
    yield harness
    harness.close()


def test_a_binding_remembers_when_from_which_device_and_where(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice"))
    events.advance(days=2)
    h.decide(events.bind(token="card-2", geo={"lat": 31.23, "lon": 121.47}))
    h.decide(events.make("device_bind", device={"id": "tablet-1", "model": "iPad"}))
    with h.runtime.transaction() as uow:
        card = uow.accounts.bindings.current("alice", Target.ACCOUNT, "card-2")
        tablet = uow.accounts.bindings.current("alice", Target.DEVICE, "tablet-1")
        assert uow.accounts.bindings.is_bound("alice", "card-2")
        assert not uow.accounts.bindings.is_bound("alice", "card-nobody")
    assert card is not None
    assert card.active
    assert (card.kind, card.institution, card.from_device) == ("bank_card", "ICBC", "phone-alice")
    assert (card.from_country, card.lat, card.lon) == ("CN", 31.23, 121.47)
    assert card.bound_at == events.now
    assert tablet is not None
    assert (tablet.kind, tablet.institution) == ("device", "iPad")


def test_unbinding_keeps_the_history_and_a_rebind_is_a_new_record(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice"))
    events.advance(days=1)
    h.decide(events.make("account_unbind", binding={"kind": "bank_card", "token": "card-alice"}))
    events.advance(days=1)
    h.decide(events.bind(token="card-alice"))
    with h.runtime.transaction() as uow:
        history = uow.accounts.bindings.history("alice")
        assert uow.accounts.bindings.is_bound("alice", "card-alice")
    assert [(b.token, b.active, b.unbound_by) for b in history] == [
        ("card-alice", True, None),
        ("card-alice", False, "user"),
    ]


def test_a_challenged_binding_counts_once_the_step_up_passes(
    h: Harness, events: EventFactory
) -> None:
    h.decide_all(events.funded("alice"))
    events.advance(days=5)
    h.decide(events.make("profile_change", profile={"field": "sim"}))
    events.advance(hours=1)
    bind = h.decide(events.bind(token="card-9"))
    assert bind.decision == "challenge", bind.reasons
    with h.runtime.transaction() as uow:
        assert uow.accounts.bindings.current("alice", Target.ACCOUNT, "card-9") is None
    method = next(a for a in bind.actions if a.startswith("step_up:")).split(":")[1]
    events.advance(minutes=1)
    step = {"challenge_id": bind.challenge_id, "method": method, "success": True}
    assert h.decide(events.make("step_up_result", step_up=step)).decision == "allow"
    with h.runtime.transaction() as uow:
        assert uow.accounts.bindings.is_bound("alice", "card-9")


def test_an_analyst_unbinds_in_one_step(h: Harness, events: EventFactory) -> None:
    h.decide_all(events.funded("alice"))
    with h.runtime.transaction() as uow:
        service.unbind(
            uow, "alice", "card-alice", reason="reported stolen", actor="analyst:kim",
            at=events.now,
        )  # fmt: skip
    events.advance(days=1)
    refused = h.decide(events.withdraw(token="card-alice"))
    assert refused.decision == "block"
    assert {r.code for r in refused.reasons} >= {"BINDING_REMOVED"}
    with h.runtime.transaction() as uow:
        (only,) = uow.accounts.bindings.history("alice")
    assert (only.unbound_by, only.unbind_reason) == ("analyst:kim", "reported stolen")
