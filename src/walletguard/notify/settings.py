"""Notification configuration, from the environment.

- `WALLETGUARD_PUSH_URL`: the wallet push service's webhook URL (push is skipped without it)
- `WALLETGUARD_WEBHOOK_KEYS`: active webhook key ids, comma-separated (default `k1`); each
  key's secret is `webhook-<id>.key` in the key directory, created on first use
- `WALLETGUARD_EMAIL_URL`: Apprise URL for e-mail with `{email}` where the address goes
- `WALLETGUARD_SMS_URL`: Apprise URL for SMS with `{phone}` where the number goes
- `WALLETGUARD_FREEZE_URL`: base of the "not me? freeze now" link (the token is appended
  as `?token=`)
- `WALLETGUARD_NOTIFY_MAX_ATTEMPTS`, `WALLETGUARD_NOTIFY_BACKOFF_SECONDS`: retries
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from walletguard.kernel.errors import ConfigurationError
from walletguard.notify.model import RetryPolicy

DEFAULT_FREEZE_URL = "https://wallet.example.com/security/freeze"


@dataclass(frozen=True, slots=True)
class NotifySettings:
    push_url: str | None = None
    webhook_keys: tuple[str, ...] = ("k1",)
    email_url: str | None = None
    sms_url: str | None = None
    freeze_url: str = DEFAULT_FREEZE_URL
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifySettings:
        env = os.environ if env is None else env
        keys = tuple(
            k.strip() for k in env.get("WALLETGUARD_WEBHOOK_KEYS", "k1").split(",") if k.strip()
        )
        if not keys:
            raise ConfigurationError("WALLETGUARD_WEBHOOK_KEYS names no key")
        for kid in keys:
            if not kid.replace("-", "").replace("_", "").isalnum():
                raise ConfigurationError(f"webhook key id {kid!r}: use letters, digits, - and _")
        email = env.get("WALLETGUARD_EMAIL_URL") or None
        if email is not None and "{email}" not in email:
            raise ConfigurationError(
                "WALLETGUARD_EMAIL_URL must say where the address goes: {email}"
            )
        sms = env.get("WALLETGUARD_SMS_URL") or None
        if sms is not None and "{phone}" not in sms:
            raise ConfigurationError("WALLETGUARD_SMS_URL must say where the number goes: {phone}")
        try:
            attempts = int(env.get("WALLETGUARD_NOTIFY_MAX_ATTEMPTS", "6"))
            backoff = float(env.get("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "30"))
        except ValueError:
            raise ConfigurationError(
                "WALLETGUARD_NOTIFY_MAX_ATTEMPTS / _BACKOFF_SECONDS must be numbers"
            ) from None
        if attempts < 1 or backoff < 0:
            raise ConfigurationError("retries need at least one attempt and a backoff of 0 or more")
        return cls(
            push_url=env.get("WALLETGUARD_PUSH_URL") or None,
            webhook_keys=keys,
            email_url=email,
            sms_url=sms,
            freeze_url=env.get("WALLETGUARD_FREEZE_URL") or DEFAULT_FREEZE_URL,
            retry=RetryPolicy(max_attempts=attempts, base=timedelta(seconds=backoff)),
        )
