"""Message texts in both languages, and webhook signatures with several active keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walletguard.kernel.errors import ConfigurationError
from walletguard.notify import webhook
from walletguard.notify.model import RetryPolicy
from walletguard.notify.settings import NotifySettings, key_id_problem
from walletguard.notify.templates import _texts, language_of, render

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
    assert message.subject == "Security notice: A withdrawal of 5000.00 CNY was started"
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


def _blocked(event_type: str, language: str = "en", **params: str) -> str:
    facts = {**PARAMS, "event_type": event_type, "decision": "block", **params}
    return render(f"{event_type}.block", facts, language=language, freeze_url="u").body


def test_a_blocked_withdrawal_is_said_to_be_started_not_made() -> None:
    body = _blocked("withdrawal", amount="1190.00")
    assert body.startswith("A withdrawal of 1190.00 CNY was started.")
    assert "We stopped it." in body
    assert "发起了一笔 1190.00 CNY 的提现" in _blocked("withdrawal", "zh", amount="1190.00")


def test_a_rejected_top_up_confirmation_is_not_said_to_be_confirmed() -> None:
    body = _blocked("topup_confirmation")
    assert "confirmed" not in body
    assert body.startswith("A confirmation for a top-up arrived.")
    assert "已确认" not in _blocked("topup_confirmation", "zh")


STOPPABLE = (
    "login",
    "password_change",
    "device_bind",
    "device_unbind",
    "account_bind",
    "account_unbind",
    "topup_confirmation",
    "transfer",
    "payment",
    "withdrawal",
)
"""Operations a decision can stop: their phrase must not say they were done."""
ATTEMPTED = {
    "en": ("asked to", "tried to", "was started", "arrived"),
    "zh": ("申请", "尝试", "发起了", "收到"),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("event_type", STOPPABLE)
def test_an_operation_a_decision_can_stop_is_told_as_attempted(
    language: str, event_type: str
) -> None:
    phrase = _texts()[language]["events"][event_type]
    assert any(word in phrase for word in ATTEMPTED[language]), phrase


def test_a_signature_header_that_is_not_ascii_does_not_verify() -> None:
    body = b"{}"
    headers = webhook.sign(body, [("k1", b"k" * 32)], at=AT)
    for given in ("k1=\u00e9", "k1=\udc80", "k1=\ud800", "k1=" + "\u00e9" * 64):
        forged = {**headers, webhook.SIGNATURE_HEADER: given}
        with pytest.raises(webhook.SignatureError, match="no signature verifies"):
            webhook.verify(forged, body, {"k1": b"k" * 32}, now=AT)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "inf"),
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "nan"),
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "-inf"),
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "1e300"),
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "-1"),
        ("WALLETGUARD_NOTIFY_BACKOFF_SECONDS", "thirty"),
        ("WALLETGUARD_NOTIFY_MAX_ATTEMPTS", "0"),
        ("WALLETGUARD_NOTIFY_MAX_ATTEMPTS", "1000000000000"),
        ("WALLETGUARD_NOTIFY_MAX_ATTEMPTS", "2.5"),
    ],
)
def test_retry_settings_out_of_range_are_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        NotifySettings.from_env({variable: value})


def test_retry_settings_at_their_limits_work() -> None:
    parsed = NotifySettings.from_env(
        {"WALLETGUARD_NOTIFY_BACKOFF_SECONDS": "0.5", "WALLETGUARD_NOTIFY_MAX_ATTEMPTS": "100"}
    )
    assert parsed.retry.base == timedelta(seconds=0.5)
    assert parsed.retry.delay(100) == parsed.retry.cap  # no overflow on the last attempt


@pytest.mark.parametrize("kid", ["", "a/b", "x/../../../escaped", "x y!", "..", "é1", "k" * 65])
def test_webhook_key_ids_are_plain_names(kid: str) -> None:
    assert key_id_problem(kid) is not None
    with pytest.raises(ConfigurationError, match="key id" if kid else "names no key"):
        NotifySettings.from_env({"WALLETGUARD_WEBHOOK_KEYS": f"k1,{kid}" if kid else ","})
