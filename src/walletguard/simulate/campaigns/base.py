"""What every campaign shares: its identity and label, its random stream, attacker
personas, and the steps many typologies reuse (open a wallet, bind a card to a taken-over
wallet, cash out or drain it, report).

A campaign draws only from its own `random.Random`, so adding or removing attacks
leaves the rest of the run's randomness alone. Its record (campaigns.jsonl) is
published with its first event, so every published campaign has a labelled event.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

from walletguard.enrich.geo import country_points
from walletguard.simulate.amounts import cents_text
from walletguard.simulate.clock import DAY, HOUR, MINUTE, utc_text
from walletguard.simulate.devices import app_user_agent, attacker_device
from walletguard.simulate.events import Label, Persona, SimEvent
from walletguard.simulate.places import COUNTRIES, consumer_ip, ip_ranges, jitter
from walletguard.simulate.population import TOPUP_CHANNELS, User
from walletguard.simulate.scheduler import Actor, Step
from walletguard.simulate.world import StatementLine, World

Flow = Generator[Step, None, int]
Runner = Callable[["Campaign"], Actor]

PROXY_COUNTRIES = ("RU", "NG", "VN", "ID", "US", "PH", "TH", "MY")
COMPOUND_COUNTRIES = ("KH", "MM", "PH")
EXTRA_OFFSETS = {"IN": 330, "NL": 60, "CA": -300}


class Campaign:
    """One attack: its id, typology, accounts by role, money at risk and random stream."""

    def __init__(self, world: World, typology: str, at: int) -> None:
        self.world = world
        self.make = world.make
        self.typology = typology
        self.id = world.ids.campaign()
        self.rng = random.Random(f"{world.config.seed}:{self.id}")
        self.planned_at = at
        self.roles: dict[str, list[str]] = {}
        self.money_at_risk = 0
        self.currency = "CNY"
        self._published = False
        self._claimed: list[int] = []
        self.last_cash_out: list[str] = []
        """Event ids of the latest `cash_out` withdrawals."""

    # -- who takes part ---------------------------------------------------------------

    def role(self, role: str, account_id: str) -> str:
        members = self.roles.setdefault(role, [])
        if account_id not in members:
            members.append(account_id)
        return account_id

    def victim(self, *, min_balance: int = 0, country: str | None = None) -> User | None:
        """Claim a customer as victim (no other campaign may pick them until this one ends)."""
        user = self.world.pick_victim(
            self.rng, self.planned_at, min_balance=min_balance, country=country
        )
        if user is not None:
            self.world.busy.add(user.index)
            self._claimed.append(user.index)
            self.role("victim", user.account_id)
        return user

    def release(self) -> None:
        for index in self._claimed:
            self.world.busy.discard(index)
        self._claimed.clear()

    # -- emitting ---------------------------------------------------------------------

    def emit(self, event: SimEvent, stage: str) -> SimEvent:
        """Label `event` as part of this campaign (and publish the campaign on its first)."""
        event.label = Label(self.id, self.typology, stage)
        if not self._published:
            self._published = True
            self.world.on_campaign(self.record(event.at))
        return event

    def record(self, started_at: int) -> dict[str, Any]:
        accounts: list[str] = []
        for members in self.roles.values():
            accounts += [a for a in members if a not in accounts]
        return {
            "campaign_id": self.id,
            "typology": self.typology,
            "started_at": utc_text(started_at),
            "accounts": accounts,
            "roles": {k: list(v) for k, v in self.roles.items()},
            "money_at_risk": cents_text(self.money_at_risk),
            "currency": self.currency,
        }

    def labelled(self, flow: Flow, stage: str) -> Flow:
        """Run a flow written for normal life, labelling every event it emits."""
        try:
            step = next(flow)
            while True:
                if type(step) is SimEvent:
                    self.emit(step, stage)
                yield step
                step = next(flow)
        except StopIteration as stop:
            result: int = stop.value
            return result

    # -- personas ---------------------------------------------------------------------

    def attacker(
        self,
        account_id: str,
        origin: str,
        *,
        home_country: str = "CN",
        near: tuple[float, float] | None = None,
        device: dict[str, Any] | None = None,
        emulator: float = 0.3,
        rooted: float = 0.2,
    ) -> Persona:
        """A fraudster at work on `account_id`, from `origin`: "hosting" (cloud / VPN exit),
        "proxy" (a home connection abroad), "compound" (a scam centre across a border)
        or "domestic" (a home or mobile connection in `home_country`)."""
        rng = self.rng
        if origin == "hosting":
            block = rng.choice(ip_ranges().hosting)
            ip, country = block.pick(rng), block.country
        else:
            if origin == "proxy":
                country = rng.choice(PROXY_COUNTRIES)
            elif origin == "compound":
                country = rng.choice(COMPOUND_COUNTRIES)
            else:
                country = home_country
            ip = consumer_ip(rng, country)
        place = COUNTRIES.get(country)
        offset = place.offset_minutes if place else EXTRA_OFFSETS.get(country, 0)
        roll = rng.random()
        geo: tuple[float, float] | None = None
        if roll < 0.25:
            point = country_points()[country]
            geo = jitter(rng, point.lat, point.lon, 40.0)
        elif roll < 0.35 and near is not None:
            geo = jitter(rng, near[0], near[1], 5.0)  # a spoofed GPS near the victim
        if device is None:
            device = attacker_device(rng, self.world.ids, emulator=emulator, rooted=rooted)
        return Persona(
            account_id,
            offset,
            device=device,
            ip=ip,
            user_agent=app_user_agent(device),
            geo=geo,
            accuracy_m=rng.randrange(5, 80),
            session_id=self.world.ids.session(),
        )

    def as_customer(self, user: User) -> Persona:
        """The victim acting themselves, on their own phone, from home or mobile data."""
        rng = self.rng
        ip = user.home_ip if rng.random() < 0.6 else consumer_ip(rng, user.country)
        return Persona(
            user.account_id,
            user.offset,
            device=user.device,
            ip=ip,
            user_agent=app_user_agent(user.device),
            geo=jitter(rng, *user.home, 4.0) if user.shares_gps else None,
            accuracy_m=rng.randrange(5, 60),
            session_id=self.world.ids.session(),
        )

    def hour_of_night(self, t: int, offset: int) -> int:
        """The next instant at or after `t` between 01:00 and 05:00 on the given clock."""
        local = t + offset * 60
        day = local // DAY * DAY
        target = day + HOUR + self.rng.randrange(4 * HOUR)
        if target < local:
            target += DAY
        return target - offset * 60

    # -- steps several typologies share ----------------------------------------------

    def open_wallet(
        self,
        p: Persona,
        t: int,
        *,
        token: str,
        bank: str,
        holder_name_match: bool,
        real_name_verified: bool = True,
        stage: str = "setup",
    ) -> Flow:
        """Register a new wallet, sign in by SMS code and bind a bank card to it."""
        make, rng = self.make, self.rng
        yield self.emit(make.simple(t, p, "register"), stage)
        t += rng.randrange(20, 180)
        yield t
        yield self.emit(make.with_auth(t, p, "login", "sms_otp", True), stage)
        t += rng.randrange(30, 900)
        yield t
        yield self.emit(
            make.account_bind(
                t,
                p,
                kind="bank_card",
                token=token,
                institution=bank,
                holder_name_match=holder_name_match,
                real_name_verified=real_name_verified,
            ),
            stage,
        )
        return t

    def cash_out(
        self,
        p: Persona,
        t: int,
        *,
        cents: int,
        currency: str,
        token: str,
        bank: str,
        knows_txn_password: bool = True,
        stage: str = "cash_out",
    ) -> Flow:
        """Take `cents` out to a bound card in one to three withdrawals, minutes apart.
        Their event ids are left in `self.last_cash_out`."""
        make, rng = self.make, self.rng
        pieces = _split(rng, cents, rng.choice((1, 1, 2, 3)))
        self.last_cash_out = []
        for i, piece in enumerate(pieces):
            if i:
                t += rng.randrange(MINUTE, 15 * MINUTE)
                yield t
            if not knows_txn_password and i == 0:
                for _ in range(rng.randint(1, 2)):
                    ev = make.with_auth(t, p, "txn_password_verify", "txn_password", False)
                    yield self.emit(ev, stage)
                    t += rng.randrange(10, 60)
                    yield t
            ev = make.with_auth(t, p, "txn_password_verify", "txn_password", True)
            yield self.emit(ev, stage)
            t += rng.randrange(3, 30)
            yield t
            out = make.withdrawal(
                t, p, cents=piece, currency=currency, token=token, institution=bank
            )
            self.last_cash_out.append(out.event_id)
            yield self.emit(out, stage)
        return t

    def bind_own_card(
        self,
        victim: User,
        p: Persona,
        t: int,
        *,
        name_match_chance: float,
        verified_chance: float | None = None,
    ) -> Generator[Step, None, tuple[str, str]]:
        """Bind a bank card of the fraudster's own, from a bank of the victim's country, to
        the victim's wallet at `t` (stage `bind_card`). Returns its token and bank.

        The chances are from 0 to 1; without `verified_chance` the card is real-name
        verified and no chance is drawn."""
        rng = self.rng
        token = self.world.ids.token()
        bank = rng.choice(COUNTRIES[victim.country].banks)
        holder_name_match = rng.random() < name_match_chance
        verified = verified_chance is None or rng.random() < verified_chance
        bind = self.make.account_bind(
            t,
            p,
            kind="bank_card",
            token=token,
            institution=bank,
            holder_name_match=holder_name_match,
            real_name_verified=verified,
        )
        yield self.emit(bind, "bind_card")
        return token, bank

    def drain_victim(
        self,
        victim: User,
        p: Persona,
        t: int,
        *,
        token: str,
        bank: str,
        knows_password_chance: float,
    ) -> Flow:
        """Withdraw the money at risk, never more than the victim's balance, to a bound card
        and take it off the balance; the victim may report it later. Nothing happens when
        the balance is empty."""
        cents = min(self.money_at_risk, victim.balance)
        if cents <= 0:
            return t
        t = yield from self.cash_out(
            p,
            t,
            cents=cents,
            currency=victim.currency,
            token=token,
            bank=bank,
            knows_txn_password=self.rng.random() < knows_password_chance,
        )
        victim.balance -= cents
        return (yield from self.maybe_report(victim, self.last_cash_out[0], t))

    def real_topup(
        self,
        p: Persona,
        t: int,
        *,
        cents: int,
        currency: str,
        channel: str,
        stage: str,
        merchant_no: str | None = None,
    ) -> Flow:
        """Money that really comes in through a channel: reported, confirmed, settled."""
        prefix, default_merchant = TOPUP_CHANNELS[channel]
        merchant_no = merchant_no or default_merchant
        ref = self.world.ids.channel_ref(prefix)
        yield self.emit(
            self.make.topup(
                t,
                p,
                cents=cents,
                currency=currency,
                channel=channel,
                channel_ref=ref,
                merchant_no=merchant_no,
            ),
            stage,
        )
        t += self.rng.randrange(2, 25)
        yield t
        confirmation = self.make.topup_confirmation(
            t,
            p.account_id,
            p.offset,
            cents=cents,
            currency=currency,
            channel=channel,
            channel_ref=ref,
            merchant_no=merchant_no,
        )
        yield self.emit(confirmation, stage + "_confirmation")
        self.world.settle(StatementLine(channel, ref, cents, currency, merchant_no, t))
        return t

    def victim_topup(self, user: User, p: Persona, t: int, cents: int) -> Flow:
        """The deceived customer tops up through their usual channel to be able to pay."""
        merchant_no = None
        if user.agent is not None:
            merchant_no = self.world.population.agents[user.agent].merchant_no
        t = yield from self.real_topup(
            p,
            t,
            cents=cents,
            currency=user.currency,
            channel=user.topup_channel,
            stage="victim_topup",
            merchant_no=merchant_no,
        )
        user.balance += cents
        user.last_in_at = t
        return t

    def maybe_report(self, user: User, ref_event_id: str, t: int) -> Flow:
        """Sometimes the victim notices and reports the event as fraud hours or days later.
        The report is the customer's own (legit) event: it carries no label."""
        rng = self.rng
        if rng.random() >= self.world.config.fraud_report_rate:
            return t
        t += rng.randrange(2 * HOUR, 3 * DAY)
        yield t
        yield self.make.fraud_report(t, self.as_customer(user), ref_event_id)
        return t


def _split(rng: random.Random, cents: int, parts: int) -> list[int]:
    """`cents` in `parts` roughly equal round pieces that add up exactly."""
    if parts <= 1 or cents < 100 * parts:
        return [cents]
    pieces = []
    left = cents
    for i in range(parts - 1):
        share = left // (parts - i)
        piece = max(100, share // 100 * 100 + rng.randrange(-5, 6) * 100)
        piece = min(piece, left - 100 * (parts - i - 1))
        pieces.append(piece)
        left -= piece
    pieces.append(left)
    return pieces


def guarded(run: Runner, campaign: Campaign) -> Actor:
    """The campaign's actor; its victims are released however it ends."""
    try:
        yield from run(campaign)
    finally:
        campaign.release()
