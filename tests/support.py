"""Test helpers: build contract events with a moving clock, run them through a real engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
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


def codes(decision: Decision) -> set[str]:
    """The reason codes of a decision."""
    return {r.code for r in decision.reasons}


def write_jsonl(path: Path, documents: Iterable[dict[str, Any]]) -> Path:
    import json

    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    return path
