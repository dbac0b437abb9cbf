"""Replay: feed a stream of event documents through the engine, in order, in batches.

The same engine and effects as every other door. A line that is not a valid
event gets an error line and the run goes on.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

from walletguard.decisions.engine import Engine, Failure
from walletguard.decisions.model import Decision, decision_json, error_line
from walletguard.events.decode import EventDecoder
from walletguard.events.model import WalletEvent
from walletguard.kernel.errors import InvalidInput

_peek = msgspec.json.Decoder()


@dataclass
class ReplaySummary:
    events: int = 0
    errors: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "events": self.events,
            "decided": self.events - self.errors,
            "errors": self.errors,
            "decisions": dict(sorted(self.decisions.items())),
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
        }


def _event_id_of(line: bytes) -> str | None:
    try:
        document = _peek.decode(line)
    except msgspec.DecodeError:
        return None
    event_id = document.get("event_id") if isinstance(document, dict) else None
    return event_id if isinstance(event_id, str) else None


def parse_lines(
    lines: Iterable[bytes], decoder: EventDecoder | None = None
) -> Iterator[WalletEvent | Failure]:
    """Decode each non-blank line into an event, or a `Failure` saying what is wrong."""
    decoder = decoder or EventDecoder()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield decoder.decode(line)
        except InvalidInput as exc:
            yield Failure(_event_id_of(line) or f"line:{number}", exc.code, exc.message)


def replay(
    items: Iterable[WalletEvent | Failure],
    engine: Engine,
    *,
    batch_size: int = 5000,
    on_result: Callable[[WalletEvent | Failure, Decision | Failure], None] | None = None,
    summary: ReplaySummary | None = None,
) -> Iterator[bytes]:
    """Decide every item in order; yield one output line (without newline) per item."""
    summary = summary if summary is not None else ReplaySummary()
    started = time.perf_counter()
    batch: list[WalletEvent | Failure] = []

    def run(batch: list[WalletEvent | Failure]) -> Iterator[bytes]:
        for item, result in zip(batch, engine.decide_batch(batch), strict=True):
            summary.events += 1
            if on_result is not None:
                on_result(item, result)
            if isinstance(result, Failure):
                summary.errors += 1
                yield error_line(
                    None if result.event_id.startswith("line:") else result.event_id,
                    result.code,
                    result.message,
                )
            else:
                summary.decisions[result.decision] += 1
                yield decision_json(result)

    for item in items:
        batch.append(item)
        if len(batch) >= batch_size:
            yield from run(batch)
            batch = []
            summary.seconds = time.perf_counter() - started
    if batch:
        yield from run(batch)
    summary.seconds = time.perf_counter() - started
