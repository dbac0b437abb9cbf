"""The people and businesses of a run: users with habits, merchants, cash-in/out agents.

Built once from the seed, before any event. Memory is proportional to the number
of users (a few hundred bytes each), never to the length of the run.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

from walletguard.simulate.amounts import NICE_TOPUPS, draw_cents, round_to, scale_cents
from walletguard.simulate.clock import DAY, HOUR
from walletguard.simulate.config import SimConfig
from walletguard.simulate.devices import new_phone
from walletguard.simulate.ids import IdMint
from walletguard.simulate.places import (
    COUNTRIES,
    LEGIT_FOREIGN,
    TRAVEL_DESTINATIONS,
    consumer_ip,
    home_point,
)

TOPUP_CHANNELS: dict[str, tuple[str, str]] = {
    "unionpay": ("UP", "898310058120001"),
    "bank_direct": ("BD", "BD0000318842"),
    "card_acquirer": ("CA", "CA77120045"),
    "agent_cash": ("AG", ""),
}
"""Top-up channel → (channel_ref prefix, the wallet's merchant number at the channel).

An `agent_cash` top-up carries the agent's own merchant number instead.
"""

SIGN_IN_METHODS: tuple[tuple[str, int], ...] = (
    ("biometric", 55),
    ("password", 30),
    ("sms_otp", 15),
)

CATEGORIES: dict[str, tuple[int, float, int, tuple[str, ...]]] = {
    # category: (median in CNY cents, spread, popularity, brands)
    "convenience": (2500, 0.5, 30, ("FamilyMart", "Lawson", "7-Eleven", "Meiyijia")),
    "coffee": (3200, 0.3, 18, ("Luckin Coffee", "Starbucks", "Manner Coffee")),
    "restaurant": (8500, 0.5, 20, ("Haidilao", "Xibei", "Yoshinoya", "Noodle House")),
    "grocery": (16000, 0.5, 15, ("Hema", "Walmart", "Yonghui", "Carrefour")),
    "transport": (3500, 0.5, 18, ("Didi", "Metro", "Hello Bike")),
    "online": (22000, 0.6, 12, ("JD.com", "Taobao", "Pinduoduo")),
    "utilities": (30000, 0.3, 4, ("State Grid", "Gas Company", "Mobile Top-up")),
    "pharmacy": (6000, 0.5, 5, ("LBX Pharmacy", "Yifeng Pharmacy")),
    "electronics": (150000, 0.5, 1, ("Apple Store", "Suning", "Xiaomi Home")),
}

# Local hours (0-23) in which each kind of person is usually active.
CHRONOTYPES: tuple[tuple[tuple[int, ...], int], ...] = (
    ((7, 8, 12, 13, 18, 19, 20, 21), 30),
    ((8, 9, 12, 13, 19, 20, 21, 22), 40),
    ((10, 11, 13, 14, 20, 21, 22, 23), 20),
    ((11, 12, 15, 16, 21, 22, 23, 0), 10),
)


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    name: str
    category: str
    country: str
    median_cents: int
    sigma: float


class User:
    """One wallet customer and the habits that drive their normal life."""

    __slots__ = (
        "account_id",
        "agent",
        "auth_method",
        "balance",
        "bank",
        "card_token",
        "country",
        "currency",
        "devices",
        "friends",
        "home",
        "home_ip",
        "hour_weights",
        "index",
        "joined_at",
        "keeps_float",
        "last_in_at",
        "last_reset_at",
        "merchant_weights",
        "merchants",
        "offset",
        "per_mille",
        "sessions_per_day",
        "shares_gps",
        "spend_per_mille",
        "topup_cents",
        "topup_channel",
        "usual_hours",
        "withdraw_cents",
    )

    account_id: str
    agent: int | None
    auth_method: str
    balance: int
    bank: str
    card_token: str
    country: str
    currency: str
    devices: list[dict[str, Any]]
    friends: list[int]
    home: tuple[float, float]
    home_ip: str
    hour_weights: list[float]
    index: int
    joined_at: int
    keeps_float: bool
    last_in_at: int
    last_reset_at: int
    merchant_weights: list[int]
    merchants: list[int]
    offset: int
    per_mille: int
    sessions_per_day: float
    shares_gps: bool
    spend_per_mille: int
    topup_cents: int
    topup_channel: str
    usual_hours: frozenset[int]
    withdraw_cents: int

    def __init__(self) -> None:
        self.friends: list[int] = []
        self.balance = 0
        self.last_in_at = 0
        self.last_reset_at = 0
        self.agent: int | None = None

    @property
    def device(self) -> dict[str, Any]:
        """The phone the user currently uses."""
        device: dict[str, Any] = self.devices[-1]
        return device


class Agent:
    """A shop that turns cash into wallet money and back; settles to its bank daily."""

    __slots__ = (
        "account_id",
        "balance",
        "bank",
        "card_token",
        "country",
        "currency",
        "device",
        "home",
        "home_ip",
        "index",
        "merchant_no",
        "offset",
    )

    account_id: str
    balance: int
    bank: str
    card_token: str
    country: str
    currency: str
    device: dict[str, Any]
    home: tuple[float, float]
    home_ip: str
    index: int
    merchant_no: str
    offset: int


@dataclass(slots=True)
class Population:
    users: list[User]
    merchants: list[Merchant]
    merchants_by_country: dict[str, list[int]]
    agents: list[Agent]

    def summary(self) -> dict[str, Any]:
        """Counts for reports: users by country, merchants by category, agents."""
        by_country: dict[str, int] = {}
        for user in self.users:
            by_country[user.country] = by_country.get(user.country, 0) + 1
        by_category: dict[str, int] = {}
        for merchant in self.merchants:
            by_category[merchant.category] = by_category.get(merchant.category, 0) + 1
        return {
            "users": len(self.users),
            "users_by_country": dict(sorted(by_country.items())),
            "merchants": len(self.merchants),
            "merchants_by_category": dict(sorted(by_category.items())),
            "agents": [a.account_id for a in self.agents],
        }


def build_population(config: SimConfig, ids: IdMint) -> Population:
    """Everyone in the run, drawn from the seed; users are in no particular order."""
    rng = random.Random(f"{config.seed}:population")
    start = config.start_ts
    countries = _home_countries(rng, config)
    merchants, by_country = _merchants(rng, config, ids, sorted(set(countries)))
    agents = [_agent(rng, ids, i) for i in range(config.agent_count)]
    users = [
        _user(rng, ids, i, country, start, config, merchants, by_country[country], agents)
        for i, country in enumerate(countries)
    ]
    _make_friends(rng, users)
    return Population(
        users,
        merchants,
        by_country,
        agents,
    )


def _home_countries(rng: random.Random, config: SimConfig) -> list[str]:
    codes = [c for c, _ in LEGIT_FOREIGN]
    weights = [w for _, w in LEGIT_FOREIGN]
    return [
        rng.choices(codes, weights)[0] if rng.random() < config.foreign_share else "CN"
        for _ in range(config.users)
    ]


def _merchants(
    rng: random.Random, config: SimConfig, ids: IdMint, countries: list[str]
) -> tuple[list[Merchant], dict[str, list[int]]]:
    wanted = sorted(set(countries) | set(TRAVEL_DESTINATIONS) | {"CN"})
    total = config.merchant_count
    names = list(CATEGORIES)
    weights = [CATEGORIES[n][2] for n in names]
    merchants: list[Merchant] = []
    by_country: dict[str, list[int]] = {}
    for country in wanted:
        count = max(12, total if country == "CN" else total // 20)
        scale = COUNTRIES[country].per_mille
        for n in range(count):
            category = names[n] if n < len(names) else rng.choices(names, weights)[0]
            median, sigma, _, brands = CATEGORIES[category]
            by_country.setdefault(country, []).append(len(merchants))
            merchants.append(
                Merchant(
                    merchant_id=ids.merchant(),
                    name=f"{rng.choice(brands)} #{rng.randrange(100, 9999)}",
                    category=category,
                    country=country,
                    median_cents=scale_cents(draw_cents(rng, median, 0.25), scale),
                    sigma=sigma,
                )
            )
    return merchants, by_country


def _agent(rng: random.Random, ids: IdMint, index: int) -> Agent:
    agent = Agent()
    agent.index = index
    agent.account_id = ids.account()
    agent.country = "CN"
    agent.currency = "CNY"
    agent.offset = COUNTRIES["CN"].offset_minutes
    agent.home = home_point(rng, "CN")
    agent.home_ip = consumer_ip(rng, "CN")
    agent.device = new_phone(rng, ids)
    agent.bank = rng.choice(COUNTRIES["CN"].banks)
    agent.card_token = ids.token()
    agent.merchant_no = f"AGT{100000 + index:06d}"
    agent.balance = 0
    return agent


def _user(
    rng: random.Random,
    ids: IdMint,
    index: int,
    country: str,
    start: int,
    config: SimConfig,
    merchants: list[Merchant],
    local_merchants: list[int],
    agents: list[Agent],
) -> User:
    place = COUNTRIES[country]
    u = User()
    u.index = index
    u.account_id = ids.account()
    u.country = country
    u.currency = place.currency
    u.per_mille = place.per_mille
    u.offset = place.offset_minutes
    u.home = home_point(rng, country)
    u.home_ip = consumer_ip(rng, country)
    u.shares_gps = rng.random() < 0.75
    u.devices = [new_phone(rng, ids)]
    u.auth_method = rng.choices(*zip(*SIGN_IN_METHODS, strict=True))[0]
    hours = rng.choices([h for h, _ in CHRONOTYPES], [w for _, w in CHRONOTYPES])[0]
    u.usual_hours = frozenset(hours)
    u.hour_weights = _hour_weights(rng, hours)
    u.sessions_per_day = min(6.0, max(0.3, rng.lognormvariate(0.3, 0.5)))
    u.bank = rng.choice(place.banks)
    u.card_token = ids.token()
    u.spend_per_mille = int(1000 * min(3.0, max(0.4, rng.lognormvariate(0.0, 0.35))))
    u.keeps_float = rng.random() < 0.3
    nice = NICE_TOPUPS[3:8] if u.keeps_float else NICE_TOPUPS[1:6]
    u.topup_cents = scale_cents(rng.choice(nice), place.per_mille)
    step = nice_step(place.per_mille)
    u.topup_cents = round_to(u.topup_cents * u.spend_per_mille // 1000, step)
    u.withdraw_cents = round_to(u.topup_cents * rng.choice((1, 2, 3)) // 4, step)
    if agents and country == "CN" and rng.random() < 0.07:
        u.topup_channel = "agent_cash"
        u.agent = rng.randrange(len(agents))
    else:
        u.topup_channel = rng.choices(("unionpay", "bank_direct", "card_acquirer"), (50, 40, 10))[0]
    favourites = rng.sample(local_merchants, min(len(local_merchants), rng.randint(3, 8)))
    u.merchants = favourites
    u.merchant_weights = list(
        itertools.accumulate(CATEGORIES[merchants[m].category][2] for m in favourites)
    )
    if rng.random() < config.new_user_share:
        day = start + rng.randrange(config.days) * DAY
    else:
        day = start - rng.randint(30, 720) * DAY
    # People open a wallet at a time they are usually up and about.
    midnight = day - (day + u.offset * 60) % DAY
    u.joined_at = midnight + rng.choice(hours) * HOUR + rng.randrange(HOUR)
    if u.joined_at < day and day >= start:
        u.joined_at += DAY
    return u


def nice_step(per_mille: int) -> int:
    """Cents that round amounts are multiples of: 10 yuan, 1 SGD, 100 yen..."""
    return int(10 ** (len(str(per_mille)) - 1))


def _hour_weights(rng: random.Random, usual: tuple[int, ...]) -> list[float]:
    """Cumulative weights over the 24 local hours: mostly the usual hours, a little daytime."""
    weights = []
    for hour in range(24):
        if hour in usual:
            w = 6.0 + rng.random() * 4.0
        elif 7 <= hour <= 22:
            w = 0.3
        else:
            w = 0.0
        weights.append(w)
    return list(itertools.accumulate(weights))


def _make_friends(rng: random.Random, users: list[User]) -> None:
    by_country: dict[str, list[int]] = {}
    for user in users:
        by_country.setdefault(user.country, []).append(user.index)
    for members in by_country.values():
        if len(members) < 2:
            continue
        for index in members:
            for _ in range(rng.randint(1, 3)):
                other = rng.choice(members)
                if other != index and other not in users[index].friends:
                    users[index].friends.append(other)
                    if index not in users[other].friends and len(users[other].friends) < 6:
                        users[other].friends.append(index)
