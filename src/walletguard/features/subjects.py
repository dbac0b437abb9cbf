"""Subjects: which events a windowed aggregate counts, and in whose name.

A subject is a named filter over events. Most count in the name of the actor
(the account doing the event, its device, IP...). `transfer_received` counts in the
name of the wallet that *receives* a transfer, so a mule's incoming money shows
up in its own features when it later withdraws. `reported` counts chargebacks and
fraud reports when they arrive, in the name of the event they report (its account,
device, counterparty...): a merchant's `reported_count_by_counterparty_7d` is how many
of its payments were reported as fraud in the last seven days of reports, the label
delay included, exactly as a live system would have learned it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from walletguard.events.model import LABELS, MONEY_OUT, EventType, WalletEvent

SMALL_TOPUP_MAX = Decimal("10")
"""A top-up at or under this amount counts as small (card testing, fake top-up probing)."""


@dataclass(frozen=True, slots=True)
class Subject:
    name: str
    description: str
    matches: Callable[[WalletEvent], bool]
    receiver: bool = False
    via_reference: bool = False
    """Counted under the keys of the event this one refers to (`ref_event_id`)."""


def _of(*types: EventType) -> Callable[[WalletEvent], bool]:
    wanted = frozenset(types)
    return lambda e: e.type in wanted


def _auth_failed(kind: EventType) -> Callable[[WalletEvent], bool]:
    return lambda e: e.type is kind and e.auth is not None and not e.auth.success


def _small_topup(e: WalletEvent) -> bool:
    return e.type is EventType.TOPUP and e.amount is not None and e.amount <= SMALL_TOPUP_MAX


def _received(e: WalletEvent) -> bool:
    return (
        e.type is EventType.TRANSFER
        and e.counterparty is not None
        and (e.counterparty.type == "account")
    )


def _confirmed_topup(e: WalletEvent) -> bool:
    return e.type is EventType.TOPUP_CONFIRMATION and bool(
        e.topup is not None and e.topup.signature_valid
    )


def _failed_step_up(e: WalletEvent) -> bool:
    return e.type is EventType.STEP_UP_RESULT and e.step_up is not None and not e.step_up.success


SUBJECTS: dict[str, Subject] = {
    s.name: s
    for s in [
        Subject("any", "every event", lambda e: True),
        Subject("register", "account openings", _of(EventType.REGISTER)),
        Subject("login", "sign-in attempts", _of(EventType.LOGIN)),
        Subject("login_failed", "failed sign-ins", _auth_failed(EventType.LOGIN)),
        Subject(
            "txn_password_failed",
            "wrong transaction passwords",
            _auth_failed(EventType.TXN_PASSWORD_VERIFY),
        ),
        Subject(
            "password_reset",
            "password reset requests",
            _of(EventType.PASSWORD_RESET_REQUEST),
        ),
        Subject("account_bind", "bank / card account bindings", _of(EventType.ACCOUNT_BIND)),
        Subject("device_bind", "device bindings", _of(EventType.DEVICE_BIND)),
        Subject("topup", "top-up requests", _of(EventType.TOPUP)),
        Subject("topup_small", f"top-ups of at most {SMALL_TOPUP_MAX}", _small_topup),
        Subject("topup_confirmed", "signed top-up confirmations", _confirmed_topup),
        Subject("transfer", "wallet-to-wallet transfers sent", _of(EventType.TRANSFER)),
        Subject("payment", "payments to merchants", _of(EventType.PAYMENT)),
        Subject("withdrawal", "withdrawals to bound accounts", _of(EventType.WITHDRAWAL)),
        Subject("money_out", "transfers, payments and withdrawals", _of(*MONEY_OUT)),
        Subject("transfer_received", "transfers received", _received, receiver=True),
        Subject("step_up_failed", "failed step-up verifications", _failed_step_up),
        Subject(
            "reported",
            "events reported as fraud (chargebacks, fraud reports), under the reported "
            "event's keys, counted when the report arrives",
            lambda e: e.type in LABELS,
            via_reference=True,
        ),
    ]
}
