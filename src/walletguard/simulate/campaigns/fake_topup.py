"""Fake top-ups: the fraudster reports top-ups that never happened and forges the
channel's confirmation, hoping the wallet credits them, then tries to withdraw.

Each forged confirmation is wrong in one way: its signature does not verify, its
amount or merchant number differs from the reported top-up, or it names a channel
reference that was never reported. None of these payments reached the channel, so
none is on the channel's statement (`statements/expected.jsonl` lists them as
`not_settled`).

Stages: `setup` (a fresh wallet, or a dormant one bought from its owner),
`fake_topup`, `forged_confirmation`, `cash_out`.
"""

from __future__ import annotations

from walletguard.simulate.amounts import draw_cents
from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import DAY, HOUR, MINUTE
from walletguard.simulate.places import COUNTRIES
from walletguard.simulate.population import TOPUP_CHANNELS
from walletguard.simulate.scheduler import Actor
from walletguard.simulate.world import Expected

FORGERIES = ("bad_signature", "amount", "merchant", "unknown_ref")


def run(c: Campaign) -> Actor:
    rng, make, world = c.rng, c.make, c.world
    account = c.role("attacker", world.ids.account())
    origin = rng.choices(("hosting", "proxy", "domestic"), (40, 20, 40))[0]
    p = c.attacker(account, origin, emulator=0.5, rooted=0.4)
    channel = rng.choice(("unionpay", "bank_direct", "card_acquirer"))
    prefix, merchant_no = TOPUP_CHANNELS[channel]
    rounds = [draw_cents(rng, 500000, 0.8, step=10000) for _ in range(rng.randint(1, 5))]
    c.money_at_risk = sum(rounds)
    token = world.ids.token()
    bank = rng.choice(COUNTRIES["CN"].banks)
    t = c.planned_at
    t = yield from c.open_wallet(p, t, token=token, bank=bank, holder_name_match=rng.random() < 0.6)
    t += rng.randrange(10 * MINUTE, 2 * DAY)
    yield t
    yield c.emit(make.with_auth(t, p, "login", "sms_otp", True), "setup")
    for cents in rounds:
        t += rng.randrange(MINUTE, 20 * MINUTE)
        yield t
        forgery = rng.choice(FORGERIES)
        ref = world.ids.channel_ref(prefix)
        if forgery != "unknown_ref":
            reported = make.topup(
                t,
                p,
                cents=cents,
                currency="CNY",
                channel=channel,
                channel_ref=ref,
                merchant_no=merchant_no,
            )
            yield c.emit(reported, "fake_topup")
        t += rng.randrange(1, 15)
        yield t
        claimed, merchant, valid = cents, merchant_no, True
        if forgery == "bad_signature":
            valid = False
        elif forgery == "amount":
            claimed = cents * rng.choice((2, 5, 10, 100))
        elif forgery == "merchant":
            merchant = f"{merchant_no[:-4]}{rng.randrange(10000):04d}"
        forged = make.topup_confirmation(
            t,
            account,
            p.offset,
            cents=claimed,
            currency="CNY",
            channel=channel,
            channel_ref=ref,
            merchant_no=merchant,
            signature_valid=valid,
        )
        yield c.emit(forged, "forged_confirmation")
        world.expect(Expected(channel, ref, "not_settled", claimed, None, forged.event_id))
    t += rng.randrange(MINUTE, HOUR)
    yield t
    yield from c.cash_out(p, t, cents=c.money_at_risk, currency="CNY", token=token, bank=bank)
