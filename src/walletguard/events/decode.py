"""Turn a document (bytes, text or a parsed mapping) into a `WalletEvent`, or say what is wrong.

Fast path: msgspec decodes and checks the document against the wire structs.
Error path: the bundled JSON Schema is run over the document so that *every*
problem is reported with its field path, not only the first.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, overload

import jsonschema
import msgspec

from walletguard.events.model import EventType, WalletEvent
from walletguard.events.timeparse import TimestampError, parse_rfc3339
from walletguard.events.wire import WireEvent
from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import parse_amount

_EVENT_TYPES = {member.value: member for member in EventType}


@cache
def event_schema() -> dict[str, Any]:
    """The contract's JSON Schema for a v1 wallet event, as shipped in this package."""
    text = resources.files("walletguard.events").joinpath("schema/wallet-event.schema.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        event_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_problems(document: Any) -> list[FieldProblem]:
    """Every way `document` breaks the contract schema, each with its JSON path."""
    problems = []
    for error in sorted(_schema_validator().iter_errors(document), key=lambda e: list(e.path)):
        path = _json_path(error.absolute_path)
        if error.validator == "required":
            missing = [f for f in error.validator_value if f not in error.instance]
            problems += [FieldProblem(f"{path}.{f}", "required field is missing") for f in missing]
            continue
        problems.append(FieldProblem(path, error.message))
    return list(dict.fromkeys(problems))


def _problem_from_msgspec(error: msgspec.ValidationError) -> FieldProblem:
    message, sep, where = str(error).partition(" - at `")
    path = where.rstrip("`") if sep else "$"
    if message.startswith("Object missing required field `"):
        field = message.split("`")[1]
        return FieldProblem(f"{path}.{field}", "required field is missing")
    return FieldProblem(path, message)


_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


@overload
def _without_nul(document: bytes) -> bytes: ...
@overload
def _without_nul(document: Any) -> Any: ...
def _without_nul(document: Any) -> Any:
    """The document with every NUL character in a string replaced by U+FFFD.

    PostgreSQL text cannot hold NUL, so the typed fields (identifiers stored in columns)
    carry U+FFFD instead; the stored payload is JSON, where NUL stays the escape sequence
    it arrived as."""
    if isinstance(document, bytes):
        return _ESCAPED_NUL.sub(rb"\1\\ufffd", document)
    if isinstance(document, str):
        return document.replace("\x00", "\ufffd")
    if isinstance(document, dict):
        return {_without_nul(k): _without_nul(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_without_nul(v) for v in document]
    return document


_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def _repeated_key(raw: bytes, canonical: bytes) -> str | None:
    """What is wrong if some object in `raw` names a key twice, else None.

    A decoder keeps one of the two values and another program may keep the other (the
    amount the wallet pays is not the amount walletguard judged), so such a document is
    refused. Cheap first: the parsed document re-encoded (`canonical`) has as many key
    ends as `raw` unless a key was dropped; only documents where the counts may differ
    for other reasons (escapes, spaced colons) are parsed again to find the key."""
    spaced = b'" ' in raw or b'"\t' in raw or b'"\n' in raw or b'"\r' in raw
    ends = len(_KEY_END.findall(raw)) if spaced else raw.count(b'":')
    if ends == canonical.count(b'":') and b"\\u" not in raw:
        return None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except _Repeated as exc:
        return f"the key {exc.args[0]!r} appears twice in one object"
    return None


class _Repeated(Exception):
    pass


class EventDecoder:
    """Decodes and normalises wallet events. Reusable and thread-safe."""

    def __init__(self) -> None:
        self._typed = msgspec.json.Decoder(WireEvent)
        self._untyped = msgspec.json.Decoder()

    def decode(self, document: bytes | str | dict[str, Any]) -> WalletEvent:
        """Validate and normalise one event document.

        Raises `InvalidInput` naming each field path that is wrong; nothing about
        an invalid document is kept.
        """
        parsed: dict[str, Any] | None = None
        try:
            if isinstance(document, dict):
                parsed = document
                wire = msgspec.convert(_without_nul(document), WireEvent)
                payload = canonical_json(parsed)
            else:
                raw = document.encode() if isinstance(document, str) else document
                parsed = self._untyped.decode(raw)
                payload = canonical_json(parsed)
                if repeated := _repeated_key(raw, payload):
                    raise InvalidInput([FieldProblem("$", repeated)])
                wire = self._typed.decode(_without_nul(raw) if b"\\u0000" in raw else raw)
        except msgspec.ValidationError as exc:
            if parsed is None:  # the untyped decode: a number no float holds (1e400)
                raise InvalidInput([FieldProblem("$", str(exc))]) from None
            problems = schema_problems(parsed) or [_problem_from_msgspec(exc)]
            raise InvalidInput(problems) from None
        except msgspec.DecodeError as exc:
            raise InvalidInput([FieldProblem("$", f"not valid JSON: {exc}")]) from None
        except RecursionError:
            # msgspec stops at about a thousand levels of nested objects and arrays
            raise InvalidInput([FieldProblem("$", "nested too deeply to be decoded")]) from None
        return _normalise(wire, payload)


def unmapped(ip: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    """An IPv4 client written as IPv6 (`::ffff:1.2.3.4`) is that IPv4 address, for its
    country, its lists and its /24."""
    return ip.ipv4_mapped or ip if isinstance(ip, IPv6Address) else ip


def client_time(event: WalletEvent) -> datetime:
    """When `event` happened on the client's own clock (the offset it sent), for what the
    user reads; `occurred_at` is the same moment in UTC."""
    try:
        return parse_rfc3339(msgspec.json.decode(event.payload)["occurred_at"])
    except (TimestampError, msgspec.DecodeError, KeyError, TypeError):
        return event.occurred_at


def _normalise(wire: WireEvent, payload: bytes) -> WalletEvent:
    try:
        moment = parse_rfc3339(wire.occurred_at)
    except TimestampError as exc:
        raise InvalidInput([FieldProblem("$.occurred_at", str(exc))]) from None
    try:
        occurred_at = moment.astimezone(UTC)
    except OverflowError:
        occurred_at = (
            datetime.min.replace(tzinfo=UTC)
            if moment.year < 2
            else datetime.max.replace(tzinfo=UTC)
        )
    ip_text = wire.network.ip if wire.network is not None else None
    ip = None
    if ip_text is not None:
        try:
            ip = unmapped(ip_address(ip_text))
        except ValueError:
            ip = None
    return WalletEvent(
        event_id=wire.event_id,
        type=_EVENT_TYPES[wire.type],
        occurred_at=occurred_at,
        ts=occurred_at.timestamp(),
        local_hour=moment.hour,
        account_id=wire.account_id,
        session_id=wire.session_id,
        channel=wire.channel,
        amount=parse_amount(wire.amount) if wire.amount is not None else None,
        currency=wire.currency,
        device=wire.device,
        ip=ip,
        ip_text=ip_text,
        user_agent=wire.network.user_agent if wire.network is not None else None,
        geo=wire.geo,
        auth=wire.auth,
        counterparty=wire.counterparty,
        binding=wire.binding,
        topup=wire.topup,
        profile=wire.profile,
        step_up=wire.step_up,
        ref_event_id=wire.ref_event_id,
        metadata=wire.metadata,
        payload=payload,
        payload_hash=sha256_hex(payload),
    )


_default_decoder = EventDecoder()


def decode_event(document: bytes | str | dict[str, Any]) -> WalletEvent:
    """Validate and normalise one event with a shared decoder (see `EventDecoder.decode`)."""
    return _default_decoder.decode(document)
