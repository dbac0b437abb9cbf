"""Group commit for the decision API, and what a decider answers.

Requests hand their event to a decider, which decides everything waiting in one unit of
work and commits once: every decision is durably stored before its answer goes out, yet
a disk sync (~1-3 ms here) is shared by all the requests of a batch instead of paid by
each. Within a batch each event is isolated by a savepoint.

Two deciders keep that promise: `DecisionBatcher` decides in a thread of the service's
own process (tests, and any caller that holds the engine); `decision_process.
DecisionProcess` in a process of its own, so that deciding and HTTP run on two cores
instead of sharing one interpreter lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from walletguard.decisions.engine import Engine, Failure
from walletguard.decisions.model import Decision, decision_json
from walletguard.events.model import WalletEvent
from walletguard.features.redis_store import ProfileContention


@dataclass(frozen=True, slots=True)
class Decided:
    """A stored decision: its outcome (`allow`, `block`, ...) and its contract JSON."""

    outcome: str
    body: bytes

    @classmethod
    def of(cls, decision: Decision) -> Decided:
        return cls(decision.decision, decision_json(decision))


Answer = Decided | Failure
"""What a decider resolves an event's future with."""


class DecisionsUnavailable(Exception):
    """The event was not decided, or its answer was lost (the database went away, the
    deciding process stopped): sending it again is safe and gets one decision — the one
    stored, if it was."""


class Decider(Protocol):
    def submit(self, event: WalletEvent) -> Future[Answer]:
        """Queue `event`; the future resolves once its decision is committed, or fails with
        `DecisionsUnavailable` when nothing of it was stored."""
        ...

    def refresh_soon(self) -> None:
        """Lists or rulesets changed in the database: decide on them from the next batch."""
        ...

    def ready(self) -> str | None:
        """None when deciding, else why not."""
        ...

    def close(self) -> None:
        """Decide what was queued, checkpoint in-process features, stop."""
        ...


log = logging.getLogger("walletguard.api")
_STOP = object()
_REFRESH = object()


class DecisionBatcher:
    """Decides in one writer thread of this process, on `engine`; `checkpoint` (if given)
    saves in-process features every `checkpoint_seconds`, between batches, and at close."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 256,
        checkpoint: Callable[[], object] | None = None,
        checkpoint_seconds: float = 60.0,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._checkpoint = checkpoint
        self._checkpoint_seconds = checkpoint_seconds
        self._queue: queue.SimpleQueue[tuple[WalletEvent, Future[Answer]] | object] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
        self._thread.start()

    def submit(self, event: WalletEvent) -> Future[Answer]:
        future = new_future()
        if not self._thread.is_alive():
            future.set_exception(DecisionsUnavailable("not deciding: the writer has stopped"))
            return future
        self._queue.put((event, future))
        return future

    def refresh_soon(self) -> None:
        self._queue.put(_REFRESH)

    def ready(self) -> str | None:
        return None if self._thread.is_alive() else "the decision writer has stopped"

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        checkpoint_due = time.monotonic() + self._checkpoint_seconds
        stopping = False
        while not stopping:
            timeout = max(0.0, checkpoint_due - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout if self._checkpoint else None)
            except queue.Empty:
                item = None
            batch: list[tuple[WalletEvent, Future[Answer]]] = []
            while item is not None:
                if item is _STOP:
                    stopping = True
                elif item is _REFRESH:
                    self._engine.refresh_soon()
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if stopping or len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if batch:
                self._decide(batch)
            if self._checkpoint is not None and (stopping or time.monotonic() >= checkpoint_due):
                save_checkpoint(self._checkpoint)
                checkpoint_due = time.monotonic() + self._checkpoint_seconds
        while True:  # submitted while stopping: refused, not left waiting
            try:
                late = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(late, tuple):
                resolve(late[1], DecisionsUnavailable("not deciding: the service is stopping"))

    def _decide(self, batch: list[tuple[WalletEvent, Future[Answer]]]) -> None:
        answers = decide_all(self._engine, [event for event, _ in batch])
        for (_, future), answer in zip(batch, answers, strict=True):
            resolve(future, answer)


def new_future() -> Future[Answer]:
    """A future for an event's answer that cannot be cancelled: a request given up on
    (a client gone, a shutdown's timeout) still gets its decision stored and resolved,
    and whoever resolves it never meets a cancelled future."""
    future: Future[Answer] = Future()
    future.set_running_or_notify_cancel()
    return future


def resolve(future: Future[Answer], answer: Answer | BaseException) -> None:
    """Resolve `future` with an answer or the exception that stands for one."""
    if isinstance(answer, BaseException):
        future.set_exception(answer)
    else:
        future.set_result(answer)


def save_checkpoint(checkpoint: Callable[[], object]) -> None:
    """Checkpoint in-process features; a failure (the database away) is logged, and the
    next checkpoint, or a restart re-applying the stored events, makes up for it."""
    try:
        checkpoint()
    except Exception:
        log.exception("the feature checkpoint failed; deciding goes on")


def decide_all(engine: Engine, events: list[WalletEvent]) -> list[Answer | BaseException]:
    """Decide `events` in one unit of work: an answer per event, or, for every event, the
    exception that kept the batch from being stored (`DecisionsUnavailable` for an outage
    of the database or the shared feature store: sending the events again is safe)."""
    try:
        results = list(engine.decide_batch(events))
    except DBAPIError as exc:  # the commit failed: nothing of the batch was stored
        gone = DecisionsUnavailable(f"the decisions could not be stored: {exc.orig}")
        return [gone] * len(events)
    except (RedisError, ProfileContention) as exc:  # the batch was rolled back
        gone = DecisionsUnavailable(f"the shared feature state is unavailable: {exc}")
        return [gone] * len(events)
    except Exception as exc:
        return [exc] * len(events)
    return [r if isinstance(r, Failure) else Decided.of(r) for r in results]
