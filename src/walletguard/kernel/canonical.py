"""Canonical JSON and hashing: the same value always gives the same bytes and digest."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec


def _encode_extra(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__} canonically")


_encoder = msgspec.json.Encoder(enc_hook=_encode_extra, order="sorted")


def canonical_json(value: Any) -> bytes:
    """Sorted-key, compact JSON; decimals as strings. Stable across runs and machines."""
    return _encoder.encode(value)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of `value`."""
    return sha256_hex(canonical_json(value))
