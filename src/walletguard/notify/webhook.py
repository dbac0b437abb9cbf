"""Signed webhooks to the wallet's push service.

Each request carries
    X-Walletguard-Timestamp: <unix seconds>
    X-Walletguard-Signature: <key id>=<hex HMAC-SHA256>[, <key id>=<hex>...]
    Idempotency-Key: <notification dedupe key>:push
where each HMAC is over `<timestamp>.<body>` with one active key. During a rotation
several keys are active, so the receiver accepts the request with whichever key it
knows; a timestamp outside the tolerance is refused (replays).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

TIMESTAMP_HEADER = "X-Walletguard-Timestamp"
SIGNATURE_HEADER = "X-Walletguard-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """A webhook request whose signature does not verify (says why)."""


def _mac(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(body: bytes, keys: Sequence[tuple[str, bytes]], *, at: datetime) -> dict[str, str]:
    """The signature headers for `body`, signed with every active key `(key id, secret)`."""
    if not keys:
        raise ValueError("a webhook needs at least one active signing key")
    timestamp = str(int(at.timestamp()))
    signatures = ", ".join(f"{kid}={_mac(secret, timestamp, body)}" for kid, secret in keys)
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signatures}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, bytes],
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a received webhook; returns the id of the key that verified it, or raises
    `SignatureError`. `keys` are the receiver's known secrets by key id."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(TIMESTAMP_HEADER.lower())
    header = lower.get(SIGNATURE_HEADER.lower())
    if not timestamp or not header:
        raise SignatureError("missing timestamp or signature header")
    try:
        sent = int(timestamp)
    except ValueError:
        raise SignatureError("the timestamp is not a number") from None
    if abs(now.timestamp() - sent) > tolerance_seconds:
        raise SignatureError("the timestamp is outside the tolerance (replayed or clock skew)")
    known = False
    for part in header.split(","):
        kid, _, given = part.strip().partition("=")
        secret = keys.get(kid)
        if secret is None:
            continue
        known = True
        # compare_digest refuses a str that is not ASCII (TypeError): compare bytes
        given_bytes = given.encode("utf-8", "surrogatepass")
        if hmac.compare_digest(_mac(secret, timestamp, body).encode(), given_bytes):
            return kid
    raise SignatureError("no signature verifies" if known else "signed with no key we know")
