"""`walletguard account`: see an account's security state, freeze, restrict, unfreeze
(with maker-checker), unbind and flag bindings, freeze links, step-up codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from walletguard.accounts import service
from walletguard.accounts.bindings import Binding
from walletguard.accounts.codes import SecretSealer, enrol_totp, one_time_code
from walletguard.accounts.model import AccountSecurity
from walletguard.accounts.settings import AccountSettings
from walletguard.accounts.stepup import answer_with_code
from walletguard.cli.common import (
    ActorOption,
    DbOption,
    err,
    failing_cleanly,
    finite,
    markup,
    out,
    plain,
)
from walletguard.cli.replay_cmd import PolicyOption, RulesetOption
from walletguard.composition import build_runtime, key_store, unit_of_work
from walletguard.decisions.model import decision_json
from walletguard.events.decode import decode_event
from walletguard.kernel.errors import FieldProblem, InvalidInput, NotFound

app = typer.Typer(
    help="Account security: state, lock-outs, bindings; freeze, restrict, unfreeze, unbind.",
    no_args_is_help=True,
)

AccountArg = Annotated[str, typer.Argument(help="The wallet account id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="When it happens, RFC 3339 (default: now). For working in event time.",
    ),
]


def _at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput([FieldProblem("--at", f"{text!r} is not an RFC 3339 time")]) from None
    if moment.tzinfo is None:
        raise InvalidInput([FieldProblem("--at", "give the offset, e.g. 2026-03-02T10:00:00Z")])
    return moment.astimezone(UTC)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def _state_line(account: AccountSecurity) -> Text:
    return markup("[bold]{}[/] is [bold]{}[/]", account.account_id, account.state.value)


@app.command("show")
def show(
    account_id: AccountArg,
    db: DbOption = None,
    decisions: Annotated[int, typer.Option(help="How many recent decisions to list.")] = 10,
) -> None:
    """The account's state, lock-out, bindings (with history), transitions and decisions."""
    with failing_cleanly(), unit_of_work(db) as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}: walletguard has never seen an event for it")
        history = uow.accounts.history(account_id, limit=20)
        bindings = uow.accounts.bindings.history(account_id)
        recent = uow.accounts.recent_decisions(account_id, decisions)
        totp = uow.accounts.totp.get(account_id) is not None
    state = Table(title=markup("account {}", account_id), show_header=False, title_justify="left")
    state.add_row("state", account.state.value)
    state.add_row("because", plain(account.reason or ""))
    state.add_row("by", markup("{} at {}", account.actor, _when(account.changed_at)))
    if account.locked_until:
        scope = account.lock_scope.value if account.lock_scope else "login"
        state.add_row("locked out", f"{scope} until {_when(account.locked_until)}")
    state.add_row(
        "failures in a row",
        f"sign-in {account.login_failures}, transaction password {account.txn_failures}",
    )
    if account.cool_off_until:
        state.add_row("reset cool-off until", _when(account.cool_off_until))
    state.add_row("authenticator app", "enrolled" if totp else "no")
    out.print(state)
    out.print(_bindings_table(bindings))
    changes = Table(title="transitions (newest first)", title_justify="left")
    for column in ("at", "from", "to", "by", "why"):
        changes.add_column(column)
    for change in history:
        changes.add_row(
            _when(change.at),
            plain(change.from_state),
            plain(change.to_state),
            plain(change.actor),
            plain(change.reason),
        )
    out.print(changes)
    table = Table(title="recent decisions", title_justify="left")
    for column in ("at", "event", "type", "decision", "level", "score", "reasons"):
        table.add_column(column)
    for d in recent:
        table.add_row(
            _when(d.occurred_at),
            plain(d.event_id),
            plain(d.event_type),
            plain(d.decision),
            plain(d.risk_level),
            str(d.score),
            plain(", ".join(d.reasons)),
        )
    out.print(table)


