"""Mule ring: a handful of new wallets opened on a few shared phones receive scam
payments from many victims and pass the money on fast, by withdrawal or through
another mule first.

Stages: `setup` (wallets opened and cards bound on the shared devices, sometimes one
card on two wallets), `victim_topup` and `victim_payment` (the deceived customers
top up if they must, then pay a mule from their own phone), `layering` (mule to
mule), `cash_out`.
"""

from __future__ import annotations

import heapq

from walletguard.simulate.amounts import draw_cents
from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import DAY, HOUR, MINUTE, local_hour
from walletguard.simulate.events import Persona
from walletguard.simulate.places import COUNTRIES
from walletguard.simulate.population import User
from walletguard.simulate.scheduler import Actor


class Mule:
    __slots__ = ("account_id", "balance", "bank", "device", "token")

    def __init__(self, account_id: str, device: int, token: str, bank: str) -> None:
        self.account_id = account_id
        self.device = device
        self.token = token
        self.bank = bank
        self.balance = 0


def run(c: Campaign) -> Actor:
    rng, make, world = c.rng, c.make, c.world
    origin = rng.choices(("domestic", "proxy", "compound"), (50, 20, 30))[0]
    # The shared phones: only their device, network and clock are reused by the mules.
    kit = [c.attacker("-", origin, emulator=0.3, rooted=0.3) for _ in range(rng.randint(1, 3))]
    mules: list[Mule] = []
    for _ in range(rng.randint(3, 6)):
        if mules and rng.random() < 0.2:  # one bought card on two wallets
            token, bank = mules[-1].token, mules[-1].bank
        else:
            token, bank = world.ids.token(), rng.choice(COUNTRIES["CN"].banks)
        mules.append(
            Mule(c.role("mule", world.ids.account()), rng.randrange(len(kit)), token, bank)
        )
    victims: list[tuple[User, int]] = []
    for _ in range(rng.randint(5, 20)):
        user = c.victim(country="CN")
        if user is not None:
            victims.append((user, draw_cents(rng, 80000, 0.8, step=100)))
    if not victims:
        return
    c.money_at_risk = sum(cents for _, cents in victims)

    def persona(mule: Mule) -> Persona:
        tpl = kit[mule.device]
        return Persona(
            mule.account_id,
            tpl.offset,
            device=tpl.device,
            ip=tpl.network["ip"] if tpl.network else None,
            user_agent=tpl.network.get("user_agent") if tpl.network else None,
            geo=(tpl.geo["lat"], tpl.geo["lon"]) if tpl.geo else None,
            session_id=world.ids.session(),
        )

    t = c.planned_at
    for mule in mules:
        t = yield from c.open_wallet(
            persona(mule),
            t,
            token=mule.token,
            bank=mule.bank,
            holder_name_match=rng.random() < 0.6,
        )
        t += rng.randrange(MINUTE, 3 * HOUR)
        yield t
    agenda: list[tuple[int, int, str, int, str]] = []
    seq = 0

    def plan(at: int, action: str, who: int, ref: str = "") -> None:
        nonlocal seq
        heapq.heappush(agenda, (at, seq, action, who, ref))
        seq += 1

    for i, (user, _) in enumerate(victims):
        plan(_daytime(t + rng.randrange(2 * DAY), user.offset, rng.randrange(9, 22)), "pay", i)
    pending: set[int] = set()
    while agenda:
        at, _, action, who, ref = heapq.heappop(agenda)
        t = max(t, at)
        yield t
        if action == "report":
            user = victims[who][0]
            yield make.fraud_report(t, c.as_customer(user), ref)
        elif action == "pay":
            user, cents = victims[who]
            m = rng.randrange(len(mules))
            p = c.as_customer(user)
            if user.balance < cents:
                t = yield from c.victim_topup(user, p, t, cents - user.balance + 10000)
                t += rng.randrange(30, 300)
                yield t
            verify = make.with_auth(t, p, "txn_password_verify", "txn_password", True)
            yield c.emit(verify, "victim_payment")
            t += rng.randrange(5, 30)
            yield t
            pay = make.transfer(
                t, p, cents=cents, currency=user.currency, to_account=mules[m].account_id
            )
            yield c.emit(pay, "victim_payment")
            user.balance -= cents
            mules[m].balance += cents
            if m not in pending:
                pending.add(m)
                plan(t + rng.randrange(5 * MINUTE, 2 * HOUR), "out", m)
            if rng.random() < world.config.fraud_report_rate:
                plan(t + rng.randrange(2 * HOUR, 3 * DAY), "report", who, pay.event_id)
        else:
            pending.discard(who)
            mule = mules[who]
            if mule.balance < 100:
                continue
            p = persona(mule)
            if len(mules) > 1 and rng.random() < 0.25:
                target = (who + 1 + rng.randrange(len(mules) - 1)) % len(mules)
                other = mules[target]
                cents = mule.balance
                move = make.transfer(t, p, cents=cents, currency="CNY", to_account=other.account_id)
                yield c.emit(move, "layering")
                mule.balance = 0
                other.balance += cents
                if target not in pending:
                    pending.add(target)
                    plan(t + rng.randrange(5 * MINUTE, HOUR), "out", target)
                continue
            cents = mule.balance * rng.randrange(95, 101) // 100
            t = yield from c.cash_out(
                p, t, cents=cents, currency="CNY", token=mule.token, bank=mule.bank
            )
            mule.balance -= cents


def _daytime(t: int, offset: int, hour: int) -> int:
    """`t` moved forward to the given local hour (same day if still ahead, else next day)."""
    now = local_hour(t, offset)
    delta = (hour - now) % 24
    return t + delta * HOUR
