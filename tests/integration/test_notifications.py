"""Notifications delivered for real: a signed webhook to a local HTTP receiver, e-mail to a
local SMTP server and SMS to a local gateway through Apprise; retries, final failure as an
alert, no message twice, none lost when a dispatcher dies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.integration.receivers import HttpReceiver, Mailbox, http_receiver, smtp_server
from tests.support import EventFactory, Harness
from walletguard.accounts.freeze_links import verify_freeze_token
from walletguard.composition import build_dispatcher, key_store, set_contacts, unit_of_work
from walletguard.kernel.errors import InvalidInput, NotFound
from walletguard.notify import webhook
from walletguard.notify.dispatcher import Dispatcher, DispatchSummary
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
    assert "绑定新的银行卡" in subject_of(by_to["alice@example.com"])
    assert "时间：2026年03月02日" in zh
    assert "(UTC+08:00)" in zh  # the time on the customer's own clock, not in UTC
    assert "(UTC+08:00)" in en
    assert "设备：Mi 13" in zh
    assert "地点：CN" in zh
    assert "不是您本人操作" in zh
    assert "Someone asked to link a bank card or account" in en
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


def test_changing_one_contact_keeps_the_other(h: Harness, events: EventFactory) -> None:
    url = h.runtime.database.url
    h.decide(events.register("carol"))

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


EVIL_MODEL = "<a href=https://evil.example>Tap to unfreeze</a>"


def test_email_is_plain_text_client_markup_stays_text_and_lines_are_kept(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    mailbox, smtp_port, http = receivers
    h.decide(events.register("mallory"))
    events.advance(minutes=5)
    device = {"id": "phone-mallory", "os": "android", "model": EVIL_MODEL}
    h.decide(events.bind("mallory", device=device))
    set_contacts(
        h.runtime.database.url,
        "mallory",
        email="mallory@example.com",
        phone=None,
        actor="test",
        at=events.now,
    )
    d = dispatcher(h, settings(smtp_port, http, sms_url=None, push_url=None), Clock())
    assert d.dispatch_once().sent == 1
    [message] = mailbox.messages
    types = [part.get_content_type() for part in message.walk()]
    assert "text/html" not in types  # nothing a mail client would render as markup
    lines = body_of(message).splitlines()
    assert lines[0].startswith("Someone asked to link a bank card")
    assert f"Device: {EVIL_MODEL}" in lines  # shown as the text it is, on its own line
    assert lines[-1].startswith("Not you? Freeze your wallet now with one tap: https://")


class SlowPush:
    """A real HTTP push service that takes `delay` seconds to answer and may run `on_push`
    (with the request's Idempotency-Key) before it answers."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.keys: list[str] = []
        self.on_push: Callable[[], None] | None = None
        self.lock = threading.Lock()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/push"

    @contextmanager
    def running(self) -> Iterator[SlowPush]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.keys.append(self.headers["Idempotency-Key"])
                time.sleep(receiver.delay)
                if receiver.on_push is not None:
                    receiver.on_push()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def test_a_dispatcher_whose_claim_was_taken_over_sends_nothing_more(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    customer(h, events, "alice")
    clock = Clock()
    with SlowPush().running() as push:
        s = settings(smtp_port, http, push_url=push.url(), email_url=None)
        slow = dispatcher(h, s, clock, worker="slow")
        other = dispatcher(h, s, clock, worker="other")

        def stall_past_the_lease() -> None:
            clock.now += s.retry.lease + timedelta(seconds=1)
            assert len(other.claim(10)) == 1  # the lease ran out: another dispatcher takes it

        push.on_push = stall_past_the_lease
        summary = slow.dispatch_once()
    assert (summary.claimed, summary.sent, summary.lost_claims) == (1, 0, 1)
    assert not http.to("/sms")  # the old dispatcher did not go on with the next channel


def test_two_dispatchers_and_a_slow_push_service_send_each_message_once(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    for i in range(4):
        h.decide_all(events.funded(f"user{i}", "10.00"))
    with SlowPush(delay=0.4).running() as push:
        s = settings(smtp_port, http, push_url=push.url(), email_url=None, sms_url=None)
        s = replace(s, retry=replace(s.retry, lease=timedelta(seconds=1)))
        # real time: the lease really runs out while the first dispatcher is busy
        first = build_dispatcher(h.runtime.database, s, worker="first")
        second = build_dispatcher(h.runtime.database, s, worker="second")
        results: list[DispatchSummary] = []
        worker = threading.Thread(target=lambda: results.append(first.dispatch_once(limit=10)))
        worker.start()
        time.sleep(1.1)
        while worker.is_alive():
            results.append(second.dispatch_once(limit=10))
        worker.join()
    assert sorted(push.keys) == sorted(set(push.keys))  # no message pushed twice
    assert len(push.keys) == 4
    assert sum(r.sent for r in results) == 4


def test_skipped_messages_are_not_counted_as_sent(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    customer(h, events, "alice")
    customer(h, events, "bob")
    none = settings(smtp_port, http, push_url=None, email_url=None, sms_url=None)
    summary = dispatcher(h, none, Clock()).dispatch_once()
    assert (summary.claimed, summary.sent, summary.skipped) == (2, 0, 2)


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("@", None),
        ("carol@", None),
        ("carol@localhost", None),
        ("carol smith@example.com", None),
        ("carol@example.com\n", None),
        (None, "+\u00b2\u00b3"),  # superscript digits pass str.isdigit
        (None, "+\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"),  # Arabic-Indic
        (None, "+1234567"),  # too short for E.164
        (None, "+1234567890123456"),  # too long
        (None, "8613800000000"),
    ],
)
def test_contacts_that_are_not_addresses_are_refused(
    h: Harness, events: EventFactory, email: str | None, phone: str | None
) -> None:
    h.decide(events.register("carol"))
    with pytest.raises(InvalidInput):
        set_contacts(
            h.runtime.database.url, "carol", email=email, phone=phone, actor="t", at=events.now
        )
    with unit_of_work(h.runtime.database.url) as uow:
        assert uow.outbox.contacts("carol") == Contacts()


def test_contacts_of_an_account_never_seen_are_refused(h: Harness, events: EventFactory) -> None:
    url = h.runtime.database.url
    with pytest.raises(NotFound, match="no account ghost: walletguard has never seen an event"):
        set_contacts(url, "ghost", email="g@example.com", phone=None, actor="t", at=events.now)
    with unit_of_work(url) as uow:
        assert uow.outbox.contacts("ghost") == Contacts()


def test_without_backoff_a_failing_entry_is_tried_once_per_pass_and_not_left_claimed(
    h: Harness, events: EventFactory, receivers: tuple[Mailbox, int, HttpReceiver]
) -> None:
    _, smtp_port, http = receivers
    customer(h, events, "alice")
    http.fail_paths.add("/push")
    s = settings(smtp_port, http, email_url=None, sms_url=None)
    s = replace(s, retry=replace(s.retry, base=timedelta(0)))
    d = dispatcher(h, s, Clock())
    assert (d.dispatch_once().retrying, len(http.to("/push"))) == (1, 1)
    assert (d.dispatch_once().retrying, len(http.to("/push"))) == (1, 2)  # claim released
