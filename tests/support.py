"""Test helpers: build contract events with a moving clock, run them through a real engine."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from walletguard.composition import Runtime, build_runtime
from walletguard.decisions.model import Decision
from walletguard.events.decode import decode_event

HOME_IP = "117.136.12.34"  # China Mobile, CN
OTHER_CN_IP = "112.96.1.1"  # China Unicom, CN
FOREIGN_IP = "24.6.1.1"  # Comcast, US
HOSTING_IP = "159.89.1.1"  # DigitalOcean, DE


class EventFactory:
    """Makes valid contract events. The clock only moves when told (`advance`)."""

    def __init__(self, start: str = "2026-03-02T10:00:00+08:00", prefix: str = "ev") -> None:
        self.now = datetime.fromisoformat(start)
        self._ids = itertools.count(1)
        self._prefix = prefix

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> None:
        self.now += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)

    def make(self, type_: str, account: str = "alice", **fields: Any) -> dict[str, Any]:
        """An event of `type_` for `account` at the current time; `fields` override defaults.
        Pass `device=None` / `network=None` to leave them out."""
        event: dict[str, Any] = {
            "event_id": f"{self._prefix}-{next(self._ids)}",
            "type": type_,
            "occurred_at": self.now.isoformat(),
            "account_id": account,
            "device": {"id": f"phone-{account}", "os": "android", "model": "Mi 13"},
            "network": {"ip": HOME_IP},
        }
        event.update(fields)
        return {k: v for k, v in event.items() if v is not None}

    # the usual events, with their required parts
    def register(self, account: str = "alice", **f: Any) -> dict[str, Any]:
        return self.make("register", account, **f)

    def login(
        self, account: str = "alice", *, success: bool = True, method: str = "password", **f: Any
    ) -> dict[str, Any]:
        return self.make("login", account, auth={"method": method, "success": success}, **f)

    def bind(self, account: str = "alice", token: str = "card-1", **f: Any) -> dict[str, Any]:
        binding = {
            "kind": "bank_card",
            "token": token,
            "institution": "ICBC",
            "holder_name_match": True,
            "real_name_verified": True,
        }
        binding.update(f.pop("binding", {}))
        return self.make("account_bind", account, binding=binding, **f)

    def topup(
        self, account: str = "alice", amount: str = "1000.00", ref: str = "ref-1", **f: Any
    ) -> dict[str, Any]:
        topup = {"channel": "unionpay", "channel_ref": ref, "merchant_no": "M-1"}
        topup.update(f.pop("topup", {}))
        return self.make("topup", account, amount=amount, currency="CNY", topup=topup, **f)

    def confirm(
        self,
        account: str = "alice",
        amount: str = "1000.00",
        ref: str = "ref-1",
        signature_valid: bool = True,
        **f: Any,
    ) -> dict[str, Any]:
        topup = {
            "channel": "unionpay",
            "channel_ref": ref,
            "merchant_no": "M-1",
            "signature_valid": signature_valid,
        }
        topup.update(f.pop("topup", {}))
        return self.make(
            "topup_confirmation",
            account,
            amount=amount,
            currency="CNY",
            topup=topup,
            device=None,
            network=None,
            **f,
        )

    def withdraw(
        self, account: str = "alice", amount: str = "100.00", token: str = "card-1", **f: Any
    ) -> dict[str, Any]:
        return self.make(
            "withdrawal",
            account,
            amount=amount,
            currency="CNY",
            binding={"kind": "bank_card", "token": token},
            **f,
        )

    def transfer(
        self, account: str = "alice", to: str = "bob", amount: str = "50.00", **f: Any
    ) -> dict[str, Any]:
        return self.make(
            "transfer",
            account,
            amount=amount,
            currency="CNY",
            counterparty={"type": "account", "id": to},
            **f,
        )

    def payment(
        self, account: str = "alice", merchant: str = "shop-1", amount: str = "30.00", **f: Any
    ) -> dict[str, Any]:
        return self.make(
            "payment",
            account,
            amount=amount,
            currency="CNY",
            counterparty={"type": "merchant", "id": merchant},
            **f,
        )

    def funded(
        self, account: str = "alice", amount: str = "1000.00", ref: str | None = None
    ) -> list[dict[str, Any]]:
        """Register, bind a card, top up and confirm: an ordinary account with money."""
        ref = ref or f"ref-{account}"
        docs = [self.register(account)]
        self.advance(minutes=5)
        docs.append(self.bind(account, token=f"card-{account}"))
        self.advance(minutes=5)
        docs.append(self.topup(account, amount, ref=ref))
        self.advance(seconds=30)
        docs.append(self.confirm(account, amount, ref=ref))
        return docs


def mixed_events(seed: int, count: int) -> list[dict[str, Any]]:
    """A seeded, varied stream for comparing feature stores and engines: a small population
    of wallets sharing devices, IPs and cards, paying each other and merchants; every event
    type that feeds a feature; mostly forward in time, with late (out-of-order) events and
    now and then a gap of days that empties every window."""
    rng = random.Random(seed)
    f = EventFactory()
    wallets = [f"w{i}" for i in range(10)]
    devices = [f"dev-{i}" for i in range(6)]
    ips = [HOME_IP, OTHER_CN_IP, FOREIGN_IP, HOSTING_IP, "117.136.12.99", "2408:8000::1"]
    cards = [f"card-{i}" for i in range(5)]
    merchants = ["shop-1", "shop-2", "games-1"]
    amounts = ["1.00", "8.50", "10.00", "35.00", "120.00", "999.99", "5000.00"]
    gaps = [0, 1, 5, 30, 90, 400, 2000, 5000]
    docs: list[dict[str, Any]] = []
    for _ in range(count):
        if rng.random() < 0.01:
            f.advance(days=rng.choice([2, 8, 31]))
        else:
            f.advance(seconds=rng.choice(gaps))
        late = timedelta(seconds=rng.randint(1, 3 * 3600)) if rng.random() < 0.1 else None
        if late is not None:
            f.now -= late
        who = rng.choice(wallets)
        where: dict[str, Any] = {
            "device": {"id": rng.choice(devices), "os": "android"},
            "network": {"ip": rng.choice(ips)},
        }
        if rng.random() < 0.3:
            where["geo"] = {"lat": rng.uniform(20, 45), "lon": rng.uniform(100, 125)}
        amount = rng.choice(amounts)
        kind = rng.choice(_MIXED_KINDS)
        if kind == "login":
            doc = f.login(who, success=rng.random() < 0.6, **where)
        elif kind == "transfer":
            doc = f.transfer(who, to=rng.choice(wallets), amount=amount, **where)
        elif kind == "payment":
            doc = f.payment(who, merchant=rng.choice(merchants), amount=amount, **where)
        elif kind == "withdrawal":
            doc = f.withdraw(who, amount=amount, token=rng.choice(cards), **where)
        elif kind == "topup":
            ref = f"ref-{rng.randint(1, 40)}"
            doc = f.topup(who, amount=rng.choice(["5.00", *amounts]), ref=ref, **where)
        elif kind == "topup_confirmation":
            ref = f"ref-{rng.randint(1, 40)}"
            doc = f.confirm(who, amount=amount, ref=ref, signature_valid=rng.random() < 0.8)
        elif kind == "account_bind":
            doc = f.bind(who, token=rng.choice(cards), **where)
        elif kind == "txn_password_verify":
            auth = {"method": "txn_password", "success": rng.random() < 0.5}
            doc = f.make(kind, who, auth=auth, **where)
        elif kind == "profile_change":
            field = rng.choice(["phone", "email", "sim", "name"])
            doc = f.make(kind, who, profile={"field": field}, **where)
        elif kind == "password_reset_complete":
            doc = f.make(
                kind, who, auth={"method": rng.choice(["sms_otp", "face"]), "success": True}
            )
        else:
            doc = f.make(kind, who, **where)
        if late is not None:
            f.now += late
        docs.append(doc)
    return docs


_MIXED_KINDS = [
    *["login"] * 6,
    *["transfer"] * 5,
    *["payment"] * 3,
    *["withdrawal"] * 2,
    *["topup"] * 2,
    "topup_confirmation",
    "account_bind",
    "register",
    "txn_password_verify",
    "profile_change",
    "password_reset_request",
    "password_reset_complete",
    "password_change",
    "device_bind",
]


class Harness:
    """A real engine on a real database, deciding one event at a time."""

    def __init__(self, db_url: str, **options: Any) -> None:
        self.runtime: Runtime = build_runtime(db_url, **options)

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.runtime.engine

    def decide(self, document: dict[str, Any]) -> Decision:
        return self.runtime.engine.decide(decode_event(document))

    def decide_all(self, documents: Iterable[dict[str, Any]]) -> list[Decision]:
        return [self.decide(d) for d in documents]

    def close(self) -> None:
        self.runtime.close()


def restart_story(
    events: EventFactory,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events whose features matter to later decisions (four wallets feed a mule), and two
    later events decided on those features: for checking that a restart goes on exactly
    as a run that never stopped."""
    docs: list[dict[str, Any]] = []
    for i in range(4):
        docs += events.funded(f"s{i}", "2000.00")
        events.advance(minutes=3)
        docs.append(events.transfer(f"s{i}", to="mule", amount="1500.00"))
    docs.append(events.register("mule"))
    later = [
        events.withdraw("mule", token="card-x", amount="1000.00"),
        events.login("s1", success=False),
    ]
    return docs, later


