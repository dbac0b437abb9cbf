"""Notification configuration, from the environment.

- `WALLETGUARD_PUSH_URL`: the wallet push service's webhook URL (push is skipped without it)
- `WALLETGUARD_WEBHOOK_KEYS`: active webhook key ids, comma-separated (default `k1`); each
  key's secret is `webhook-<id>.key` in the key directory, created on first use
- `WALLETGUARD_EMAIL_URL`: Apprise URL for e-mail with `{email}` where the address goes
- `WALLETGUARD_SMS_URL`: Apprise URL for SMS with `{phone}` where the number goes
- `WALLETGUARD_FREEZE_URL`: base of the "not me? freeze now" link (the token is appended
  as `?token=`)
- `WALLETGUARD_NOTIFY_MAX_ATTEMPTS` (1-100), `WALLETGUARD_NOTIFY_BACKOFF_SECONDS` (0-3600,
  the first wait): retries
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from walletguard.kernel.errors import ConfigurationError
from walletguard.notify.model import RetryPolicy

DEFAULT_FREEZE_URL = "https://wallet.example.com/security/freeze"
N = TypeVar("N", int, float)
MAX_ATTEMPTS = 100
MAX_BACKOFF_SECONDS = RetryPolicy().cap.total_seconds()
"""A first wait longer than the cap would be cut to the cap anyway."""


def key_id_problem(kid: str) -> str | None:
    """What is wrong with a webhook key id, or None: it names the file `webhook-<id>.key` and
    is sent in a header, so it is 1-64 ASCII letters, digits, `-` and `_`."""
    plain = kid.replace("-", "").replace("_", "")
    if kid and len(kid) <= 64 and kid.isascii() and plain.isalnum():
        return None
    return f"webhook key id {kid!r}: use 1-64 ASCII letters, digits, - and _"


def _number(
    env: Mapping[str, str], name: str, default: str, parse: Callable[[str], N], low: N, high: N
) -> N:
    """The variable `name` as a number from `low` to `high` (so neither nan nor infinite)."""
    text = env.get(name, default)
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "whole number" if parse is int else "number"
        raise ConfigurationError(f"{name}={text!r}: give a {kind} from {low:g} to {high:g}")
    return value


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
            if problem := key_id_problem(kid):
                raise ConfigurationError(problem)
        email = env.get("WALLETGUARD_EMAIL_URL") or None
        if email is not None and "{email}" not in email:
            raise ConfigurationError(
                "WALLETGUARD_EMAIL_URL must say where the address goes: {email}"
            )
        sms = env.get("WALLETGUARD_SMS_URL") or None
        if sms is not None and "{phone}" not in sms:
            raise ConfigurationError("WALLETGUARD_SMS_URL must say where the number goes: {phone}")
        attempts = _number(env, "WALLETGUARD_NOTIFY_MAX_ATTEMPTS", "6", int, 1, MAX_ATTEMPTS)
        backoff = _number(
            env, "WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "30", float, 0.0, MAX_BACKOFF_SECONDS
        )
        return cls(
            push_url=env.get("WALLETGUARD_PUSH_URL") or None,
            webhook_keys=keys,
            email_url=email,
            sms_url=sms,
            freeze_url=env.get("WALLETGUARD_FREEZE_URL") or DEFAULT_FREEZE_URL,
            retry=RetryPolicy(max_attempts=attempts, base=timedelta(seconds=backoff)),
        )
