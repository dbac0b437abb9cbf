"""Normal life: what an ordinary customer does, day after day, and how an agent settles.

Legit behaviour is meant to be boring and consistent: the same phone, home and
mobile connections of the home country, sessions in the user's usual hours,
payments to favourite merchants, top-ups through the usual channel that the
channel really confirms and settles, small transfers to friends, withdrawals to
the card bound at sign-up that never empty the wallet. A few realistic noisy
things happen at low rates (scaled by `SimConfig.noise`): a new phone, a trip
abroad by plane, a forgotten password, a changed e-mail, a mistyped payment
password, a fingerprint that does not read.
"""

from __future__ import annotations

import random
from collections.abc import Generator

from walletguard.simulate.amounts import draw_cents, round_to
from walletguard.simulate.clock import DAY, HOUR, local_hour, local_midnight
from walletguard.simulate.devices import app_user_agent, new_phone
from walletguard.simulate.events import Persona
from walletguard.simulate.places import (
    COUNTRIES,
    TRAVEL_DESTINATIONS,
    consumer_ip,
    flight_seconds,
    home_point,
    jitter,
)
from walletguard.simulate.population import CATEGORIES, TOPUP_CHANNELS, Agent, User, nice_step
from walletguard.simulate.scheduler import Actor, Step
from walletguard.simulate.world import Expected, StatementLine, World

Flow = Generator[Step, None, int]
"""A piece of behaviour, entered at an instant its actor has already slept to; it yields
steps and returns the instant it finished."""

# Chances per user per day, before `noise` scales them.
NEW_PHONE_PER_DAY = 0.0005
TRAVEL_PER_DAY = 0.0004
FORGOT_PASSWORD_PER_DAY = 0.001
EMAIL_CHANGE_PER_DAY = 0.0003
HOME_IP_CHANGE_PER_DAY = 0.03
# Chances per occasion.
TXN_PASSWORD_TYPO = 0.01
BIOMETRIC_FALLBACK = 0.01


_HOURS = range(24)


class Trip:
    """A journey abroad: in the air, there, in the air back."""

    __slots__ = ("arrive", "depart", "dest", "home_again", "leave", "offset", "point")

    def __init__(self, user: User, dest: str, depart: int, days: int, rng: random.Random) -> None:
        flight = flight_seconds(user.country, dest)
        self.dest = dest
        self.depart = depart
        self.arrive = depart + flight
        self.leave = self.arrive + days * DAY
        self.home_again = self.leave + flight
        self.offset = COUNTRIES[dest].offset_minutes
        self.point = home_point(rng, dest, radius_km=15.0)


class Life:
    """The running state of one user's normal life (lives in the user's actor only)."""

    __slots__ = ("forgot_password", "new_email", "new_phone", "trip", "user", "world")

    def __init__(self, world: World, user: User) -> None:
        self.world = world
        self.user = user
        self.trip: Trip | None = None
        self.new_phone = False
        self.forgot_password = False
        self.new_email = False


def user_life(world: World, user: User) -> Actor:
    """The actor of one user: sign-up at `joined_at`, then day after day of sessions."""
    life = Life(world, user)
    rng = world.rng
    t = yield from signup(world, user, user.joined_at)
    day = local_midnight(max(t, world.start), user.offset)
    while day < world.end:
        _maybe_rare_things(life, rng, day)
        base = day
        trip = life.trip
        if trip is not None and trip.arrive <= day + 12 * HOUR < trip.leave:
            base = day + (user.offset - trip.offset) * 60  # live by the destination's clock
        count = _poisson(rng, user.sessions_per_day)
        starts = sorted(
            base
            + rng.choices(_HOURS, cum_weights=user.hour_weights)[0] * HOUR
            + rng.randrange(HOUR)
            for _ in range(count)
        )
        for start in starts:
            if start <= t or start >= world.end:
                continue
            persona = _persona(life, rng, start)
            if persona is None:
                continue
            yield start
            t = yield from session(life, rng, persona, start)
        day += DAY
        if life.trip is not None and day >= life.trip.home_again:
            life.trip = None


