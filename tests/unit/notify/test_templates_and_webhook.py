"""Message texts in both languages, and webhook signatures with several active keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walletguard.kernel.errors import ConfigurationError
from walletguard.notify import webhook
from walletguard.notify.model import RetryPolicy
from walletguard.notify.settings import NotifySettings
from walletguard.notify.templates import language_of, render

PARAMS = {
    "event_id": "e-1",
    "event_type": "withdrawal",
    "decision": "review",
    "occurred_at": "2026-03-02T03:12:00+08:00",
    "amount": "5000.00",
    "currency": "CNY",
    "device": "Pixel 8",
    "country": "CN",
    "account_state": "restricted",
}


def test_english_says_what_when_where_and_how_to_freeze() -> None:
    message = render("account.restricted", PARAMS, language="en", freeze_url="https://f/x")
    assert message.subject == "Security notice: A withdrawal of 5000.00 CNY was made"
    assert "When: 2026-03-02 03:12 (UTC+08:00)" in message.body
    assert "Device: Pixel 8" in message.body
    assert "Where: CN" in message.body
    assert "holding it while our team checks it" in message.body
    assert "read-only" in message.body
    assert message.body.endswith("https://f/x")
    assert "https://f/x" in message.short


def test_chinese_for_chinese_accounts_english_otherwise() -> None:
    message = render("withdrawal.review", PARAMS, language="zh-CN", freeze_url="https://f/x")
    assert message.language == "zh"
    assert "发起了一笔 5000.00 CNY 的提现" in message.subject
    assert "时间：2026年03月02日 03:12 (UTC+08:00)" in message.body
    assert "立即一键冻结钱包：https://f/x" in message.body
    assert language_of("fr") == "en"
    assert language_of(None) == "en"
    assert language_of("zh_Hans") == "zh"


def test_missing_facts_are_said_to_be_unknown() -> None:
    message = render(
        "login.block", {"event_type": "login", "decision": "block"}, language="en", freeze_url="u"
    )
    assert "When: unknown" in message.body
    assert "Device: unknown" in message.body
    assert "We stopped it." in message.body


AT = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_webhook_verifies_with_any_active_key_and_nothing_else() -> None:
    body = b'{"a":1}'
    headers = webhook.sign(body, [("new", b"n" * 32), ("old", b"o" * 32)], at=AT)
    assert webhook.verify(headers, body, {"old": b"o" * 32}, now=AT) == "old"
    assert webhook.verify(headers, body, {"new": b"n" * 32}, now=AT) == "new"
    with pytest.raises(webhook.SignatureError, match="no key we know"):
        webhook.verify(headers, body, {"other": b"x" * 32}, now=AT)
    with pytest.raises(webhook.SignatureError, match="no signature verifies"):
        webhook.verify(headers, body, {"old": b"wrong" * 8}, now=AT)
    with pytest.raises(webhook.SignatureError, match="tolerance"):
        webhook.verify(headers, body, {"old": b"o" * 32}, now=AT + timedelta(minutes=6))
    with pytest.raises(webhook.SignatureError, match="missing"):
        webhook.verify({}, body, {"old": b"o" * 32}, now=AT)


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=3))
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 180, 180]


def test_settings_name_what_is_wrong() -> None:
    assert NotifySettings.from_env({}).push_url is None
    with pytest.raises(ConfigurationError, match=r"\{email\}"):
        NotifySettings.from_env({"WALLETGUARD_EMAIL_URL": "mailto://x"})
    with pytest.raises(ConfigurationError, match="key id"):
        NotifySettings.from_env({"WALLETGUARD_WEBHOOK_KEYS": "k1,bad key"})
    parsed = NotifySettings.from_env(
        {"WALLETGUARD_WEBHOOK_KEYS": "k2, k1", "WALLETGUARD_NOTIFY_MAX_ATTEMPTS": "2"}
    )
    assert parsed.webhook_keys == ("k2", "k1")
    assert parsed.retry.max_attempts == 2
