"""Card testing: stolen card numbers are tried with bursts of tiny top-ups from one
device across several wallets; the cards that work are then charged for real and the
money taken out.

Most tiny top-ups are declined (no confirmation). The ones that go through, and the
real charge, are genuine payments at the channel: they are confirmed and settled
(until the card's owner disputes them, outside the run).

Stages: `setup` (wallets opened on the testing device), `probe`,
`probe_confirmation`, `charge`, `charge_confirmation`, `cash_out`.
"""

from __future__ import annotations

from walletguard.simulate.amounts import draw_cents
from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import HOUR, MINUTE
from walletguard.simulate.events import Persona, SimEvent
from walletguard.simulate.places import COUNTRIES
from walletguard.simulate.population import TOPUP_CHANNELS
from walletguard.simulate.scheduler import Actor
from walletguard.simulate.world import StatementLine

CHANNEL = "card_acquirer"


def run(c: Campaign) -> Actor:
    rng, make, world = c.rng, c.make, c.world
    prefix, merchant_no = TOPUP_CHANNELS[CHANNEL]
    origin = rng.choices(("hosting", "proxy", "domestic"), (50, 30, 20))[0]
    # One testing rig: only its device, network and clock are reused for every wallet.
    first = c.attacker("-", origin, emulator=0.6, rooted=0.5)
    wallets = [c.role("attacker", world.ids.account()) for _ in range(rng.randint(3, 8))]
    charges = {a: draw_cents(rng, 150000, 0.6, step=10000) for a in wallets}
    c.money_at_risk = sum(charges.values())
    t = c.planned_at
    for account in wallets:
        p = Persona(
            account,
            first.offset,
            device=first.device,
            ip=first.network["ip"] if first.network else None,
            user_agent=first.network.get("user_agent") if first.network else None,
            session_id=world.ids.session(),
        )
        token = world.ids.token()
        bank = rng.choice(COUNTRIES["CN"].banks)
        t = yield from c.open_wallet(p, t, token=token, bank=bank, holder_name_match=False)
        working = None
        for _ in range(rng.randint(4, 15)):
            t += rng.randrange(20, 150)
            yield t
            cents = rng.choice((1, 1, 10, 50, 100, 100, 200, 500))
            ref = world.ids.channel_ref(prefix)
            probe = make.topup(
                t,
                p,
                cents=cents,
                currency="CNY",
                channel=CHANNEL,
                channel_ref=ref,
                merchant_no=merchant_no,
            )
            yield c.emit(probe, "probe")
            if rng.random() < 0.25:
                t += rng.randrange(2, 20)
                yield t
                yield c.emit(_confirm(c, t, account, p.offset, cents, ref), "probe_confirmation")
                working = ref
        if working is None:
            continue
        t += rng.randrange(5 * MINUTE, HOUR)
        yield t
        cents = charges[account]
        t = yield from c.real_topup(
            p, t, cents=cents, currency="CNY", channel=CHANNEL, stage="charge"
        )
        t += rng.randrange(MINUTE, 30 * MINUTE)
        yield t
        t = yield from c.cash_out(p, t, cents=cents, currency="CNY", token=token, bank=bank)
        t += rng.randrange(MINUTE, 10 * MINUTE)
        yield t


def _confirm(c: Campaign, t: int, account: str, offset: int, cents: int, ref: str) -> SimEvent:
    """A genuine confirmation (the stolen card really paid), settled on the statement."""
    _, merchant_no = TOPUP_CHANNELS[CHANNEL]
    c.world.settle(StatementLine(CHANNEL, ref, cents, "CNY", merchant_no, t))
    return c.make.topup_confirmation(
        t,
        account,
        offset,
        cents=cents,
        currency="CNY",
        channel=CHANNEL,
        channel_ref=ref,
        merchant_no=merchant_no,
    )
