"""One small simulated run shared by the simulator's tests (written once per session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from walletguard.simulate import TYPOLOGIES, SimConfig, write_run

SMALL = SimConfig(
    seed=12,
    users=300,
    days=2,
    rates=dict.fromkeys(TYPOLOGIES, 100.0),
    missing_credit_rate=0.02,
    amount_mismatch_rate=0.02,
    noise=20.0,
)
"""Attacks of every typology several times over, and statement exceptions, in a few seconds."""


class Run:
    """A written run, parsed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = (path / "events.jsonl").read_text(encoding="utf-8").splitlines()
        self.events: list[dict[str, Any]] = [json.loads(line) for line in self.lines]
        self.by_id = {e["event_id"]: e for e in self.events}
        self.labels = _jsonl(path / "labels.jsonl")
        self.label_of = {x["event_id"]: x for x in self.labels}
        self.campaigns = _jsonl(path / "campaigns.jsonl")
        self.expected = _jsonl(path / "statements" / "expected.jsonl")
        self.population = json.loads((path / "population.json").read_text(encoding="utf-8"))

    def legit(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event_id"] not in self.label_of]

    def statement(self, channel: str) -> list[dict[str, str]]:
        text = (self.path / "statements" / f"{channel}.csv").read_text(encoding="utf-8")
        header, *rows = text.splitlines()
        names = header.split(",")
        return [dict(zip(names, row.split(","), strict=True)) for row in rows]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("sim") / "run"
    write_run(SMALL, out)
    return Run(out)
