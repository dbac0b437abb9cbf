import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from tests.schema_strategy import from_schema
from walletguard.events.decode import decode_event, event_schema
from walletguard.events.model import EventType
from walletguard.kernel.errors import InvalidInput

SHARED_SCHEMA = Path(__file__).resolve().parents[4] / "shared/contract/wallet-event.schema.json"
CONTRACT_SHA256 = "6a067c194d90105447394d7a71e09269423f89ec73e73d0aa0c4cebb5bab71d0"
"""The shared contract's event schema (canonical JSON) when the bundled copy was last
compared with it: a clone without `../shared` still checks that nothing drifted."""

EXAMPLES = [
    {
        "event_id": "e-reg",
        "type": "register",
        "occurred_at": "2026-03-01T09:00:00+08:00",
        "account_id": "a1",
        "device": {
            "id": "d1",
            "os": "android",
            "model": "Mi 13",
            "app_version": "5.2.0",
            "is_emulator": False,
            "is_rooted": False,
        },
        "network": {"ip": "117.136.12.34", "user_agent": "wallet/5.2"},
        "geo": {"lat": 31.2, "lon": 121.4, "accuracy_m": 12.5},
        "channel": "app",
        "session_id": "s1",
    },
    {
        "event_id": "e-login",
        "type": "login",
        "occurred_at": "2026-03-01T09:01:00Z",
        "account_id": "a1",
        "auth": {"method": "biometric", "success": True},
    },
    {
        "event_id": "e-out",
        "type": "logout",
        "occurred_at": "2026-03-01T09:02:00Z",
        "account_id": "a1",
    },
    {
        "event_id": "e-pc",
        "type": "password_change",
        "occurred_at": "2026-03-01T09:03:00Z",
        "account_id": "a1",
        "auth": {"method": "password", "success": True},
    },
    {
        "event_id": "e-prr",
        "type": "password_reset_request",
        "occurred_at": "2026-03-01T09:04:00Z",
        "account_id": "a1",
        "auth": {"method": "sms_otp", "success": True},
    },
    {
        "event_id": "e-prc",
        "type": "password_reset_complete",
        "occurred_at": "2026-03-01T09:05:00Z",
        "account_id": "a1",
        "auth": {"method": "face", "success": True},
    },
    {
        "event_id": "e-tpv",
        "type": "txn_password_verify",
        "occurred_at": "2026-03-01T09:06:00Z",
        "account_id": "a1",
        "auth": {"method": "txn_password", "success": False},
    },
    {
        "event_id": "e-prof",
        "type": "profile_change",
        "occurred_at": "2026-03-01T09:07:00Z",
        "account_id": "a1",
        "profile": {"field": "sim", "new_value_hash": "abc"},
    },
    {
        "event_id": "e-db",
        "type": "device_bind",
        "occurred_at": "2026-03-01T09:08:00Z",
        "account_id": "a1",
        "device": {"id": "d2"},
    },
    {
        "event_id": "e-du",
        "type": "device_unbind",
        "occurred_at": "2026-03-01T09:09:00Z",
        "account_id": "a1",
        "device": {"id": "d2"},
    },
    {
        "event_id": "e-ab",
        "type": "account_bind",
        "occurred_at": "2026-03-01T09:10:00Z",
        "account_id": "a1",
        "binding": {
            "kind": "bank_card",
            "token": "t1",
            "institution": "ICBC",
            "holder_name_match": True,
            "real_name_verified": True,
        },
    },
    {
        "event_id": "e-au",
        "type": "account_unbind",
        "occurred_at": "2026-03-01T09:11:00Z",
        "account_id": "a1",
        "binding": {"kind": "bank_card", "token": "t1"},
    },
    {
        "event_id": "e-tu",
        "type": "topup",
        "occurred_at": "2026-03-01T09:12:00Z",
        "account_id": "a1",
        "amount": "100.00",
        "currency": "CNY",
        "topup": {"channel": "unionpay", "channel_ref": "r1", "merchant_no": "m1"},
    },
    {
        "event_id": "e-tc",
        "type": "topup_confirmation",
        "occurred_at": "2026-03-01T09:13:00Z",
        "account_id": "a1",
        "amount": "100.00",
        "currency": "CNY",
        "topup": {
            "channel": "unionpay",
            "channel_ref": "r1",
            "merchant_no": "m1",
            "signature_valid": True,
        },
    },
    {
        "event_id": "e-tr",
        "type": "transfer",
        "occurred_at": "2026-03-01T09:14:00Z",
        "account_id": "a1",
        "amount": "5",
        "counterparty": {"type": "account", "id": "a2", "name": "Bob", "country": "CN"},
    },
    {
        "event_id": "e-pay",
        "type": "payment",
        "occurred_at": "2026-03-01T09:15:00Z",
        "account_id": "a1",
        "amount": "5.5",
        "counterparty": {"type": "merchant", "id": "shop"},
    },
    {
        "event_id": "e-wd",
        "type": "withdrawal",
        "occurred_at": "2026-03-01T09:16:00Z",
        "account_id": "a1",
        "amount": "20.0001",
        "binding": {"kind": "bank_card", "token": "t1"},
    },
    {
        "event_id": "e-su",
        "type": "step_up_result",
        "occurred_at": "2026-03-01T09:17:00Z",
        "account_id": "a1",
        "step_up": {"challenge_id": "ch-1", "method": "face", "success": True},
    },
    {
        "event_id": "e-cb",
        "type": "chargeback",
        "occurred_at": "2026-03-20T09:17:00Z",
        "account_id": "a1",
        "amount": "5.5",
        "ref_event_id": "e-pay",
    },
    {
        "event_id": "e-fr",
        "type": "fraud_report",
        "occurred_at": "2026-03-20T09:18:00Z",
        "account_id": "a1",
        "ref_event_id": "e-tr",
        "metadata": {"source": "call centre", "nested": [1, {"x": None}]},
    },
]

