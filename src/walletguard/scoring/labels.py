"""Labels and when they became known.

A label says an event was fraud (or, from a reviewer, that it was not). Each carries
the time it would have been known: a chargeback at its own `occurred_at`, a case
outcome when the case was resolved, a labels-file line at its `known_at` (or the
event's time plus a delay). Training as of time T uses only labels known by T.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from walletguard.kernel.errors import ConfigurationError


class LabelSource(StrEnum):
    CHARGEBACK = "chargeback"
    FRAUD_REPORT = "fraud_report"
    CASE = "case"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Label:
    event_id: str
    fraud: bool
    known_ts: float
    """POSIX seconds at which this label would have been known."""
    source: LabelSource


class LabelBook:
    """Every label, by event; answers "what was known about this event at time T"."""

    def __init__(self, labels: Iterable[Label] = ()) -> None:
        self._by_event: dict[str, list[Label]] = {}
        for label in labels:
            self.add(label)

    def add(self, label: Label) -> None:
        self._by_event.setdefault(label.event_id, []).append(label)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_event.values())

    def fraud_as_of(self, event_id: str, as_of: float) -> bool:
        """Whether the event was known to be fraud at `as_of`. A reviewer's later
        "not fraud" (a case closed as false positive) overrides an earlier report."""
        latest: Label | None = None
        for label in self._by_event.get(event_id, ()):
            if label.known_ts <= as_of and (latest is None or label.known_ts >= latest.known_ts):
                latest = label
        return latest is not None and latest.fraud

    def sources(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for labels in self._by_event.values():
            for label in labels:
                counts[label.source.value] = counts.get(label.source.value, 0) + 1
        return counts


def read_labels_file(
    lines: Iterable[bytes], event_times: dict[str, float], delay_seconds: float
) -> list[Label]:
    """Labels from a labels file (the simulator's `labels.jsonl`): one JSON document a
    line naming a malicious `event_id`; known at its `known_at` (RFC 3339) if given,
    else at the event's own time plus `delay_seconds`. Lines for events not in
    `event_times` are skipped; a line that is not a JSON object with an `event_id`
    raises `InvalidLabels` naming the line."""
    import msgspec

    from walletguard.events.timeparse import TimestampError, parse_rfc3339

    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raise InvalidLabels(f"labels line {number}: not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("event_id"), str):
            raise InvalidLabels(f'labels line {number}: needs an "event_id"')
        event_id = doc["event_id"]
        occurred = event_times.get(event_id)
        if occurred is None:
            continue
        known = occurred + delay_seconds
        if isinstance(doc.get("known_at"), str):
            try:
                known = parse_rfc3339(doc["known_at"]).timestamp()
            except TimestampError as exc:
                raise InvalidLabels(f"labels line {number}: known_at: {exc}") from None
        fraud = doc.get("fraud", True) is not False
        found.append(Label(event_id, fraud, known, LabelSource.FILE))
    return found


class InvalidLabels(ConfigurationError):
    """A labels file that cannot be read; names the line."""