def codes(decision: Decision) -> set[str]:
    """The reason codes of a decision."""
    return {r.code for r in decision.reasons}


def write_jsonl(path: Path, documents: Iterable[dict[str, Any]]) -> Path:
    import json

    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    return path


@contextmanager
def serving(
    command: Sequence[str],
    env: dict[str, str],
    url: str,
    *,
    ready_within: float = 60,
    interrupt: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """`walletguard serve` started by `command`, stopped (SIGTERM, then waited for) when the
    block ends; enters once `url + "/ready"` answers 200. Raises `RuntimeError`, with what
    the service wrote to standard error, if it exits or is not ready in time.
    `interrupt`: run it in a process group of its own and stop it as Ctrl-C in a terminal
    does, SIGINT to the whole group."""
    import httpx

    # stderr to a file, not a pipe: a busy service's warnings would fill a pipe and stall it
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            list(command),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=interrupt,
        )
        try:
            deadline = time.monotonic() + ready_within
            while True:
                try:
                    if httpx.get(url + "/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    process.terminate()
                    process.wait(timeout=60)
                    errors.seek(0)
                    said = errors.read().decode(errors="replace")
                    raise RuntimeError(f"{' '.join(command)} did not become ready:\n{said}")
                time.sleep(0.2)
            yield process
        finally:
            if process.poll() is None:
                if interrupt:
                    os.killpg(process.pid, signal.SIGINT)
                else:
                    process.terminate()
                process.wait(timeout=60)