VALIDATOR = jsonschema.Draft202012Validator(
    event_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def test_bundled_schema_is_the_shared_contract() -> None:
    bundled = event_schema()
    if SHARED_SCHEMA.exists():  # beside the shared contract: compare with it directly
        assert json.loads(SHARED_SCHEMA.read_text()) == bundled
    canonical = json.dumps(bundled, sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical).hexdigest() == CONTRACT_SHA256


def test_examples_cover_every_event_type_and_are_valid() -> None:
    assert {e["type"] for e in EXAMPLES} == {t.value for t in EventType}
    for example in EXAMPLES:
        VALIDATOR.validate(example)


@pytest.mark.parametrize("document", EXAMPLES, ids=lambda d: d["type"])
def test_every_example_is_accepted(document: dict) -> None:
    event = decode_event(json.dumps(document).encode())
    assert event.event_id == document["event_id"]
    assert event.type.value == document["type"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_schema(event_schema()))
def test_every_schema_valid_document_is_accepted(document: dict) -> None:
    VALIDATOR.validate(document)  # the generator's own promise, checked
    event = decode_event(json.dumps(document).encode())
    assert event.event_id == document["event_id"].replace("\x00", "\ufffd")  # see docs/contract.md
    assert event.occurred_at.tzinfo is UTC


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_schema(event_schema()))
def test_every_schema_valid_document_is_accepted_however_it_is_spaced_and_escaped(
    document: dict,
) -> None:
    """Spaced colons and \\u escapes take the repeated-key check's careful path: still
    accepted, with the same payload as the compact form."""
    spaced = json.dumps(document, indent=1, separators=(",", " : "), ensure_ascii=True)
    assert decode_event(spaced.encode()).payload == decode_event(json.dumps(document)).payload


PAYMENT = (
    b'{"event_id":"e1","type":"payment","occurred_at":"2026-03-02T10:00:00+08:00",'
    b'"account_id":"a","amount":"1.00","currency":"CNY"%s}'
)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        (b',"amount":"9999.00"', "amount"),
        (b',"device":{"id":"d1","os":"ios","id":"d2"}', "id"),
        (b', "amount" : "5.00"', "amount"),  # a spaced colon does not hide it
        (b',"metadata":{"n":"x\\u0022:y"},"amount":"2.00"', "amount"),  # nor an escape
        (b',"metadata":{"n":"x\\":y"},"amount":"2.00"', "amount"),
    ],
)
def test_a_key_named_twice_in_one_object_is_refused(extra: bytes, key: str) -> None:
    """One decoder keeps the first value, another the last: the amount the wallet moves
    would not be the amount walletguard judged."""
    with pytest.raises(InvalidInput) as refused:
        decode_event(PAYMENT % extra)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("$", f"the key {key!r} appears twice in one object")
    ]


def test_the_same_key_in_different_objects_is_fine() -> None:
    event = decode_event(PAYMENT % b',"device":{"id":"d1"},"metadata":{"id":"x","amount":"3"}')
    assert event.amount == Decimal("1.00")


def test_normalises_times_amounts_and_ips() -> None:
    event = decode_event(
        {
            "event_id": "e",
            "type": "withdrawal",
            "occurred_at": "2026-03-01T03:12:00+08:00",
            "account_id": "a",
            "amount": "120.5",
            "network": {"ip": "2001:db8::1"},
        }
    )
    assert event.occurred_at == datetime(2026, 2, 28, 19, 12, tzinfo=UTC)
    assert event.local_hour == 3
    assert event.amount == Decimal("120.5")
    assert isinstance(event.amount, Decimal)
    assert event.ip == ip_address("2001:db8::1")


def test_an_unparseable_ip_is_accepted_but_not_trusted() -> None:
    event = decode_event(
        {
            "event_id": "e",
            "type": "login",
            "occurred_at": "2026-03-01T03:12:00Z",
            "account_id": "a",
            "network": {"ip": "not-an-ip"},
        }
    )
    assert event.ip is None
    assert event.ip_text == "not-an-ip"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-03-01t10:00:00.123456789z", datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-01 10:00:00-05:30", datetime(2026, 3, 1, 15, 30, tzinfo=UTC)),
    ],
)
def test_rfc3339_instants_python_cannot_hold_are_normalised(text: str, expected: datetime) -> None:
    event = decode_event({"event_id": "e", "type": "login", "occurred_at": text, "account_id": "a"})
    assert event.occurred_at == expected


