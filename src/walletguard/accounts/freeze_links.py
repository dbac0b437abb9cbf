"""Self-service freeze links: "not me? freeze now".

A token is `<payload>.<signature>` in URL-safe base64: the payload names the account,
a unique token id (for single use) and the expiry; the signature is HMAC-SHA256 with the
installation's `freeze_link` secret. Verifying is pure; single use is enforced where the
token is redeemed (the token id is stored when used).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import msgspec

from walletguard.kernel.errors import Refused

DEFAULT_TTL = timedelta(days=7)


class _Payload(msgspec.Struct, array_like=True):
    account_id: str
    token_id: str
    expires: int


@dataclass(frozen=True, slots=True)
class FreezeClaim:
    """What a valid token says."""

    account_id: str
    token_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_freeze_token(
    key: bytes,
    account_id: str,
    *,
    at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    token_id: str | None = None,
) -> str:
    """A signed token that freezes `account_id` when redeemed before `at + ttl`."""
    payload = _Payload(
        account_id, token_id or secrets.token_urlsafe(12), int((at + ttl).timestamp())
    )
    body = _b64(msgspec.msgpack.encode(payload))
    signature = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def token_of_link(link: str) -> str:
    """The token in what a person pasted: the whole link (`…/security?token=<t>`, as
    notifications carry it), a link ending in the token (`…/freeze/<t>`), or the token."""
    text = link.strip()
    found = parse_qs(urlsplit(text).query).get("token")
    if found:
        return found[-1].strip()
    return text.rsplit("/", 1)[-1]


def verify_freeze_token(key: bytes, token: str, *, at: datetime) -> FreezeClaim:
    """The claim in `token`, or `Refused` if it is forged, malformed or expired."""
    body, sep, signature = token.partition(".")
    if not sep:
        raise Refused("this freeze link is malformed", reason_code="FREEZE_LINK_INVALID")
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
    try:
        given = _unb64(signature)
        payload = msgspec.msgpack.decode(_unb64(body), type=_Payload)
    except (ValueError, msgspec.DecodeError):
        raise Refused("this freeze link is malformed", reason_code="FREEZE_LINK_INVALID") from None
    if not hmac.compare_digest(expected, given):
        raise Refused(
            "this freeze link was not issued by walletguard", reason_code="FREEZE_LINK_INVALID"
        )
    expires_at = datetime.fromtimestamp(payload.expires, UTC)
    if at >= expires_at:
        raise Refused("this freeze link has expired", reason_code="FREEZE_LINK_EXPIRED")
    return FreezeClaim(payload.account_id, payload.token_id, expires_at)
