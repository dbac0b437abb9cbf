"""Memory the in-process feature store needs per active account.

Drives a population of accounts through a month of typical activity (sign-ins, payments,
transfers to friends, top-ups, a withdrawal or two) with the default ruleset's features,
then measures the store's memory with tracemalloc and extrapolates to one million
active accounts.

    python -m benchmarks.feature_memory [--accounts 20000] [--days 30]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from tests.support import EventFactory

from walletguard.composition import load_rules
from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import EventKeys

HOME = Located("CN", 31.23, 121.47)


def activity(f: EventFactory, rnd: random.Random, account: str, friends: list[str]) -> list[dict]:
    """One account's day: a sign-in, a few payments (mostly to a dozen favourite shops),
    sometimes a transfer, a top-up or a withdrawal."""
    docs = [f.login(account)]
    favourites = [(hash(account) * 31 + k) % 5000 for k in range(12)]
    for _ in range(rnd.randint(1, 4)):
        merchant = rnd.choice(favourites) if rnd.random() < 0.9 else rnd.randint(0, 5000)
        docs.append(f.payment(account, merchant=f"m{merchant}", amount=f"{rnd.randint(5, 300)}.00"))
    if rnd.random() < 0.3:
        docs.append(
            f.transfer(account, to=rnd.choice(friends), amount=f"{rnd.randint(10, 500)}.00")
        )
    if rnd.random() < 0.2:
        ref = f"r-{account}-{rnd.random()}"
        docs += [
            f.topup(account, amount="500.00", ref=ref),
            f.confirm(account, amount="500.00", ref=ref),
        ]
    if rnd.random() < 0.05:
        docs.append(f.withdraw(account, token=f"card-{account}", amount="200.00"))
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    rnd = random.Random(7)
    ruleset = load_rules(None)
    accounts = [f"acct-{i}" for i in range(args.accounts)]
    f = EventFactory()
    tracemalloc.start()
    store = MemoryFeatureStore()
    store.maintain(ruleset.window_features())
    before = tracemalloc.get_traced_memory()[0]
    events = 0
    started = time.perf_counter()
    for _day in range(args.days):
        for account in accounts:
            friends = [accounts[(hash(account) + k) % len(accounts)] for k in range(1, 4)]
            for doc in activity(f, rnd, account, friends):
                doc["device"] = {"id": f"dev-{account}"}
                doc.setdefault(
                    "network", {"ip": f"117.136.{hash(account) % 250}.{hash(account) % 200}"}
                )
                event = decode_event(doc)
                keys = EventKeys(event)
                store.update(event, keys, learn=True, where=HOME)
                events += 1
        f.advance(days=1)
        store.sweep()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    per_account = used / args.accounts
    print(
        f"accounts {args.accounts:,}  days {args.days}  events {events:,}  "
        f"({events / (time.perf_counter() - started):,.0f} updates/s under tracemalloc)"
    )
    print(
        f"features kept: {len(store.maintained)}  entities: {len(store.entities):,}  "
        f"profiles: {len(store.profiles):,}"
    )
    print(f"memory: {used / 2**20:,.1f} MiB  = {per_account:,.0f} bytes per active account")
    print(f"1,000,000 active accounts: {per_account * 1e6 / 2**30:,.2f} GiB")


if __name__ == "__main__":
    main()
