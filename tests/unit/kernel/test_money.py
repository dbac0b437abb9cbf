from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletguard.kernel.money import AmountError, format_amount, from_units, parse_amount, to_units


def test_parses_contract_amounts_exactly() -> None:
    assert parse_amount("12.5") == Decimal("12.50")
    assert parse_amount("0.0001") == Decimal("0.0001")
    assert to_units(parse_amount("999999999999.9999")) == 9999999999999999


@pytest.mark.parametrize(
    "text",
    # Decimal() itself takes the exponent, underscore, sign, space and non-ASCII digit forms.
    [
        "-1",
        "1.23456",
        "abc",
        "NaN",
        "Infinity",
        "",
        "1e3",
        "1_000",
        "+5",
        " 10",
        "１０",
        "١٠",
        "1.",
        ".5",
    ],
)
def test_refuses_what_is_not_an_exact_amount(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_refuses_floats_outright() -> None:
    with pytest.raises(AmountError):
        parse_amount(1.5)  # type: ignore[arg-type]


def test_amount_too_large_for_the_ledger_is_refused() -> None:
    with pytest.raises(AmountError, match="larger than the ledger"):
        to_units(parse_amount("999999999999999.9999"))


@given(st.integers(min_value=0, max_value=10**18))
def test_units_round_trip(units: int) -> None:
    assert to_units(from_units(units)) == units


def test_formats_without_exponent_or_noise() -> None:
    assert format_amount(Decimal("1E+3")) == "1000.00"
    assert format_amount(Decimal("12.3400")) == "12.34"
    assert format_amount(Decimal("0.0005")) == "0.0005"
