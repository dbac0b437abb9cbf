"""`walletguard notify`: deliver the outbox, see what was sent, set where users get it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cli.common import ActorOption, DbOption, err, failing_cleanly, markup, out, plain
from walletguard.composition import dispatcher_for, key_store, set_contacts, unit_of_work
from walletguard.notify.dispatcher import DispatchSummary
from walletguard.notify.model import DeliveryStatus
from walletguard.notify.settings import NotifySettings, key_id_problem

app = typer.Typer(help="User notifications: outbox, channels, delivery.", no_args_is_help=True)


def _print_pass(summary: DispatchSummary) -> None:
    channels = ", ".join(
        f"{name} " + "/".join(f"{k} {v}" for k, v in sorted(counts.items()))
        for name, counts in sorted(summary.by_channel.items())
    )
    err.print(
        f"claimed {summary.claimed}: sent {summary.sent}, skipped {summary.skipped}, "
        f"retrying {summary.retrying}, failed {summary.failed}, "
        f"lost claims {summary.lost_claims}" + (f" ({channels})" if channels else "")
    )


def _key_id(value: str) -> str:
    if problem := key_id_problem(value):
        raise typer.BadParameter(problem)
    return value


@app.command("dispatch")
def dispatch(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.", min=0.1)] = 5.0,
    limit: Annotated[int, typer.Option(help="Entries claimed per pass.", min=1)] = 100,
) -> None:
    """Deliver due notifications (push webhook, e-mail, SMS), retrying with backoff.
    Several dispatchers may run at once; each message goes out once per channel."""
    with failing_cleanly():
        settings = NotifySettings.from_env()
        dispatcher, database = dispatcher_for(db, settings)
    if not dispatcher.channels:
        err.print(
            "[yellow]no channel is configured[/]: every message will be marked skipped "
            "(set WALLETGUARD_PUSH_URL, _EMAIL_URL or _SMS_URL)"
        )
    try:
        while True:
            with failing_cleanly():
                summary = dispatcher.dispatch_once(limit)
            if summary.claimed or once:
                _print_pass(summary)
            if once:
                break
            if summary.claimed < limit:
                time.sleep(interval)
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        database.dispose()


@app.command("list")
def list_notifications(
    db: DbOption = None,
    account: Annotated[str | None, typer.Option(help="Only this account's messages.")] = None,
    status: Annotated[
        DeliveryStatus | None, typer.Option(help="Only messages in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Notifications, newest first, with their delivery status per channel."""
    with failing_cleanly(), unit_of_work(db) as uow:
        entries = uow.outbox.find(
            account_id=account, status=status.value if status else None, limit=limit
        )
    table = Table(title="notifications", title_justify="left")
    for column in ("id", "account", "message", "created", "status", "tries", "channels", "error"):
        table.add_column(column)
    colours = {"sent": "green", "failed": "red", "skipped": "dim", "pending": "yellow"}
    for e in entries:
        channels = plain(" ").join(
            plain(f"{d.channel}:{d.status.value}", style=colours.get(d.status.value, "white"))
            for d in e.deliveries.values()
        ) or plain(", ".join(e.notification.channels))
        table.add_row(
            str(e.id),
            plain(e.notification.account_id),
            plain(e.notification.template),
            f"{e.notification.created_at:%m-%d %H:%M}",
            e.status.value,
            str(e.attempts),
            channels,
            plain(e.last_error or ""),
        )
    out.print(table)


@app.command("contact")
def contact(
    account: Annotated[str, typer.Argument(help="The account.")],
    email: Annotated[str | None, typer.Option(help="Where e-mail goes ('' removes it).")] = None,
    phone: Annotated[
        str | None,
        typer.Option(help="Where SMS goes (E.164, e.g. +8613800000000; '' removes it)."),
    ] = None,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Set where a user gets e-mail and SMS (push goes through the wallet's own service); a
    channel not given stays as it was."""
    with failing_cleanly():
        now_set = set_contacts(
            db, account, email=email, phone=phone, actor=actor, at=datetime.now(UTC)
        )
    out.print(
        markup(
            "{}: e-mail {}, SMS {}",
            account,
            "set" if now_set.email else "none",
            "set" if now_set.phone else "none",
        )
    )


@app.command("webhook-key")
def webhook_key(
    key_id: Annotated[str, typer.Argument(help="The key id, e.g. k1.", callback=_key_id)] = "k1",
) -> None:
    """Print (creating it if needed) the secret of a webhook signing key, to configure the
    push service that verifies the signatures."""
    with failing_cleanly():
        store = key_store()
        secret = store.secret(f"webhook-{key_id}")
    for path in store.created:
        err.print(markup("created webhook key {} at [bold]{}[/]", key_id, path))
    out.print(secret.hex())
