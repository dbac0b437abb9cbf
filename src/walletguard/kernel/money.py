"""Exact money.

Amounts are `Decimal` in major units with at most four decimal places (the
contract's `amount` pattern) and are stored as integer *units* of 1/10,000 of a
major unit. A float never touches an amount: parsing refuses floats outright.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from walletguard.kernel.errors import FieldProblem, InvalidInput

SCALE = 4
UNITS_PER_MAJOR = 10**SCALE
QUANTUM = Decimal(1).scaleb(-SCALE)
MAX_UNITS = 2**63 - 1
"""The largest amount in units that the ledger stores (a signed 64-bit column)."""
ZERO = Decimal(0)


_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class AmountError(ValueError):
    """An amount that is not an exact, non-negative decimal with at most four places."""


def parse_amount(text: str) -> Decimal:
    """Parse a contract amount (`"12.50"`) into an exact `Decimal`.

    Raises `AmountError` for anything that is not a plain non-negative decimal
    string with at most four decimal places.
    """
    if not isinstance(text, str):
        raise AmountError(f"amount must be a decimal string, got {type(text).__name__}")
    if _PLAIN_DECIMAL.fullmatch(text) is None:
        # Decimal() alone would also take "1e3", "1_000", "+5", " 10" and non-ASCII digits.
        raise AmountError(
            f"amount {text!r} is not a plain decimal such as 12.50 "
            "(ASCII digits, optionally a point and decimals)"
        )
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise AmountError(f"amount {text!r} is not a decimal number") from exc
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -SCALE:
        raise AmountError(f"amount {text!r} has more than {SCALE} decimal places")
    return value


def to_units(amount: Decimal) -> int:
    """Convert an amount to integer units of 1/10,000; exact or `AmountError`."""
    units = amount * UNITS_PER_MAJOR
    if units != units.to_integral_value():
        raise AmountError(f"amount {amount} has more than {SCALE} decimal places")
    result = int(units)
    if abs(result) > MAX_UNITS:
        raise AmountError(f"amount {amount} is larger than the ledger can hold")
    return result


def units_of(text: str, field: str) -> int:
    """`text` as units, or `InvalidInput` naming `field` (a request field, an option)."""
    try:
        return to_units(parse_amount(text))
    except AmountError as exc:
        raise InvalidInput([FieldProblem(field, str(exc))]) from None


def from_units(units: int) -> Decimal:
    """Convert integer units back into a `Decimal` amount with four places."""
    return Decimal(units).scaleb(-SCALE).quantize(QUANTUM)


def format_amount(amount: Decimal) -> str:
    """Render an amount the way the contract writes it: no exponent, no trailing zeros past 2."""
    quantized = amount.quantize(QUANTUM)
    text = f"{quantized:f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) < 2:
        fraction = fraction.ljust(2, "0")
    return f"{whole}.{fraction}"
