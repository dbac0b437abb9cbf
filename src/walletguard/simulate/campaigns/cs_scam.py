"""'Customer service' scam: a caller posing as the wallet's or a shop's support talks the
victim into "refunding" or "unfreezing" money by paying a new payee, a mule wallet
opened days before; the mule withdraws within the hour or two.

The victim acts on their own phone, from home, at an ordinary hour: only the payee
and the amount are unusual. Stages: `setup` (the mule wallet), `victim_login`,
`victim_topup` (to have enough to pay), `victim_payment`, `cash_out`.
"""

from __future__ import annotations

from walletguard.simulate.amounts import draw_cents
from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import DAY, HOUR, MINUTE, local_hour
from walletguard.simulate.places import COUNTRIES
from walletguard.simulate.scheduler import Actor


def run(c: Campaign) -> Actor:
    rng, make, world = c.rng, c.make, c.world
    victim = c.victim(country="CN")
    if victim is None:
        return
    mule = c.role("mule", world.ids.account())
    origin = rng.choices(("compound", "domestic", "proxy"), (50, 35, 15))[0]
    p_mule = c.attacker(mule, origin, emulator=0.2, rooted=0.3)
    total = max(200000, draw_cents(rng, 1500000, 0.7, step=10000))
    pieces = [total] if rng.random() < 0.6 else _halves(total)
    c.money_at_risk = total
    token = world.ids.token()
    bank = rng.choice(COUNTRIES["CN"].banks)
    t = c.planned_at
    t = yield from c.open_wallet(
        p_mule, t, token=token, bank=bank, holder_name_match=rng.random() < 0.5
    )
    t += rng.randrange(2 * HOUR, 3 * DAY)
    hour = local_hour(t, victim.offset)
    if not 9 <= hour <= 20:
        t += ((10 - hour) % 24) * HOUR  # the "support" calls in office hours
    yield t
    p = c.as_customer(victim)
    payments: list[str] = []
    yield c.emit(make.with_auth(t, p, "login", victim.auth_method, True), "victim_login")
    for cents in pieces:
        t += rng.randrange(2 * MINUTE, 20 * MINUTE)
        yield t
        if victim.balance < cents:
            t = yield from c.victim_topup(victim, p, t, cents - victim.balance)
            t += rng.randrange(30, 300)
            yield t
        verify = make.with_auth(t, p, "txn_password_verify", "txn_password", True)
        yield c.emit(verify, "victim_payment")
        t += rng.randrange(5, 40)
        yield t
        pay = make.transfer(t, p, cents=cents, currency="CNY", to_account=mule)
        yield c.emit(pay, "victim_payment")
        victim.balance -= cents
        payments.append(pay.event_id)
    t += rng.randrange(5 * MINUTE, 2 * HOUR)
    yield t
    p_mule = c.attacker(mule, origin, device=p_mule.device)
    yield c.emit(make.with_auth(t, p_mule, "login", "password", True), "cash_out")
    t += rng.randrange(30, 300)
    yield t
    t = yield from c.cash_out(p_mule, t, cents=total, currency="CNY", token=token, bank=bank)
    yield from c.maybe_report(victim, payments[0], t)


def _halves(total: int) -> list[int]:
    first = total // 2 // 10000 * 10000
    return [first, total - first]
