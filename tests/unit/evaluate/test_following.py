"""The evaluation's replay loop merges follow-ups into the input in event time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from tests.support import EventFactory
from walletguard.decisions.model import Decision
from walletguard.evaluate.run import FollowUp, Scheduled, decide_following
from walletguard.events.decode import decode_event
from walletguard.events.model import WalletEvent


class FakeEngine:
    """Records what was decided, in which unit of work, and commits."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @contextmanager
    def batch(self, expected: list[Any]) -> Iterator[Any]:
        self.log.append(f"begin({len(expected)})")

        def decide(event: WalletEvent) -> Decision:
            self.log.append(event.event_id)
            return Decision(event.event_id, "allow", "none", 0, [], [], "active", "v", None)

        yield decide
        self.log.append("commit")


class Later:
    """After `trigger`, an answer 150 s later and an action at 120 s."""

    def __init__(self, trigger: str, log: list[str]) -> None:
        self.trigger = trigger
        self.log = log
        self.factory = EventFactory(prefix="su")

    def follow(self, event: WalletEvent, decision: Decision) -> Iterable[FollowUp]:
        if event.event_id != self.trigger:
            return []
        self.factory.now = event.occurred_at + timedelta(seconds=150)
        answer = decode_event(self.factory.make("logout"))
        action = Scheduled(
            event.occurred_at + timedelta(seconds=120), lambda: self.log.append("act")
        )
        return [answer, action]


def test_follow_ups_come_in_event_time_and_an_action_runs_between_units_of_work() -> None:
    f = EventFactory()
    docs = []
    for _ in range(3):
        docs.append(f.payment())
        f.advance(seconds=100)
    events = [decode_event(d) for d in docs]
    log: list[str] = []
    results: list[tuple[str, bool]] = []
    decide_following(
        events,
        FakeEngine(log),  # type: ignore[arg-type]
        [Later(events[0].event_id, log)],
        lambda item, result, injected: results.append((item.event_id, injected)),
        batch_size=10,
    )
    first, second, third = (e.event_id for e in events)
    assert results == [(first, False), (second, False), ("su-1", True), (third, False)]
    assert log.index("act") < log.index("su-1")
    assert log[log.index("act") - 1] == "commit"  # the action never runs inside a batch
    assert log[-1] == "commit"


def test_answers_after_the_last_input_are_still_decided() -> None:
    f = EventFactory()
    events = [decode_event(f.payment())]
    log: list[str] = []
    results: list[str] = []
    decide_following(
        events,
        FakeEngine(log),  # type: ignore[arg-type]
        [Later(events[0].event_id, log)],
        lambda item, result, injected: results.append(item.event_id),
    )
    assert results == [events[0].event_id, "su-1"]
    assert "act" in log