def _bindings_table(bindings: list[Binding]) -> Table:
    table = Table(title="bindings (history kept)", title_justify="left")
    for column in ("kind", "token", "institution", "bound", "from", "status", "flag"):
        table.add_column(column)
    for b in bindings:
        where = " ".join(x for x in (b.from_device, b.from_ip, b.from_country) if x)
        if b.active:
            status = markup("[green]bound[/]")
        else:
            status = markup("unbound {} by {}", _when(b.unbound_at), b.unbound_by)
        flag = markup("[red]suspicious[/]: {}", b.suspicious_reason) if b.suspicious else ""
        table.add_row(
            plain(b.kind),
            plain(b.token),
            plain(b.institution or ""),
            _when(b.bound_at),
            plain(where),
            status,
            flag,
        )
    return table


@app.command("freeze")
def freeze(
    account_id: AccountArg, reason: ReasonOption, actor: ActorOption, db: DbOption = None,
    at: AtOption = None,
) -> None:  # fmt: skip
    """Freeze now: no money moves, no binding changes."""
    with failing_cleanly(), unit_of_work(db) as uow:
        account = service.freeze(uow, account_id, reason=reason, actor=actor, at=_at(at))
    out.print(_state_line(account))


@app.command("restrict")
def restrict(
    account_id: AccountArg, reason: ReasonOption, actor: ActorOption, db: DbOption = None,
    at: AtOption = None,
) -> None:  # fmt: skip
    """Make the account read-only: money may come in, nothing goes out."""
    with failing_cleanly(), unit_of_work(db) as uow:
        account = service.restrict(uow, account_id, reason=reason, actor=actor, at=_at(at))
    out.print(_state_line(account))


@app.command("unrestrict")
def unrestrict(
    account_id: AccountArg, reason: ReasonOption, actor: ActorOption, db: DbOption = None,
    at: AtOption = None,
) -> None:  # fmt: skip
    """Lift a restriction (restricted → active). One a rule or someone else put on asks for
    an approval that another person gives with `approve-unfreeze`; your own is lifted."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = service.lift_restriction(uow, account_id, reason=reason, actor=actor, at=_at(at))
    _print_lifting(result, actor, "restricted")


@app.command("unfreeze")
def unfreeze(
    account_id: AccountArg,
    reason: ReasonOption,
    actor: ActorOption,
    verified: Annotated[
        str | None,
        typer.Option(
            "--verified",
            help=f"How the holder proved who they are: {', '.join(service.VERIFICATIONS)}.",
        ),
    ] = None,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Unfreeze after verifying the holder. If a rule or an analyst froze the account, this
    asks for an approval that someone else gives with `approve-unfreeze`."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = service.request_unfreeze(
            uow, account_id, reason=reason, actor=actor, verified_by=verified, at=_at(at)
        )
    _print_lifting(result, actor, "froze")


def _print_lifting(result: service.UnfreezeResult, actor: str, what: str) -> None:
    if result.approval is not None:
        out.print(
            markup(
                "approval [bold]{}[/] asked for: {} {} {}, so someone other than {} must run\n"
                "  walletguard account approve-unfreeze {}",
                result.approval.id,
                result.account.actor,
                what,
                result.account.account_id,
                actor,
                result.approval.id,
            )
        )
        return
    out.print(_state_line(result.account))


@app.command("approve-unfreeze")
def approve_unfreeze(
    approval_id: Annotated[str, typer.Argument(help="The approval id `unfreeze` printed.")],
    actor: ActorOption,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Approve a pending unfreeze (maker-checker: not by who asked) and carry it out."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = service.approve_unfreeze(uow, approval_id, approver=actor, at=_at(at))
    out.print(_state_line(result.account))


TokenArg = Annotated[str, typer.Argument(help="The bound account's token, or the device id.")]


@app.command("unbind")
def unbind(
    account_id: AccountArg, token: TokenArg, reason: ReasonOption, actor: ActorOption,
    db: DbOption = None, at: AtOption = None,
) -> None:  # fmt: skip
    """Remove a bound account or device in one step (its record is kept)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        binding = service.unbind(uow, account_id, token, reason=reason, actor=actor, at=_at(at))
    out.print(markup("{} {} unbound from {}", binding.kind, binding.token, account_id))


