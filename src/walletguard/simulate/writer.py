"""Write a run to a directory, streaming: every line is written as it is produced.

DIR/events.jsonl                contract events in occurred_at order
DIR/labels.jsonl                one line per malicious event
DIR/campaigns.jsonl             one line per campaign, in order of first event
DIR/statements/<channel>.csv    each top-up channel's settlement statement
DIR/statements/expected.jsonl   differences a reconciliation should find
DIR/population.json             who was simulated, with the seed and config
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from walletguard.simulate.amounts import cents_text
from walletguard.simulate.clock import utc_text
from walletguard.simulate.config import TYPOLOGIES, SimConfig
from walletguard.simulate.population import TOPUP_CHANNELS
from walletguard.simulate.run import Simulation
from walletguard.simulate.world import Expected, StatementLine

STATEMENT_HEADER = b"channel_ref,amount,currency,merchant_no,settled_at\n"
BUFFER = 1 << 20

Progress = Callable[[int, int], None]
"""Called now and then with (events so far, simulated seconds elapsed since start)."""


@dataclass(slots=True)
class RunSummary:
    """What a run produced, for the command line and for tests."""

    events: int = 0
    labelled: int = 0
    campaigns: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPOLOGIES, 0))
    statement_lines: int = 0
    expected: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def write_run(
    config: SimConfig,
    out_dir: Path | str,
    *,
    progress: Progress | None = None,
    progress_every: int = 5000,
) -> RunSummary:
    """Simulate `config` into `out_dir` (created if needed; existing files are replaced).

    Memory stays bounded by the population: events, labels and statement lines go
    to disk as they happen. Same config → byte-identical files.
    """
    out = Path(out_dir)
    (out / "statements").mkdir(parents=True, exist_ok=True)
    summary = RunSummary()
    encode = msgspec.json.Encoder().encode
    files: list[IO[bytes]] = []

    def open_(path: Path) -> IO[bytes]:
        handle = path.open("wb", buffering=BUFFER)
        files.append(handle)
        return handle

    events = open_(out / "events.jsonl")
    labels = open_(out / "labels.jsonl")
    campaigns = open_(out / "campaigns.jsonl")
    expected = open_(out / "statements" / "expected.jsonl")
    statements: dict[str, IO[bytes]] = {}
    for channel in TOPUP_CHANNELS:
        statements[channel] = open_(out / "statements" / f"{channel}.csv")
        statements[channel].write(STATEMENT_HEADER)

    def on_statement(line: StatementLine) -> None:
        summary.statement_lines += 1
        statements[line.channel].write(
            f"{line.channel_ref},{cents_text(line.cents)},{line.currency},"
            f"{line.merchant_no},{utc_text(line.settled_at)}\n".encode()
        )

    def on_expected(diff: Expected) -> None:
        summary.expected += 1
        expected.write(encode(_expected_doc(diff)) + b"\n")

    def on_campaign(record: dict[str, Any]) -> None:
        summary.campaigns[record["typology"]] += 1
        campaigns.write(encode(record) + b"\n")

    sim = Simulation(
        config, on_statement=on_statement, on_expected=on_expected, on_campaign=on_campaign
    )
    started = time.perf_counter()  # for the events/s figure only; never in any output
    start = config.start_ts
    try:
        count = labelled = 0
        for event in sim.events():
            events.write(encode(event.doc))
            events.write(b"\n")
            count += 1
            label = event.label
            if label is not None:
                labelled += 1
                labels.write(
                    encode(
                        {
                            "event_id": event.doc["event_id"],
                            "campaign_id": label.campaign_id,
                            "typology": label.typology,
                            "stage": label.stage,
                        }
                    )
                    + b"\n"
                )
            if progress is not None and count % progress_every == 0:
                progress(count, max(0, event.at - start))
        summary.events, summary.labelled = count, labelled
    finally:
        for handle in files:
            handle.close()
    summary.seconds = time.perf_counter() - started
    population = {
        "seed": config.seed,
        "config": config.to_dict(),
        "window": {"start": utc_text(start), "end": utc_text(config.end_ts)},
        **sim.world.population.summary(),
        "topup_channels": {k: v[1] for k, v in TOPUP_CHANNELS.items()},
    }
    (out / "population.json").write_text(
        json.dumps(population, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return summary


def _expected_doc(diff: Expected) -> dict[str, Any]:
    return {
        "channel": diff.channel,
        "channel_ref": diff.channel_ref,
        "kind": diff.kind,
        "wallet_amount": None if diff.wallet_cents is None else cents_text(diff.wallet_cents),
        "statement_amount": (
            None if diff.statement_cents is None else cents_text(diff.statement_cents)
        ),
        "event_id": diff.event_id,
    }
