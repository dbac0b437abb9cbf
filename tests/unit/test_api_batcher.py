"""The in-thread decider's own logic: checkpoints, failures, order (the engine is a stand-in;
the real one is driven through it by every API test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import redis.exceptions

from walletguard.api.batcher import DecisionBatcher, DecisionsUnavailable
from walletguard.decisions.engine import Failure
from walletguard.features.redis_store import ProfileContention


class _Engine:
    """Answers every event with a Failure naming it (a stand-in's simplest answer)."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.refreshed = 0
        self.fail_next: Exception | None = None

    def decide_batch(self, events: Iterable[Any]) -> Iterator[Failure]:
        items = list(events)
        self.batches.append([e.event_id for e in items])
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return iter([Failure(e.event_id, "seen", e.event_id) for e in items])

    def refresh_soon(self) -> None:
        self.refreshed += 1


class _Event:
    def __init__(self, event_id: str) -> None:
        self.event_id = event_id


def test_a_failing_checkpoint_is_retried_and_deciding_goes_on() -> None:
    calls: list[float] = []

    def checkpoint() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OSError("database away")

    batcher = DecisionBatcher(_Engine(), checkpoint=checkpoint, checkpoint_seconds=0.01)
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 3:
            assert time.monotonic() < deadline, "no checkpoint after the failed one"
            time.sleep(0.01)
        answer = batcher.submit(_Event("e1")).result(timeout=10)
        assert isinstance(answer, Failure)
        assert answer.event_id == "e1"
        assert batcher.ready() is None
    finally:
        batcher.close()


def test_a_database_error_fails_the_batch_as_unavailable_and_the_next_is_decided() -> None:
    from sqlalchemy.exc import OperationalError

    engine = _Engine()
    engine.fail_next = OperationalError("COMMIT", {}, Exception("server closed the connection"))
    batcher = DecisionBatcher(engine)
    try:
        with pytest.raises(DecisionsUnavailable, match="server closed the connection"):
            batcher.submit(_Event("e1")).result(timeout=10)
        again = batcher.submit(_Event("e1")).result(timeout=10)
        assert isinstance(again, Failure)
        assert again.event_id == "e1"
    finally:
        batcher.close()


@pytest.mark.parametrize(
    "outage",
    [
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.NoPermissionError("NOPERM no permissions to access a key"),
        ProfileContention("the profile of alice kept changing"),
    ],
)
def test_a_shared_feature_store_outage_fails_the_batch_as_unavailable(outage: Exception) -> None:
    """The batch was rolled back: 503 and send again, like a database outage (not a 500
    naming an internal error, which clients do not retry)."""
    engine = _Engine()
    engine.fail_next = outage
    batcher = DecisionBatcher(engine)
    try:
        with pytest.raises(DecisionsUnavailable, match="shared feature state is unavailable"):
            batcher.submit(_Event("e1")).result(timeout=10)
        assert isinstance(batcher.submit(_Event("e1")).result(timeout=10), Failure)
    finally:
        batcher.close()


def test_a_refresh_is_applied_before_the_events_queued_after_it() -> None:
    engine = _Engine()
    gate, holding = threading.Event(), threading.Event()
    original = engine.decide_batch

    def slow(events: Iterable[Any]) -> Iterator[Failure]:
        holding.set()
        gate.wait(10)
        return original(events)

    engine.decide_batch = slow
    batcher = DecisionBatcher(engine)
    try:
        first = batcher.submit(_Event("before"))
        assert holding.wait(10)  # the writer holds "before"
        batcher.refresh_soon()
        second = batcher.submit(_Event("after"))
        gate.set()
        first.result(timeout=10)
        second.result(timeout=10)
        assert engine.batches == [["before"], ["after"]]
        assert engine.refreshed == 1
    finally:
        batcher.close()


def test_closing_stops_the_writer_and_later_events_are_refused() -> None:
    batcher = DecisionBatcher(_Engine())
    batcher.close()
    assert batcher.ready() is not None
    with pytest.raises(DecisionsUnavailable):
        batcher.submit(_Event("late")).result(timeout=10)


def test_an_answer_given_up_on_cannot_be_cancelled_and_the_writer_goes_on() -> None:
    batcher = DecisionBatcher(_Engine())
    try:
        abandoned = batcher.submit(_Event("gone"))
        assert not abandoned.cancel()
        assert abandoned.result(timeout=10).event_id == "gone"
        assert batcher.submit(_Event("next")).result(timeout=10).event_id == "next"
    finally:
        batcher.close()
