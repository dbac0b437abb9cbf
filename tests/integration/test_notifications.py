"""Notifications delivered for real: a signed webhook to a local HTTP receiver, e-mail to a
local SMTP server and SMS to a local gateway through Apprise; retries, final failure as an
alert, no message twice, none lost when a dispatcher dies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from urllib.parse import parse_qs, urlparse

import pytest

from tests.integration.receivers import HttpReceiver, Mailbox, http_receiver, smtp_server
from tests.support import EventFactory, Harness
from walletguard.accounts.freeze_links import verify_freeze_token
from walletguard.composition import build_dispatcher, key_store, set_contacts, unit_of_work
from walletguard.kernel.errors import InvalidInput
from walletguard.notify import webhook
from walletguard.notify.dispatcher import Dispatcher
from walletguard.notify.model import Contacts, DeliveryStatus, RetryPolicy
from walletguard.notify.settings import NotifySettings
from walletguard.storage.uow import SqlUnitOfWork


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receivers() -> Iterator[tuple[Mailbox, int, HttpReceiver]]:
    with smtp_server() as (mailbox, port), http_receiver() as http:
        yield mailbox, port, http


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    harness = Harness(db_url, exclusive=False)
    yield harness
    harness.close()


def settings(smtp_port: int, http: HttpReceiver, **changes: object) -> NotifySettings:
    base = NotifySettings(
        push_url=http.url("/push"),
        webhook_keys=("k2", "k1"),
        email_url=f"mailto://127.0.0.1:{smtp_port}?from=alerts@wallet.test&to={{email}}&mode=insecure",
        sms_url=f"json://127.0.0.1:{http.port}/sms?:to={{phone}}",
        freeze_url="https://wallet.test/freeze",
        retry=RetryPolicy(max_attempts=3, base=timedelta(seconds=30)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def dispatcher(h: Harness, s: NotifySettings, clock: Clock, worker: str = "d1") -> Dispatcher:
    return build_dispatcher(h.runtime.database, s, clock=clock, worker=worker)


def customer(h: Harness, events: EventFactory, account: str, language: str = "en") -> None:
    """An account whose card binding sends one notification, with its contacts set."""
    h.decide_all(events.funded(account, "100.00"))
    uow = SqlUnitOfWork(h.runtime.database)
    try:
        state = uow.accounts.get(account)
        assert state is not None
        uow.accounts.save(replace(state, language=language))
        uow.commit()
    finally:
        uow.close()
    set_contacts(
        h.runtime.database.url,
        account,
        email=f"{account}@example.com",
        phone="+8613800000000",
        actor="test",
        at=events.now,
    )


def subject_of(message: object) -> str:
    return str(make_header(decode_header(message["Subject"])))  # type: ignore[index]


def body_of(message: object) -> str:
    for part in message.walk():  # type: ignore[attr-defined]
        if part.get_content_type() == "text/plain":
            return str(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
    raise AssertionError("no text part")


def test_every_channel_delivers_once_with_what_happened_and_the_freeze_link(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    mailbox, smtp_port, http = receivers
    customer(h, events, "alice", language="zh")
    customer(h, events, "bob", language="en")
    clock = Clock()
    d = dispatcher(h, settings(smtp_port, http), clock)
    summary = d.dispatch_once()
    assert (summary.claimed, summary.sent) == (2, 2)

    # e-mail, in each account's language
    assert sorted(r[0] for r in mailbox.recipients) == ["alice@example.com", "bob@example.com"]
    by_to = {m["To"]: m for m in mailbox.messages}
    zh = body_of(by_to["alice@example.com"])
    en = body_of(by_to["bob@example.com"])
    assert "绑定了新的银行卡" in subject_of(by_to["alice@example.com"])
    assert "时间：2026年03月02日" in zh
    assert "(UTC+08:00)" in zh  # the time on the customer's own clock, not in UTC
    assert "(UTC+08:00)" in en
    assert "设备：Mi 13" in zh
    assert "地点：CN" in zh
    assert "不是您本人操作" in zh
    assert "A bank card or account was linked" in en
    assert "Device: Mi 13" in en
    assert "Where: CN" in en
    assert "Not you? Freeze your wallet now" in en
    assert by_to["bob@example.com"]["X-Walletguard-Dedupe"].endswith(":email")

    # the freeze link is a valid token for that account
    link = next(w for w in en.split() if w.startswith("https://wallet.test/freeze"))
    token = parse_qs(urlparse(link).query)["token"][0]
    claim = verify_freeze_token(key_store().secret("freeze_link"), token, at=clock.now)
    assert claim.account_id == "bob"

    # the push webhook, signed: the receiver verifies it with either active key
    pushes = http.to("/push")
    assert len(pushes) == 2
    k1 = key_store().secret("webhook-k1")
    k2 = key_store().secret("webhook-k2")
    for push in pushes:
        assert webhook.verify(push.headers, push.body, {"k1": k1}, now=clock.now) == "k1"
        assert webhook.verify(push.headers, push.body, {"k2": k2}, now=clock.now) == "k2"
        with pytest.raises(webhook.SignatureError):
            webhook.verify(push.headers, push.body + b" ", {"k1": k1}, now=clock.now)
        with pytest.raises(webhook.SignatureError):
            webhook.verify(push.headers, push.body, {"k1": k1}, now=clock.now + timedelta(hours=1))
        assert push.headers["Idempotency-Key"].endswith(":push")
    assert {p.json()["language"] for p in pushes} == {"zh", "en"}

    # SMS through the gateway: the short text
    sms = http.to("/sms")
    assert len(sms) == 2
    assert {s.json()["to"] for s in sms} == {"+8613800000000"}
    assert any("Freeze now" in s.json()["message"] for s in sms)

    # nothing goes out twice
    assert d.dispatch_once().claimed == 0
    assert len(mailbox.messages) == 2
    assert len(http.to("/push")) == 2
    uow = SqlUnitOfWork(h.runtime.database)
    try:
        [entry, _] = uow.outbox.find(account_id=None, limit=10)
        assert entry.status is DeliveryStatus.SENT
        assert {c: x.status for c, x in entry.deliveries.items()} == {
            "push": DeliveryStatus.SENT,
            "email": DeliveryStatus.SENT,
            "sms": DeliveryStatus.SENT,
        }
    finally:
        uow.close()


def test_failures_are_retried_with_backoff_then_raise_an_alert(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    mailbox, smtp_port, http = receivers
    customer(h, events, "alice")
    http.fail_paths.add("/push")
    clock = Clock()
    d = dispatcher(h, settings(smtp_port, http), clock)
    first = d.dispatch_once()
    assert first.retrying == 1
    assert d.dispatch_once().claimed == 0  # not due yet: backoff
    clock.now += timedelta(seconds=31)
    assert d.dispatch_once().retrying == 1
    clock.now += timedelta(seconds=59)
    assert d.dispatch_once().claimed == 0  # the second wait is twice as long
    clock.now += timedelta(seconds=2)
    assert d.dispatch_once().failed == 1
    assert len(http.to("/push")) == 3
    assert len(mailbox.messages) == 1  # e-mail went out once, on the first attempt
    uow = SqlUnitOfWork(h.runtime.database)
    try:
        [entry] = uow.outbox.find(account_id="alice")
        assert entry.status is DeliveryStatus.FAILED
        assert entry.deliveries["push"].attempts == 3
        assert "500" in (entry.deliveries["push"].last_error or "")
        case = uow.cases.open_case_for("alice")
        assert case is not None
        assert [a.kind.value for a in uow.cases.alerts_of(case.id)] == ["notification_failed"]
    finally:
        uow.close()


def test_concurrent_dispatchers_send_each_message_once(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    for i in range(8):
        h.decide_all(events.funded(f"user{i}", "10.00"))
    clock = Clock()
    s = settings(smtp_port, http, email_url=None, sms_url=None)
    workers = [dispatcher(h, s, clock, worker=f"d{n}") for n in range(3)]
    threads = [threading.Thread(target=w.dispatch_once, kwargs={"limit": 3}) for w in workers]
    for _ in range(2):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        threads = [threading.Thread(target=w.dispatch_once, kwargs={"limit": 3}) for w in workers]
    keys = [p.headers["Idempotency-Key"] for p in http.to("/push")]
    assert len(keys) == 8
    assert len(set(keys)) == 8


def test_a_dead_dispatchers_claim_expires_and_nothing_is_lost(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    customer(h, events, "alice")
    clock = Clock()
    s = settings(smtp_port, http, email_url=None, sms_url=None)
    dead = dispatcher(h, s, clock, worker="dead")
    assert len(dead.claim(10)) == 1  # ...and then it dies before delivering
    other = dispatcher(h, s, clock, worker="other")
    assert other.dispatch_once().claimed == 0  # the claim is still held
    clock.now += s.retry.lease + timedelta(seconds=1)
    assert other.dispatch_once().sent == 1
    assert len(http.to("/push")) == 1


def test_without_an_address_a_channel_is_skipped(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    mailbox, smtp_port, http = receivers
    h.decide_all(events.funded("nocontact", "10.00"))
    d = dispatcher(h, settings(smtp_port, http), Clock())
    assert d.dispatch_once().sent == 1
    assert not mailbox.messages
    assert not http.to("/sms")
    assert len(http.to("/push")) == 1
    uow = SqlUnitOfWork(h.runtime.database)
    try:
        [entry] = uow.outbox.find(account_id="nocontact")
        assert entry.deliveries["email"].status is DeliveryStatus.SKIPPED
        assert entry.deliveries["email"].last_error == "no address for this user"
    finally:
        uow.close()


def test_changing_one_contact_keeps_the_other(h: Harness) -> None:
    url = h.runtime.database.url

    def change(**contacts: str | None) -> Contacts:
        given = {"email": None, "phone": None, **contacts}
        return set_contacts(url, "carol", **given, actor="test", at=datetime.now(UTC))

    assert change(email="carol@example.com", phone="+8613800000000") == Contacts(
        "carol@example.com", "+8613800000000"
    )
    assert change(phone="+8613900000000") == Contacts("carol@example.com", "+8613900000000")
    assert change(email="") == Contacts(None, "+8613900000000")  # '' removes
    with pytest.raises(InvalidInput):
        change()  # nothing to change is a mistake, not a wipe
    with pytest.raises(InvalidInput):
        change(email="not-an-address")
    with unit_of_work(url) as uow:
        assert uow.outbox.contacts("carol") == Contacts(None, "+8613900000000")