def signup(world: World, user: User, t: int) -> Flow:
    """Open the wallet: register, first sign-in by SMS code, bind the bank card, top up."""
    rng = world.rng
    make = world.make
    p = Persona(
        user.account_id,
        user.offset,
        device=user.device,
        ip=user.home_ip,
        user_agent=app_user_agent(user.device),
        geo=jitter(rng, *user.home, 2.0) if user.shares_gps else None,
        session_id=world.ids.session(),
    )
    yield make.simple(t, p, "register")
    t += rng.randrange(30, 120)
    yield t
    yield make.with_auth(t, p, "login", "sms_otp", True)
    t += rng.randrange(60, 300)
    yield t
    yield make.account_bind(t, p, kind="bank_card", token=user.card_token, institution=user.bank)
    t += rng.randrange(60, 600)
    yield t
    return (yield from topup(world, user, p, t, user.topup_cents))


def session(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    """One use of the app: maybe a sign-in, one or two things done, maybe a sign-out."""
    world, user = life.world, life.user
    make = world.make
    if life.new_phone:
        life.new_phone = False
        return (yield from _new_phone(life, rng, p, t))
    if life.forgot_password:
        life.forgot_password = False
        t = yield from _forgot_password(life, rng, p, t)
    elif rng.random() < 0.55:
        method = user.auth_method
        if method == "biometric" and rng.random() < BIOMETRIC_FALLBACK * world.config.noise:
            method = "password"
        yield make.with_auth(t, p, "login", method, True)
    if life.new_email:
        life.new_email = False
        t += rng.randrange(20, 120)
        yield t
        yield make.profile_change(t, p, "email")
    for _ in range(1 + (rng.random() < 0.35)):
        t += rng.randrange(15, 240)
        yield t
        t = yield from _one_thing(life, rng, p, t)
    if rng.random() < 0.15:
        t += rng.randrange(10, 120)
        yield t
        yield make.simple(t, p, "logout")
    return t


def _one_thing(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    user = life.user
    abroad = life.trip is not None and life.trip.arrive <= t < life.trip.leave
    roll = rng.random()
    if roll < 0.06 and user.friends and not abroad:
        return (yield from _transfer(life, rng, p, t))
    if roll < 0.09 and not abroad:
        return (yield from _cash_out(life, rng, p, t))
    if roll < 0.13 and user.balance < user.topup_cents // 2 and not abroad:
        return (yield from topup(life.world, user, p, t, user.topup_cents))
    return (yield from _payment(life, rng, p, t, abroad))


def _payment(life: Life, rng: random.Random, p: Persona, t: int, abroad: bool) -> Flow:
    world, user = life.world, life.user
    if abroad:
        assert life.trip is not None
        pool = world.population.merchants_by_country[life.trip.dest]
        merchant = world.population.merchants[rng.choice(pool)]
        median = CATEGORIES[merchant.category][0] * user.per_mille // 1000
    else:
        pick = rng.choices(user.merchants, cum_weights=user.merchant_weights)[0]
        merchant = world.population.merchants[pick]
        median = merchant.median_cents
    step = 1 if user.per_mille < 10000 else 100
    cents = draw_cents(rng, median * user.spend_per_mille // 1000, merchant.sigma, step=step)
    if user.balance < cents:
        if abroad:
            return t
        need = round_to(cents - user.balance + nice_step(user.per_mille), nice_step(user.per_mille))
        t = yield from topup(world, user, p, t, max(user.topup_cents, need))
        t += rng.randrange(10, 90)
    yield t
    yield world.make.payment(
        t,
        p,
        cents=cents,
        currency=user.currency,
        merchant_id=merchant.merchant_id,
        merchant_name=merchant.name,
        country=merchant.country,
    )
    user.balance -= cents
    return t


def _txn_password(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    make = life.world.make
    if rng.random() < TXN_PASSWORD_TYPO * life.world.config.noise:
        yield make.with_auth(t, p, "txn_password_verify", "txn_password", False)
        t += rng.randrange(5, 30)
        yield t
    yield make.with_auth(t, p, "txn_password_verify", "txn_password", True)
    return t + rng.randrange(3, 20)


def _transfer(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    world, user = life.world, life.user
    friend = world.users[rng.choice(user.friends)]
    step = nice_step(user.per_mille) // 10
    cents = draw_cents(rng, 20000 * user.per_mille // 1000, 0.5, step=max(1, step))
    if friend.joined_at >= t or cents > user.balance // 2:
        return (yield from _payment(life, rng, p, t, False))
    t = yield from _txn_password(life, rng, p, t)
    yield t
    yield world.make.transfer(
        t, p, cents=cents, currency=user.currency, to_account=friend.account_id
    )
    user.balance -= cents
    friend.balance += cents
    return t


def _cash_out(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    """Withdraw to the bound card (or hand the money to an agent for cash), never most of it."""
    world, user = life.world, life.user
    settled = (
        local_hour(t, p.offset) in user.usual_hours
        and t - user.joined_at > 8 * DAY
        and t - user.last_in_at > HOUR
        and t - user.last_reset_at > 2 * DAY
        and user.balance >= 2 * user.withdraw_cents
    )
    if not settled:
        return (yield from _payment(life, rng, p, t, False))
    step = nice_step(user.per_mille)
    cents = min(draw_cents(rng, user.withdraw_cents, 0.25, step=step), user.balance // 2)
    t = yield from _txn_password(life, rng, p, t)
    yield t
    if user.agent is not None:
        agent = world.population.agents[user.agent]
        yield world.make.transfer(
            t, p, cents=cents, currency=user.currency, to_account=agent.account_id
        )
        agent.balance += cents
    else:
        yield world.make.withdrawal(
            t, p, cents=cents, currency=user.currency, token=user.card_token, institution=user.bank
        )
    user.balance -= cents
    return t


def topup(world: World, user: User, p: Persona, t: int, cents: int) -> Flow:
    """Money in through the user's channel: the request, then the channel's signed callback
    seconds later, then a line on the channel's statement. Rarely the statement disagrees."""
    rng = world.rng
    config = world.config
    channel = user.topup_channel
    prefix, merchant_no = TOPUP_CHANNELS[channel]
    if user.agent is not None:
        merchant_no = world.population.agents[user.agent].merchant_no
    if rng.random() < config.missing_credit_rate:
        # The channel took the money but the wallet never heard of it; the user tries again.
        lost = world.ids.channel_ref(prefix)
        world.settle(StatementLine(channel, lost, cents, user.currency, merchant_no, t))
        world.expect(Expected(channel, lost, "missing_credit", None, cents, None))
        t += rng.randrange(120, 900)
    ref = world.ids.channel_ref(prefix)
    yield t
    yield world.make.topup(
        t,
        p,
        cents=cents,
        currency=user.currency,
        channel=channel,
        channel_ref=ref,
        merchant_no=merchant_no,
    )
    t += rng.randrange(2, 25)
    yield t
    confirmation = world.make.topup_confirmation(
        t,
        user.account_id,
        p.offset,
        cents=cents,
        currency=user.currency,
        channel=channel,
        channel_ref=ref,
        merchant_no=merchant_no,
    )
    yield confirmation
    user.balance += cents
    user.last_in_at = t
    settled = cents
    if rng.random() < config.amount_mismatch_rate:
        settled = cents - rng.choice((1, 10, 100, cents // 100 or 1))
        world.expect(
            Expected(channel, ref, "amount_mismatch", cents, settled, confirmation.event_id)
        )
    world.settle(StatementLine(channel, ref, settled, user.currency, merchant_no, t))
    return t


def _new_phone(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    """A new phone: sign in on it with an SMS code, trust it, carry on with it."""
    world, user = life.world, life.user
    device = new_phone(rng, world.ids)
    user.devices.append(device)
    if len(user.devices) > 2:
        user.devices.pop(0)
    q = Persona(
        user.account_id,
        p.offset,
        device=device,
        ip=p.network["ip"] if p.network else None,
        user_agent=app_user_agent(device),
        geo=(p.geo["lat"], p.geo["lon"]) if p.geo else None,
        session_id=world.ids.session(),
    )
    yield world.make.with_auth(t, q, "login", "sms_otp", True)
    t += rng.randrange(20, 120)
    yield t
    yield world.make.simple(t, q, "device_bind")
    return t


def _forgot_password(life: Life, rng: random.Random, p: Persona, t: int) -> Flow:
    """A password user mistypes once or twice; others reset the password by SMS code."""
    world, user = life.world, life.user
    make = world.make
    if user.auth_method == "password":
        for _ in range(rng.randint(1, 2)):
            yield make.with_auth(t, p, "login", "password", False)
            t += rng.randrange(8, 40)
            yield t
        yield make.with_auth(t, p, "login", "password", True)
        return t
    yield make.with_auth(t, p, "password_reset_request", "sms_otp", True)
    t += rng.randrange(30, 180)
    yield t
    yield make.with_auth(t, p, "password_reset_complete", "sms_otp", True)
    user.last_reset_at = t
    t += rng.randrange(10, 60)
    yield t
    yield make.with_auth(t, p, "login", user.auth_method, True)
    return t


def _persona(life: Life, rng: random.Random, t: int) -> Persona | None:
    """Who the user is at `t`: home, abroad, or (None) in a plane."""
    user, world = life.user, life.world
    country, offset, center = user.country, user.offset, user.home
    trip = life.trip
    if trip is not None and trip.depart <= t < trip.home_again:
        if not trip.arrive <= t < trip.leave:
            return None
        country, offset, center = trip.dest, trip.offset, trip.point
        ip = consumer_ip(rng, country)
    else:
        ip = user.home_ip if rng.random() < 0.55 else consumer_ip(rng, country)
    device = user.device
    return Persona(
        user.account_id,
        offset,
        device=device,
        ip=ip,
        user_agent=app_user_agent(device),
        geo=jitter(rng, *center, 4.0) if user.shares_gps else None,
        accuracy_m=rng.randrange(5, 60),
        session_id=world.ids.session(),
    )


def _maybe_rare_things(life: Life, rng: random.Random, day: int) -> None:
    user = life.user
    noise = life.world.config.noise
    if rng.random() < HOME_IP_CHANGE_PER_DAY:
        user.home_ip = consumer_ip(rng, user.country)
    if noise <= 0:
        return
    if rng.random() < NEW_PHONE_PER_DAY * noise:
        life.new_phone = True
    if rng.random() < FORGOT_PASSWORD_PER_DAY * noise:
        life.forgot_password = True
    if rng.random() < EMAIL_CHANGE_PER_DAY * noise:
        life.new_email = True
    if life.trip is None and rng.random() < TRAVEL_PER_DAY * noise:
        dest = rng.choice([c for c in TRAVEL_DESTINATIONS if c != user.country])
        depart = day + DAY + rng.randrange(6 * HOUR, 20 * HOUR)
        life.trip = Trip(user, dest, depart, rng.randint(3, 10), rng)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by inversion (small means only)."""
    threshold = pow(2.718281828459045, -mean)
    count, product = 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def agent_joined_at(world: World, agent: Agent) -> int:
    """When an agent opened its wallet: long before the simulated window."""
    return world.start - 400 * DAY + agent.index * 7 * HOUR


def agent_life(world: World, agent: Agent) -> Actor:
    """An agent: opened long ago, bound the shop's bank account, settles every evening."""
    rng = random.Random(f"{world.config.seed}:agent:{agent.index}")
    make = world.make
    t = agent_joined_at(world, agent)
    p = Persona(
        agent.account_id,
        agent.offset,
        device=agent.device,
        ip=agent.home_ip,
        user_agent=app_user_agent(agent.device),
        geo=agent.home,
    )
    yield make.simple(t, p, "register")
    t += rng.randrange(60, 300)
    yield t
    yield make.account_bind(t, p, kind="bank_card", token=agent.card_token, institution=agent.bank)
    day = local_midnight(world.start, agent.offset)
    while day < world.end:
        t = day + 19 * HOUR + rng.randrange(2 * HOUR)
        if agent.balance >= 10000 and t < world.end:
            yield t
            yield make.with_auth(t, p, "login", "password", True)
            t += rng.randrange(20, 90)
            yield t
            yield make.with_auth(t, p, "txn_password_verify", "txn_password", True)
            t += rng.randrange(5, 30)
            yield t
            cents = round_to(agent.balance * rng.randrange(70, 86) // 100, 100)
            yield make.withdrawal(
                t,
                p,
                cents=cents,
                currency=agent.currency,
                token=agent.card_token,
                institution=agent.bank,
            )
            agent.balance -= cents
        day += DAY
