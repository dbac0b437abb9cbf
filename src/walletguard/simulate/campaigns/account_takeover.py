"""Account takeover: credential stuffing, a sign-in from a new device far away, a new card
bound, the balance drained by withdrawal.

Stages: `credential_stuffing` (scripted failed sign-ins on many accounts from a few
addresses; the victim's password is among the leaked ones), `takeover_login`,
`password_change` (sometimes, to lock the owner out), `bind_card`, `cash_out`.
About a third of takeovers skip the stuffing: the password was phished.
"""

from __future__ import annotations

from walletguard.simulate.campaigns.base import Campaign, Flow
from walletguard.simulate.clock import HOUR, MINUTE
from walletguard.simulate.devices import SCRIPT_USER_AGENTS
from walletguard.simulate.events import Persona
from walletguard.simulate.scheduler import Actor


def run(c: Campaign) -> Actor:
    rng, make = c.rng, c.make
    victim = c.victim(min_balance=20000)
    if victim is None:
        return
    c.currency = victim.currency
    c.money_at_risk = victim.balance * rng.randrange(90, 101) // 100
    t = c.planned_at
    if rng.random() < 0.67:
        t = yield from _stuffing(c, victim.account_id, t)
        t += rng.randrange(10 * MINUTE, 6 * HOUR)
    origin = rng.choices(("hosting", "proxy", "domestic"), (45, 40, 15))[0]
    p = c.attacker(
        victim.account_id, origin, home_country=victim.country, near=victim.home, emulator=0.3
    )
    if rng.random() < 0.5:
        t = c.hour_of_night(t, victim.offset)  # attackers like the owner's small hours
    yield t
    yield c.emit(make.with_auth(t, p, "login", "password", True), "takeover_login")
    if rng.random() < 0.4:
        t += rng.randrange(30, 300)
        yield t
        yield c.emit(make.with_auth(t, p, "password_change", "password", True), "password_change")
    t += rng.randrange(2 * MINUTE, 30 * MINUTE)
    yield t
    token, bank = yield from c.bind_own_card(
        victim, p, t, name_match_chance=0.3, verified_chance=0.7
    )
    t += rng.randrange(MINUTE, 40 * MINUTE)
    yield t
    yield from c.drain_victim(victim, p, t, token=token, bank=bank, knows_password_chance=0.6)


def _stuffing(c: Campaign, victim_account: str, t: int) -> Flow:
    """Scripted password tries on many accounts from a handful of addresses."""
    rng, make, world = c.rng, c.make, c.world
    agent = rng.choice(SCRIPT_USER_AGENTS)
    origin = rng.choice(("hosting", "proxy"))
    sources = [c.attacker(victim_account, origin) for _ in range(rng.randint(1, 3))]
    targets = []
    for _ in range(rng.randint(10, 60)):
        account = world.users[rng.randrange(len(world.users))].account_id
        if account != victim_account:
            targets.append(c.role("target", account))
    targets.insert(rng.randrange(len(targets) + 1), victim_account)
    for account in targets:
        success = account == victim_account
        src = rng.choice(sources)
        ip = src.network["ip"] if src.network else None
        p = Persona(account, src.offset, ip=ip, user_agent=agent, channel="web")
        if success and rng.random() < 0.5:
            yield c.emit(make.with_auth(t, p, "login", "password", False), "credential_stuffing")
            t += rng.randrange(1, 6)
            yield t
        yield c.emit(make.with_auth(t, p, "login", "password", success), "credential_stuffing")
        t += rng.randrange(1, 20)
        yield t
    return t