@app.command("mark-suspicious")
def mark_suspicious(
    account_id: AccountArg, token: TokenArg, reason: ReasonOption, actor: ActorOption,
    db: DbOption = None, at: AtOption = None,
) -> None:  # fmt: skip
    """Mark a binding suspicious: withdrawals to it are refused."""
    with failing_cleanly(), unit_of_work(db) as uow:
        binding = service.mark_suspicious(
            uow, account_id, token, reason=reason, actor=actor, at=_at(at)
        )
    out.print(markup("{} {} of {} marked suspicious", binding.kind, binding.token, account_id))


@app.command("freeze-link")
def freeze_link(
    account_id: AccountArg,
    ttl_hours: Annotated[
        float, typer.Option(help="How long the link works.", min=0.01, callback=finite)
    ] = AccountSettings().freeze_link_ttl.total_seconds() / 3600,
    base_url: Annotated[
        str | None, typer.Option(help="Prefix, e.g. https://wallet.example/security")
    ] = None,
    at: AtOption = None,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Mint a signed, single-use "not me? freeze now" link for a notification, for an
    account walletguard knows (audited)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        link = service.issue_freeze_link(
            uow,
            key_store().secret("freeze_link"),
            account_id,
            at=_at(at),
            ttl=timedelta(hours=ttl_hours),
            actor=actor,
            base_url=base_url,
        )
    out.print(plain(link.url or link.token), soft_wrap=True)


@app.command("redeem-freeze-link")
def redeem_freeze_link(
    token: Annotated[str, typer.Argument(help="The link or its token.")],
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Freeze the account a link names, at once, without signing in (the link works once)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        result = service.redeem_freeze_link(
            uow, key_store().secret("freeze_link"), token, at=_at(at)
        )
    if result.frozen_now:
        out.print(_state_line(result.account) + " — no money moves until it is unfrozen")
    else:
        out.print(_state_line(result.account) + " already")


@app.command("enrol-totp")
def enrol_totp_command(account_id: AccountArg, db: DbOption = None, at: AtOption = None) -> None:
    """Enrol an authenticator app; prints the provisioning URI once (its secret is sealed)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound(f"no account {account_id}: walletguard has never seen an event for it")
        sealer = SecretSealer(key_store().secret("totp"))
        enrolment, uri = enrol_totp(sealer, account_id, at=_at(at))
        uow.accounts.totp.save(enrolment)
    out.print(plain(uri), soft_wrap=True)


ChallengeArg = Annotated[str, typer.Argument(help="The challenge id of a decision.")]


@app.command("challenge-code")
def challenge_code(challenge_id: ChallengeArg) -> None:
    """The one-time code to deliver (SMS / e-mail) for a challenge walletguard checks."""
    out.print(plain(one_time_code(key_store().secret("otp"), challenge_id)))


@app.command("verify-code")
def verify_code(
    challenge_id: ChallengeArg,
    code: Annotated[str, typer.Argument(help="What the user typed.")],
    db: DbOption = None,
    at: AtOption = None,
    ruleset: RulesetOption = None,
    policy: PolicyOption = None,
) -> None:
    """Check a one-time or TOTP code and decide the step-up result it makes (a pass
    releases held money), with the ruleset and policy the events were replayed with.
    Prints the decision."""
    with failing_cleanly():
        keys = key_store()
        runtime = build_runtime(db, ruleset_path=ruleset, policy_path=policy, exclusive=False)
        try:
            with runtime.transaction() as uow:
                challenge = uow.challenges.get(challenge_id)
                if challenge is None:
                    raise NotFound(f"no challenge {challenge_id}")
                document = answer_with_code(
                    challenge,
                    code,
                    at=_at(at),
                    accounts=uow.accounts,
                    otp_key=keys.secret("otp"),
                    sealer=SecretSealer(keys.secret("totp")),
                )
            decision = runtime.engine.decide(decode_event(document))
        finally:
            runtime.close()
    out.print(plain(decision_json(decision).decode()), soft_wrap=True)
    if not document["step_up"]["success"]:
        err.print("[red]wrong code[/]")
        raise typer.Exit(1)
