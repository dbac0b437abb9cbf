"""Actions from a case (`walletguard cases freeze|unfreeze|release-hold|void-hold|unbind|
list-add|approve`), through the same services as everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from walletguard.cases import actions
from walletguard.cases.actions import ActionResult
from walletguard.cli.common import ActorOption, DbOption, err, failing_cleanly, markup, out
from walletguard.composition import unit_of_work
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind, normalise_list_value

CaseArg = Annotated[str, typer.Argument(help="The case id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (required, audited).")]
HoldArg = Annotated[str, typer.Argument(help="The hold (see `cases show`).")]


def _now() -> datetime:
    return datetime.now(UTC)


def _show(result: ActionResult) -> None:
    if result.done:
        out.print(markup("[green]done[/]: {}", result.message))
    else:
        out.print(markup("[yellow]waiting[/]: {}", result.message))
        if result.approval is not None:
            err.print(
                markup(
                    "another person approves with: walletguard cases approve {} --as THEIR_NAME",
                    result.approval.id,
                )
            )


def freeze(
    case_id: CaseArg, reason: ReasonOption, db: DbOption = None, *, actor: ActorOption
) -> None:
    """Freeze the case's account now."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.freeze(uow, case_id, reason=reason, actor=actor, at=_now())
    _show(result)


def unfreeze(
    case_id: CaseArg, reason: ReasonOption, db: DbOption = None, *, actor: ActorOption
) -> None:
    """Lift the freeze or restriction: needs a second person's approval."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.unfreeze(uow, case_id, reason=reason, actor=actor, at=_now())
    _show(result)


def release_hold(
    case_id: CaseArg,
    hold_id: HoldArg,
    reason: ReasonOption,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Let held money go through; a large hold needs a second person's approval."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.release_hold(uow, case_id, hold_id, reason=reason, actor=actor, at=_now())
    _show(result)


def void_hold(
    case_id: CaseArg,
    hold_id: HoldArg,
    reason: ReasonOption,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Cancel the held movement: the money goes back to the wallet."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.void_hold(uow, case_id, hold_id, reason=reason, actor=actor, at=_now())
    _show(result)


def unbind(
    case_id: CaseArg,
    token: Annotated[str, typer.Argument(help="The bound account's token.")],
    reason: ReasonOption,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Unbind a card, account or device of the case's account (works on a frozen account)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.unbind(uow, case_id, token, reason=reason, actor=actor, at=_now())
    _show(result)


def list_add(
    case_id: CaseArg,
    entity: Annotated[ListEntity, typer.Option(help="What kind of value.")],
    value: Annotated[str, typer.Option(help="The value (counterparty: type:id).")],
    reason: ReasonOption,
    kind: Annotated[ListKind, typer.Option("--list", help="Which list.")] = ListKind.BLOCK,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Put a value from the case on the block, allow or watch list."""
    with failing_cleanly(), unit_of_work(db) as uow:
        entry = ListEntry(
            kind, entity, normalise_list_value(entity, value), reason, created_by=actor
        )
        result = actions.add_to_list(uow, case_id, entry, actor=actor, at=_now())
    _show(result)


def approve(
    approval_id: Annotated[str, typer.Argument(help="The approval request id.")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Approve an action someone else asked for (maker-checker); it runs at once."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = actions.approve_action(uow, approval_id, approver=actor, at=_now())
    _show(result)


def register(app: typer.Typer) -> None:
    app.command("freeze")(freeze)
    app.command("unfreeze")(unfreeze)
    app.command("release-hold")(release_hold)
    app.command("void-hold")(void_hold)
    app.command("unbind")(unbind)
    app.command("list-add")(list_add)
    app.command("approve")(approve)
