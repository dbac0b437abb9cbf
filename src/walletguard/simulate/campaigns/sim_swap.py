"""SIM swap: the fraudster gets the victim's number moved to a new SIM, resets the wallet
password by SMS code, binds a card of their own and withdraws.

Stages: `sim_change` (the carrier reports the SIM change), `reset_request`,
`reset_complete`, `takeover_login`, `device_bind` (sometimes), `bind_card`, `cash_out`.
A SIM swap needs a local carrier: the fraudster is usually in the victim's country,
on a real (not emulated) phone.
"""

from __future__ import annotations

from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import HOUR, MINUTE
from walletguard.simulate.events import Persona
from walletguard.simulate.scheduler import Actor


def run(c: Campaign) -> Actor:
    rng, make = c.rng, c.make
    victim = c.victim(min_balance=50000)
    if victim is None:
        return
    c.currency = victim.currency
    c.money_at_risk = victim.balance * rng.randrange(85, 101) // 100
    origin = "domestic" if rng.random() < 0.85 else "proxy"
    p = c.attacker(victim.account_id, origin, home_country=victim.country, emulator=0.05)
    t = c.planned_at
    carrier = Persona(victim.account_id, victim.offset, channel="api")
    yield c.emit(make.profile_change(t, carrier, "sim"), "sim_change")
    t += rng.randrange(5 * MINUTE, 2 * HOUR)
    yield t
    yield c.emit(make.with_auth(t, p, "password_reset_request", "sms_otp", True), "reset_request")
    t += rng.randrange(MINUTE, 5 * MINUTE)
    yield t
    yield c.emit(make.with_auth(t, p, "password_reset_complete", "sms_otp", True), "reset_complete")
    t += rng.randrange(20, 120)
    yield t
    yield c.emit(make.with_auth(t, p, "login", "password", True), "takeover_login")
    if rng.random() < 0.5:
        t += rng.randrange(30, 300)
        yield t
        yield c.emit(make.simple(t, p, "device_bind"), "device_bind")
    t += rng.randrange(2 * MINUTE, 45 * MINUTE)
    yield t
    token, bank = yield from c.bind_own_card(
        victim, p, t, name_match_chance=0.5, verified_chance=0.8
    )
    t += rng.randrange(MINUTE, 30 * MINUTE)
    yield t
    yield from c.drain_victim(victim, p, t, token=token, bank=bank, knows_password_chance=0.3)
