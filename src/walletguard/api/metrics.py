"""Prometheus metrics: decisions by outcome, decision latency, review queue depth.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set, as `walletguard serve`
does), counters and histograms are written to shared files and summed at scrape time.
The queue depth is read from the database when scraped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector


class _QueueDepth(Collector):
    def __init__(self, depth: Callable[[], float]) -> None:
        self._depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "walletguard_review_queue_depth", "Cases not yet resolved", value=self._depth()
        )


class ApiMetrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self._multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self._registry = CollectorRegistry()
        self.decisions = Counter(
            "walletguard_decisions", "Decisions made, by outcome", ["decision"],
            registry=None if self._multiprocess else self._registry,
        )  # fmt: skip
        self.latency = Histogram(
            "walletguard_decision_seconds",
            "Time from receiving an event to answering with its stored decision",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=None if self._multiprocess else self._registry,
        )
        self._queue_depth = _QueueDepth(queue_depth)
        self._registry.register(self._queue_depth)

    def render(self) -> bytes:
        if not self._multiprocess:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._queue_depth)
        return generate_latest(registry)
