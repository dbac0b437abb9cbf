"""Signed checkpoints: an Ed25519 signature over the heads of every chain at one moment.

Whoever can write to the database can recompute every hash after an edit; they cannot
sign. A checkpoint fixes each chain's head (sequence and hash) under the installation's
`audit` key, so a rewritten chain no longer matches the heads its checkpoints name.
The signed message is the canonical JSON of `{"at", "heads", "key_id", "kind"}`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from walletguard.audit.chain import ChainHead
from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.kernel.errors import ConfigurationError

CHECKPOINT_SIGNED = "audit.checkpoint_signed"
"""The action of the audit record written with every checkpoint (subject `checkpoint:<id>`)."""
CHECKPOINT_SUBJECT = "checkpoint:"


def checkpoint_subject(checkpoint_id: int) -> str:
    return f"{CHECKPOINT_SUBJECT}{checkpoint_id}"


def checkpoint_named(subject: str) -> int | None:
    """The checkpoint id in a `checkpoint:<id>` subject, or None."""
    if not subject.startswith(CHECKPOINT_SUBJECT):
        return None
    rest = subject[len(CHECKPOINT_SUBJECT) :]
    return int(rest) if rest.isdigit() else None


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of SHA-256 of its bytes."""
    return sha256_hex(public_key.public_bytes_raw())[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (a private key's PEM gives its public half)."""
    try:
        if b"PRIVATE KEY" in pem:
            private = serialization.load_pem_private_key(pem, password=None)
            if isinstance(private, Ed25519PrivateKey):
                return private.public_key()
        else:
            loaded = serialization.load_pem_public_key(pem)
            if isinstance(loaded, Ed25519PublicKey):
                return loaded
    except ValueError:
        pass
    raise ConfigurationError("not an Ed25519 key in PEM form")


class TrustedKeys:
    """The public keys a verifier trusts, by key id (current and rotated-out keys)."""

    def __init__(self, keys: Iterable[Ed25519PublicKey] = ()) -> None:
        self.by_id = {key_id(k): k for k in keys}

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def verify(self, kid: str, signature: bytes, message: bytes) -> str | None:
        """None if `signature` is valid for `message` under trusted key `kid`, else why not."""
        key = self.by_id.get(kid)
        if key is None:
            return f"signed by key {kid}, which is not a trusted key"
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return f"the signature does not verify under key {kid}"
        return None


def heads_document(heads: Iterable[ChainHead]) -> dict[str, list[object]]:
    return {str(h.chain): [h.seq, h.hash] for h in sorted(heads, key=lambda h: h.chain)}


def heads_from_document(document: Mapping[str, list[object]]) -> list[ChainHead]:
    return [
        ChainHead(int(chain), int(str(value[0])), str(value[1]))
        for chain, value in document.items()
    ]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The heads of every chain at `at`, signed with the key named `key_id`."""

    at: datetime
    heads: tuple[ChainHead, ...]
    key_id: str
    signature: str
    """Base64 Ed25519 signature over `message()`."""
    id: int | None = None

    def message(self) -> bytes:
        return signed_message(self.at, self.heads, self.key_id)

    def check(self, trusted: TrustedKeys) -> str | None:
        """None if the signature is valid under a trusted key, else what is wrong."""
        try:
            raw = base64.b64decode(self.signature, validate=True)
        except ValueError:
            return "the signature is not base64"
        return trusted.verify(self.key_id, raw, self.message())


def signed_message(at: datetime, heads: Iterable[ChainHead], kid: str) -> bytes:
    return canonical_json(
        {
            "kind": "walletguard.audit.checkpoint.v1",
            "at": at.isoformat(),
            "heads": heads_document(heads),
            "key_id": kid,
        }
    )


def sign_checkpoint(
    key: Ed25519PrivateKey, heads: Iterable[ChainHead], *, at: datetime
) -> Checkpoint:
    """A checkpoint of `heads` signed with `key`."""
    ordered = tuple(sorted(heads, key=lambda h: h.chain))
    kid = key_id(key.public_key())
    signature = key.sign(signed_message(at, ordered, kid))
    return Checkpoint(at, ordered, kid, base64.b64encode(signature).decode())
