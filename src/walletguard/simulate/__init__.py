"""A synthetic wallet population with attack campaigns, for the demo, tests and benchmarks.

Promises, for any `SimConfig`:
- deterministic: the same config (seed included) gives the same events, labels,
  campaigns and statements, byte for byte; nothing reads the wall clock or depends
  on hash or set order;
- ordered and streaming: events come out in non-decreasing `occurred_at` instant,
  produced lazily by a heap of per-user and per-campaign generators, so memory
  follows the population size, never the run length;
- valid: every event is a contract v1 wallet event; amounts are decimal strings
  made from integer cents, never floats;
- labelled: an event of an attack carries its campaign, typology and stage; every
  other event is legit.

Use `simulate(config)` for the event stream, `write_run(config, out_dir)` for the
files (`docs/simulator.md` describes them).
"""

from walletguard.simulate.config import DEFAULT_RATES, TYPOLOGIES, SimConfig, SimConfigError
from walletguard.simulate.events import Label, SimEvent
from walletguard.simulate.run import Simulation, simulate
from walletguard.simulate.writer import RunSummary, write_run

__all__ = [
    "DEFAULT_RATES",
    "TYPOLOGIES",
    "Label",
    "RunSummary",
    "SimConfig",
    "SimConfigError",
    "SimEvent",
    "Simulation",
    "simulate",
    "write_run",
]
