"""Prometheus metrics: decisions by outcome, decision latency, review queue depth."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ApiMetrics:
    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "walletguard_decisions",
            "Decisions made, by outcome",
            ["decision"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "walletguard_decision_seconds",
            "Time from receiving an event to answering with its stored decision",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=self.registry,
        )
        depth = Gauge(
            "walletguard_review_queue_depth", "Cases not yet resolved", registry=self.registry
        )
        depth.set_function(queue_depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
