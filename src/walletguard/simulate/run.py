"""Run a simulation: every actor of the world merged into one time-ordered stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from walletguard.simulate.behaviour import agent_joined_at, agent_life, user_life
from walletguard.simulate.campaigns import campaign_spawner
from walletguard.simulate.config import TYPOLOGIES, SimConfig
from walletguard.simulate.events import SimEvent
from walletguard.simulate.scheduler import Actor, merge
from walletguard.simulate.world import Expected, StatementLine, World


def _ignore(_: Any) -> None:
    return None


class Simulation:
    """One run. `events()` produces the stream; the callbacks receive the side outputs
    (statement lines, reconciliation differences, campaign records) as they happen."""

    def __init__(
        self,
        config: SimConfig,
        *,
        on_statement: Callable[[StatementLine], None] = _ignore,
        on_expected: Callable[[Expected], None] = _ignore,
        on_campaign: Callable[[dict[str, Any]], None] = _ignore,
    ) -> None:
        self.config = config
        self.world = World(
            config, on_statement=on_statement, on_expected=on_expected, on_campaign=on_campaign
        )

    def events(self) -> Iterator[SimEvent]:
        """Every event of the run in non-decreasing `occurred_at` order (instants, not text).

        Existing users' sign-ups come first, at their account-opening dates before
        `config.start`; then normal life and attacks within [start, start + days).
        """
        world = self.world
        actors: list[tuple[int, Actor]] = [(u.joined_at, user_life(world, u)) for u in world.users]
        actors += [
            (agent_joined_at(world, a), agent_life(world, a)) for a in world.population.agents
        ]
        for typology in TYPOLOGIES:
            if self.config.rate(typology) > 0:
                actors.append((world.start, campaign_spawner(world, typology)))
        return merge(actors, world.end)


def simulate(config: SimConfig) -> Iterator[SimEvent]:
    """The events of a run, in time order, each with its label (None when legit)."""
    return Simulation(config).events()
