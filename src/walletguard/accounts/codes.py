"""Codes walletguard checks itself: one-time codes (SMS / e-mail) and TOTP.

Nothing a code could be recovered from is stored in clear:
- a one-time code is derived, never stored: HOTP (RFC 4226, via pyotp) keyed by
  HMAC-SHA256(installation secret `otp`, challenge id). The sender derives it to deliver
  it, the verifier derives it to check it; a copy of the database alone reveals nothing;
- a TOTP secret (RFC 6238) has to be kept to check codes, so it is sealed with
  AES-256-GCM under the installation secret `totp` (bound to the account id); a code's
  time step is remembered so a code is accepted once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from walletguard.kernel.errors import ConfigurationError

CODE_DIGITS = 6
TOTP_DRIFT_STEPS = 1
"""TOTP codes of the previous and next 30-second step are accepted (clock drift)."""


def _challenge_secret(key: bytes, challenge_id: str) -> str:
    raw = hmac.new(key, b"otp\n" + challenge_id.encode(), hashlib.sha256).digest()
    return base64.b32encode(raw).decode()


def one_time_code(key: bytes, challenge_id: str) -> str:
    """The code to send for a challenge (SMS / e-mail)."""
    return pyotp.HOTP(_challenge_secret(key, challenge_id), digits=CODE_DIGITS).at(0)


def check_one_time_code(key: bytes, challenge_id: str, code: str) -> bool:
    """Whether `code` is the challenge's code (compared in constant time)."""
    expected = one_time_code(key, challenge_id)
    return hmac.compare_digest(expected.encode(), code.strip().encode())


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    account_id: str
    sealed_secret: bytes
    """Nonce + AES-GCM ciphertext of the base32 secret."""
    enrolled_at: datetime
    last_step: int | None = None
    """The time step of the last accepted code (a code is accepted once)."""


class TotpRepository(Protocol):
    def get(self, account_id: str) -> TotpEnrolment | None: ...

    def save(self, enrolment: TotpEnrolment) -> None: ...


class SecretSealer:
    """AES-256-GCM with the installation's `totp` secret; the account id is bound in as
    associated data, so a sealed secret moved to another account does not open."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigurationError("the TOTP sealing key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, account_id: str, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), account_id.encode())

    def open(self, account_id: str, sealed: bytes) -> str:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], account_id.encode()).decode()
        except InvalidTag:
            raise ConfigurationError(
                f"the TOTP secret of {account_id} does not open with this installation's key"
            ) from None


def enrol_totp(
    sealer: SecretSealer, account_id: str, *, at: datetime, issuer: str = "walletguard"
) -> tuple[TotpEnrolment, str]:
    """A new enrolment and its provisioning URI (shown once, for the authenticator app)."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account_id, issuer_name=issuer)
    return TotpEnrolment(account_id, sealer.seal(account_id, secret), at), uri


def check_totp(
    sealer: SecretSealer, enrolment: TotpEnrolment, code: str, *, at: datetime
) -> int | None:
    """The time step `code` is valid for at `at` (±1 step), or None if it is wrong or was
    already used."""
    totp = pyotp.TOTP(sealer.open(enrolment.account_id, enrolment.sealed_secret))
    now_step = totp.timecode(at)
    given = code.strip().encode()
    for offset in range(-TOTP_DRIFT_STEPS, TOTP_DRIFT_STEPS + 1):
        step = now_step + offset
        if enrolment.last_step is not None and step <= enrolment.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step).encode(), given):
            return step
    return None
