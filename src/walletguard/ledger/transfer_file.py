"""A file of transfers for `walletguard ledger transfers`: one JSON object a line.

    {"id": "settle-2026-11-22-0001", "kind": "settlement", "source": "platform:merchant_settlement",
     "destination": "shop-1", "amount": "1200.50", "currency": "CNY", "memo": "daily"}

`id` is the caller's: importing the same file again changes nothing (each id's first
outcome stands). `source` / `destination` are ledger account codes, or a wallet's id (`alice`
means `wallet:alice`). `amount` is a decimal string in currency units (never a float).
The whole file is read and checked before anything is applied: a bad line is an error
naming its number and field, and no line of the file is applied. A key given twice on a
line is such an error (which of the two was meant is not for the importer to guess).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import AmountError, parse_amount, to_units
from walletguard.ledger.model import (
    RESERVED_PREFIXES,
    TRANSFER_KINDS,
    TransferRequest,
    account_code_problem,
    ledger_account,
)


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    kind: str
    source: str
    destination: str
    amount: str
    currency: str = "CNY"
    memo: str = ""


_decoder = msgspec.json.Decoder(_Line)
_CURRENCY = re.compile(r"[A-Z]{3}")
"""Three ASCII capitals, as the event contract has it (`isupper` admits look-alikes: `СNY`)."""


def _repeated_keys(raw: bytes) -> list[str]:
    """The keys given more than once in a line's object (which decoding lets the last win)."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> None:
        keys = [key for key, _ in items]
        repeated.extend(k for i, k in enumerate(keys) if k in keys[:i] and k not in repeated)

    json.loads(raw, object_pairs_hook=pairs)
    return repeated


def transfer_request(
    transfer_id: str,
    kind: str,
    source: str,
    destination: str,
    amount: str,
    *,
    currency: str = "CNY",
    memo: str = "",
) -> TransferRequest:
    """One transfer given field by field (the `ledger transfer` command), checked as a
    file's line is; `InvalidInput` naming each bad field."""
    problems: list[FieldProblem] = []
    fields = _Line(transfer_id, kind, source, destination, amount, currency, memo)
    request = _request(fields, "$", problems)
    if request is None or problems:
        raise InvalidInput(problems)
    return request


def read_transfers(lines: Iterable[bytes]) -> list[TransferRequest]:
    """Every transfer of the file, in order; `InvalidInput` naming each bad line's number
    and field if any line is wrong (then none is returned)."""
    requests: list[TransferRequest] = []
    problems: list[FieldProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"line {number}"
        try:
            line = _decoder.decode(raw)
        except msgspec.ValidationError as exc:
            problems.append(FieldProblem(where, str(exc)))
            continue
        except msgspec.DecodeError:
            problems.append(FieldProblem(where, "not a JSON object"))
            continue
        problems += [
            FieldProblem(f"{where}: $.{key}", "given more than once") for key in _repeated_keys(raw)
        ]
        if line.id in seen:
            problems.append(
                FieldProblem(f"{where}: $.id", f"{line.id!r} is also on line {seen[line.id]}")
            )
        seen.setdefault(line.id, number)
        request = _request(line, f"{where}: $", problems)
        if request is not None:
            requests.append(request)
    if problems:
        raise InvalidInput(problems)
    return requests


def _request(line: _Line, at: str, problems: list[FieldProblem]) -> TransferRequest | None:
    """The transfer `line` describes, appending what is wrong with it to `problems` (paths
    under `at`); None if its amount cannot be read."""
    if line.kind not in TRANSFER_KINDS:
        kinds = ", ".join(sorted(TRANSFER_KINDS))
        problems.append(FieldProblem(f"{at}.kind", f"{line.kind!r} is not one of {kinds}"))
    if not line.id or line.id.startswith(RESERVED_PREFIXES):
        problems.append(
            FieldProblem(
                f"{at}.id",
                f"{line.id!r} is empty or starts with a prefix "
                f"the ledger keeps for itself ({', '.join(RESERVED_PREFIXES)})",
            )
        )
    source, destination = ledger_account(line.source), ledger_account(line.destination)
    for field, code in (("source", source), ("destination", destination)):
        problem = account_code_problem(code)
        if problem is not None:
            problems.append(FieldProblem(f"{at}.{field}", problem))
    if not _CURRENCY.fullmatch(line.currency):
        problems.append(FieldProblem(f"{at}.currency", f"{line.currency!r} is not ISO 4217"))
    try:
        amount = to_units(parse_amount(line.amount))
    except AmountError as exc:
        problems.append(FieldProblem(f"{at}.amount", str(exc)))
        return None
    if amount <= 0:
        problems.append(FieldProblem(f"{at}.amount", "must be positive"))
    return TransferRequest(
        id=line.id,
        kind=line.kind,
        source=source,
        destination=destination,
        currency=line.currency,
        amount=amount,
        memo=line.memo,
    )
