"""Corporate binding: a company's bank account is bound to a personal wallet, company
money is moved in through the bank channel, then withdrawn to a personal card.

Often an insider does it from their own, long-standing wallet and phone (so little
else looks odd); otherwise from a wallet opened for the purpose. The inflows are
real bank transfers: confirmed and on the bank channel's statement.
Stages: `setup` (a new wallet), `bind_corporate`, `corporate_inflow` (and its
`corporate_inflow_confirmation`), `cash_out`.
"""

from __future__ import annotations

from walletguard.simulate.amounts import draw_cents
from walletguard.simulate.campaigns.base import Campaign
from walletguard.simulate.clock import DAY, HOUR, MINUTE
from walletguard.simulate.places import COUNTRIES
from walletguard.simulate.scheduler import Actor

CHANNEL = "bank_direct"


def run(c: Campaign) -> Actor:
    rng, make, world = c.rng, c.make, c.world
    inflows = [draw_cents(rng, 5000000, 0.8, step=100000) for _ in range(rng.randint(1, 3))]
    c.money_at_risk = sum(inflows)
    t = c.planned_at
    insider = c.victim(country="CN") if rng.random() < 0.6 else None
    if insider is not None:
        c.roles["attacker"] = c.roles.pop("victim")
        p = c.as_customer(insider)
        token, bank = insider.card_token, insider.bank
    else:
        account = c.role("attacker", world.ids.account())
        p = c.attacker(account, rng.choice(("domestic", "proxy")), emulator=0.1)
        token, bank = world.ids.token(), rng.choice(COUNTRIES["CN"].banks)
        t = yield from c.open_wallet(p, t, token=token, bank=bank, holder_name_match=True)
        t += rng.randrange(HOUR, 3 * DAY)
        yield t
        yield c.emit(make.with_auth(t, p, "login", "sms_otp", True), "setup")
    if insider is not None:
        yield c.emit(make.with_auth(t, p, "login", insider.auth_method, True), "bind_corporate")
    t += rng.randrange(MINUTE, 10 * MINUTE)
    yield t
    corporate = world.ids.token()
    bind = make.account_bind(
        t,
        p,
        kind="corporate",
        token=corporate,
        institution=rng.choice(COUNTRIES["CN"].banks),
        holder_name_match=rng.random() < 0.2,
        real_name_verified=True,
    )
    yield c.emit(bind, "bind_corporate")
    for cents in inflows:
        t += rng.randrange(10 * MINUTE, 12 * HOUR)
        yield t
        t = yield from c.real_topup(
            p, t, cents=cents, currency="CNY", channel=CHANNEL, stage="corporate_inflow"
        )
        if insider is not None:
            insider.balance += cents
            insider.last_in_at = t
    t += rng.randrange(10 * MINUTE, 6 * HOUR)
    yield t
    cents = c.money_at_risk
    if insider is not None:
        cents = min(cents, insider.balance)
    t = yield from c.cash_out(p, t, cents=cents, currency="CNY", token=token, bank=bank)
    if insider is not None:
        insider.balance -= cents
