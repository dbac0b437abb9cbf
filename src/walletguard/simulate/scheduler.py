"""Merge many actors' event streams into one, in time order, with a heap.

An actor is a generator. It yields an `int` to sleep until that instant, a
`SimEvent` to emit it now, or a `Spawn` to start another actor now. It is
resumed only when its wake-up time is the earliest of all, so whatever it reads
from the shared world at that moment already reflects every earlier event. The
heap holds one entry per live actor: memory follows the population, not the run.
Ties are broken by the order actors went to sleep, which is itself deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterable, Iterator
from typing import Union

from walletguard.simulate.events import SimEvent


class Spawn:
    """Ask the scheduler to start `actor`, waking it at the current instant."""

    __slots__ = ("actor",)

    def __init__(self, actor: Actor) -> None:
        self.actor = actor


Step = Union[int, SimEvent, Spawn]  # noqa: UP007 - a runtime alias used before Actor exists
Actor = Generator[Step, None, None]


class OutOfOrder(RuntimeError):
    """An actor emitted an event earlier than the instant it was woken at (a bug)."""


def merge(actors: Iterable[tuple[int, Actor]], end: int) -> Iterator[SimEvent]:
    """Every event of every actor with time < `end`, in non-decreasing time order.

    An actor that sleeps until `end` or later is closed (its `finally` blocks run).
    """
    heap: list[tuple[int, int, Actor]] = []
    seq = 0
    for wake, actor in actors:
        if wake >= end:
            actor.close()
            continue
        heap.append((wake, seq, actor))
        seq += 1
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        now, _, actor = pop(heap)
        for step in actor:
            if type(step) is int:
                if step >= end:
                    actor.close()
                elif step < now:
                    raise OutOfOrder(f"an actor asked to sleep until {step}, before now ({now})")
                else:
                    push(heap, (step, seq, actor))
                    seq += 1
                break
            if type(step) is SimEvent:
                if step.at != now:
                    raise OutOfOrder(
                        f"{step!r} emitted at {now}: actors sleep until an event's time"
                    )
                yield step
            elif isinstance(step, Spawn):
                push(heap, (now, seq, step.actor))
                seq += 1