def problems_of(document: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        decode_event(document if isinstance(document, bytes | str) else json.dumps(document))
    return {p.path: p.message for p in caught.value.problems}


def test_a_missing_required_field_is_named() -> None:
    assert "$.event_id" in problems_of(
        {"type": "login", "occurred_at": "2026-03-01T03:12:00Z", "account_id": "a"}
    )


def test_every_problem_is_reported_with_its_path() -> None:
    found = problems_of(
        {
            "event_id": "",
            "type": "bogus",
            "occurred_at": "yesterday",
            "account_id": "a",
            "amount": "1.23456",
            "device": {"id": ""},
            "geo": {"lat": 91, "lon": 0},
        }
    )
    assert set(found) >= {
        "$.event_id",
        "$.type",
        "$.occurred_at",
        "$.amount",
        "$.device.id",
        "$.geo.lat",
    }
    assert "bogus" in found["$.type"]


@pytest.mark.parametrize("amount", ["1.5 ", "01.2.3", "1e5", "-1", "12.34567", "1234567890123456"])
def test_malformed_amounts_are_refused(amount: str) -> None:
    found = problems_of(
        {
            "event_id": "e",
            "type": "payment",
            "occurred_at": "2026-03-01T03:12:00Z",
            "account_id": "a",
            "amount": amount,
        }
    )
    assert "$.amount" in found


def test_an_amount_as_a_json_number_is_refused() -> None:
    found = problems_of(
        {
            "event_id": "e",
            "type": "payment",
            "occurred_at": "2026-03-01T03:12:00Z",
            "account_id": "a",
            "amount": 12.5,
        }
    )
    assert "$.amount" in found


def test_a_trailing_newline_does_not_sneak_past_a_pattern() -> None:
    found = problems_of(
        {
            "event_id": "e",
            "type": "payment",
            "occurred_at": "2026-03-01T03:12:00Z",
            "account_id": "a",
            "currency": "USD\n",
        }
    )
    assert "$.currency" in found


def test_not_json_and_not_an_object() -> None:
    assert "$" in problems_of(b"{nope")
    assert "$" in problems_of(b"[1, 2]")


def test_metadata_nested_past_the_decoders_depth_is_refused_not_a_crash() -> None:
    depth = 5_000
    body = (
        b'{"event_id":"e","type":"login","occurred_at":"2026-03-01T03:12:00Z",'
        b'"account_id":"a","metadata":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    )
    with pytest.raises(InvalidInput) as refused:
        decode_event(body)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("$", "nested too deeply to be decoded")
    ]


def test_a_time_without_offset_is_refused() -> None:
    assert "$.occurred_at" in problems_of(
        {"event_id": "e", "type": "login", "occurred_at": "2026-03-01T03:12:00", "account_id": "a"}
    )


def test_same_document_any_key_order_same_hash() -> None:
    a = decode_event(
        '{"event_id":"e","type":"login","occurred_at":"2026-03-01T03:12:00Z","account_id":"a"}'
    )
    b = decode_event(
        '{"account_id":"a", "occurred_at":"2026-03-01T03:12:00Z","type":"login","event_id":"e"}'
    )
    assert a.payload_hash == b.payload_hash


def test_nul_in_identifiers_is_replaced_for_storage_but_kept_in_the_payload() -> None:
    raw = (
        b'{"event_id":"e\\u0000","type":"login","occurred_at":"2026-03-01T03:12:00Z",'
        b'"account_id":"a\\\\u0000"}'
    )
    event = decode_event(raw)
    assert event.event_id == "e\ufffd"
    assert event.account_id == "a\\u0000"  # a literal backslash-u, not a NUL
    assert b'"event_id":"e\\u0000"' in event.payload


def test_a_number_no_float_holds_is_refused_with_a_problem() -> None:
    """`1e400` is valid JSON but no float holds it: a problem at `$`, not a crash (which
    would stop a replay run at that line)."""
    line = (
        b'{"event_id": "e-1", "type": "login", "occurred_at": "2026-03-01T00:00:00Z",'
        b' "account_id": "alice", "metadata": {"x": 1e400}}'
    )
    with pytest.raises(InvalidInput) as raised:
        decode_event(line)
    assert raised.value.problems[0].path == "$"


def test_a_time_written_in_other_digits_is_refused() -> None:
    """RFC 3339's digits are ASCII: `٢٠٢٤-01-01T00:00:00Z` is not a time (a space between
    date and time is accepted, as RFC 3339 allows by agreement)."""
    moment = "\u0662\u0660\u0662\u0664-01-01T00:00:00Z"
    document = {"event_id": "e-1", "type": "login", "occurred_at": moment, "account_id": "a"}
    with pytest.raises(InvalidInput) as raised:
        decode_event(json.dumps(document).encode())
    assert raised.value.problems[0].path == "$.occurred_at"
