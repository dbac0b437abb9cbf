"""The evaluation's replay: events through the engine in order, with what people would do
in between merged in at its own event time.

Like `replay` (same engine, same effects, batches of events per unit of work), but
*followers* watch every decision and may schedule follow-ups later in event time:
another event for the engine (a `step_up_result` answering a challenge, see
`stepups.py`) or an action outside the engine (customer support lifting a freeze, see
`support.py`). Follow-ups are merged into the stream before any later input event, so
holds are posted or released and accounts unfrozen exactly when they would have been.
An action ends the current unit of work first, runs in its own, and the next batch sees
its changes.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from walletguard.decisions.engine import Engine, Failure
from walletguard.decisions.model import Decision
from walletguard.events.model import WalletEvent


@dataclass(frozen=True)
class Scheduled:
    """Something a person does at `at` that is not an event for the engine."""

    at: datetime
    run: Callable[[], None]
    what: str = ""


FollowUp = WalletEvent | Scheduled


class Follower(Protocol):
    def follow(self, event: WalletEvent, decision: Decision) -> Iterable[FollowUp]:
        """What happens later because of this decision (nothing, most of the time)."""


ResultSink = Callable[[WalletEvent | Failure, Decision | Failure, bool], None]
"""Called for every decided item, in decision order: (item, result, injected) where
`injected` says the item is a follow-up event, not an input event."""


def decide_following(
    items: Iterable[WalletEvent | Failure],
    engine: Engine,
    followers: Iterable[Follower],
    on_result: ResultSink,
    *,
    batch_size: int = 5000,
) -> None:
    """Decide every item in order, merging in the followers' follow-ups (module doc)."""
    watchers = list(followers)
    pending: list[tuple[float, int, FollowUp]] = []
    order = itertools.count()
    source: Iterator[WalletEvent | Failure] = iter(items)
    buffer: deque[WalletEvent | Failure] = deque()

    def handle(item: WalletEvent | Failure, result: Decision | Failure, injected: bool) -> None:
        on_result(item, result, injected)
        if isinstance(item, WalletEvent) and isinstance(result, Decision):
            for watcher in watchers:
                for later in watcher.follow(item, result):
                    at = later.ts if isinstance(later, WalletEvent) else later.at.timestamp()
                    heapq.heappush(pending, (at, next(order), later))

    def due_before(item: WalletEvent | Failure | None) -> bool:
        if not pending:
            return False
        if item is None:
            return True
        return isinstance(item, WalletEvent) and pending[0][0] <= item.ts

    exhausted = False
    while True:
        if not buffer and not exhausted:
            buffer.extend(itertools.islice(source, batch_size))
            exhausted = not buffer
        if not buffer and not pending:
            return
        action: Scheduled | None = None
        expected = list(buffer) + [p[2] for p in pending if isinstance(p[2], WalletEvent)]
        with engine.batch(expected) as decide:
            for _ in range(batch_size + len(pending)):
                head = buffer[0] if buffer else None
                if head is None and not exhausted:
                    break  # read more input before deciding what comes next
                if due_before(head):
                    follow_up = heapq.heappop(pending)[2]
                    if isinstance(follow_up, Scheduled):
                        action = follow_up
                        break
                    handle(follow_up, decide(follow_up), True)
                elif head is not None:
                    buffer.popleft()
                    handle(head, decide(head), False)
                else:
                    break
        if action is not None:
            action.run()
