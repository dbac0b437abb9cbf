"""Password-reset abuse: someone keeps asking for password resets on a customer's wallet
until one goes through a weak check (an e-mail code, a security question, a customer
service agent talked round), then signs in, binds a card and withdraws.

Stages: `reset_request` (repeated, most fail their check), `reset_complete` (sometimes
more than once),
`takeover_login`, `bind_card`, `cash_out`. Spread over hours to a couple of days,
from changing addresses.
"""

from __future__ import annotations

from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import HOUR, MINUTE
from walletguard.simulate.scheduler import Actor


def run(c: Campaign) -> Actor:
    rng, make = c.rng, c.make
    victim = c.victim(min_balance=20000)
    if victim is None:
        return
    c.currency = victim.currency
    c.money_at_risk = victim.balance * rng.randrange(80, 101) // 100
    origin = rng.choice(("proxy", "hosting", "domestic"))
    device = None
    t = c.planned_at
    attempts = rng.randint(2, 7)
    for i in range(attempts):
        p = c.attacker(victim.account_id, origin, home_country=victim.country, device=device)
        device = p.device if rng.random() < 0.6 else None
        method = rng.choice(("sms_otp", "email_otp"))
        last = i == attempts - 1
        passed = last or rng.random() < 0.2
        yield c.emit(
            make.with_auth(t, p, "password_reset_request", method, passed), "reset_request"
        )
        if last:
            break
        if passed:
            # Through once already; the owner notices and takes the account back.
            t += rng.randrange(MINUTE, 10 * MINUTE)
            yield t
            done = make.with_auth(t, p, "password_reset_complete", method, True)
            yield c.emit(done, "reset_complete")
        t += rng.randrange(10 * MINUTE, 10 * HOUR)
        yield t
    t += rng.randrange(MINUTE, 10 * MINUTE)
    yield t
    weak = rng.choice(("email_otp", "none", "sms_otp"))
    yield c.emit(make.with_auth(t, p, "password_reset_complete", weak, True), "reset_complete")
    t += rng.randrange(20, 300)
    yield t
    yield c.emit(make.with_auth(t, p, "login", "password", True), "takeover_login")
    t += rng.randrange(2 * MINUTE, 2 * HOUR)
    yield t
    token, bank = yield from c.bind_own_card(victim, p, t, name_match_chance=0.4)
    t += rng.randrange(MINUTE, 3 * HOUR)
    yield t
    yield from c.drain_victim(victim, p, t, token=token, bank=bank, knows_password_chance=0.4)
