"""Reading a file of transfers: exact amounts, wallet ids expanded, every bad line named."""

from __future__ import annotations

import json

import pytest

from walletguard.kernel.errors import InvalidInput
from walletguard.ledger.transfer_file import read_transfers, transfer_request


def line(**fields: object) -> bytes:
    base = {"id": "t-1", "kind": "settlement", "source": "platform:merchant_settlement",
            "destination": "alice", "amount": "12.3456"}  # fmt: skip
    return json.dumps({**base, **fields}).encode()


def test_a_line_becomes_an_exact_transfer_to_the_wallet_it_names() -> None:
    (request,) = read_transfers([line(), b"", b"  "])
    assert request.amount == 123_456  # units of 1/10,000: no float anywhere
    assert request.destination == "wallet:alice"
    assert request.source == "platform:merchant_settlement"
    (from_clearing,) = read_transfers([line(source="platform:channel_clearing:unionpay")])
    assert from_clearing.source == "platform:channel_clearing:unionpay"
    assert (request.currency, request.memo) == ("CNY", "")


@pytest.mark.parametrize(
    ("bad", "path", "said"),
    [
        (line(amount=12.5), "line 1", "Expected `str`"),
        (line(amount="-1.00"), "line 1: $.amount", ""),
        (line(amount="0"), "line 1: $.amount", "must be positive"),
        (line(amount="1.00001"), "line 1: $.amount", ""),
        (line(kind="gift"), "line 1: $.kind", "'gift' is not one of"),
        (line(currency="cny"), "line 1: $.currency", "ISO 4217"),
        (line(currency="\u0421NY"), "line 1: $.currency", "ISO 4217"),  # a Cyrillic С
        (line(currency="\u00c7NY"), "line 1: $.currency", "ISO 4217"),
        (line()[:-1] + b', "amount": "5000.00"}', "line 1: $.amount", "more than once"),
        (line(id="evt:x"), "line 1: $.id", "prefix"),
        (line(amount="1e3"), "line 1: $.amount", "plain decimal"),
        # a misspelt platform account would open a new account and make money
        (line(source="platform:settlement"), "line 1: $.source", "neither a wallet"),
        (line(source="platform:channel_clearing:"), "line 1: $.source", "neither a wallet"),
        (line(destination=""), "line 1: $.destination", "names no wallet"),
        (line(destination="wallet:"), "line 1: $.destination", "names no wallet"),
        (line(extra=1), "line 1", "extra"),
        (b"[1, 2]", "line 1", ""),
        (b"{not json", "line 1", "not a JSON object"),
    ],
)
def test_a_bad_line_is_named_with_its_field(bad: bytes, path: str, said: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        read_transfers([bad])
    problems = raised.value.problems
    assert [p.path for p in problems] == [path]
    assert said in problems[0].message


def test_every_bad_line_is_reported_and_none_is_returned() -> None:
    with pytest.raises(InvalidInput) as raised:
        read_transfers([line(), line(id="t-2", kind="gift"), line()])
    assert [p.path for p in raised.value.problems] == ["line 2: $.kind", "line 3: $.id"]


def test_a_transfer_given_field_by_field_is_checked_the_same_way() -> None:
    request = transfer_request("adj-1", "adjustment", "platform:suspense", "bob", "5.00")
    assert (request.destination, request.amount) == ("wallet:bob", 50_000)
    with pytest.raises(InvalidInput) as raised:
        transfer_request("adj-2", "gift", "platform:suspense", "bob", "0")
    assert [p.path for p in raised.value.problems] == ["$.kind", "$.amount"]
