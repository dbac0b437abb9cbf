"""Attack campaigns: one module per typology, each a small state machine over time."""

from __future__ import annotations

import random

from walletguard.simulate.campaigns.base import Campaign, Runner, guarded
from walletguard.simulate.clock import DAY
from walletguard.simulate.scheduler import Actor, Spawn
from walletguard.simulate.world import World


def _runners() -> dict[str, Runner]:
    from walletguard.simulate.campaigns import (
        account_takeover,
        card_testing,
        corporate_binding,
        cs_scam,
        fake_topup,
        mule_ring,
        reset_abuse,
        sim_swap,
    )

    return {
        "account_takeover": account_takeover.run,
        "sim_swap": sim_swap.run,
        "fake_topup": fake_topup.run,
        "card_testing": card_testing.run,
        "mule_ring": mule_ring.run,
        "cs_scam": cs_scam.run,
        "reset_abuse": reset_abuse.run,
        "corporate_binding": corporate_binding.run,
    }


def campaign_spawner(world: World, typology: str) -> Actor:
    """Start campaigns of one typology as a Poisson process over the simulated window."""
    rng = random.Random(f"{world.config.seed}:spawn:{typology}")
    per_second = world.config.rate(typology) / DAY
    run = _runners()[typology]
    t = world.start
    while True:
        t += max(1, int(rng.expovariate(per_second)))
        if t >= world.end:
            return
        yield t
        yield Spawn(guarded(run, Campaign(world, typology, t)))


__all__ = ["Campaign", "campaign_spawner"]
