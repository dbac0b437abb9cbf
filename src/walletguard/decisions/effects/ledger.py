"""Money: refuse what the ledger cannot do (amounts, destinations, limits, funds); post,
hold, or record pending top-ups; hold withdrawals that need people's approval."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from walletguard.accounts.bindings import Target
from walletguard.accounts.permissions import destination_refusal, refusal
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.model import Action, Reason, Verdict
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import MONEY_OUT, EventType, WalletEvent
from walletguard.kernel.errors import Conflict, Refused
from walletguard.kernel.money import AmountError, format_amount, from_units, to_units
from walletguard.ledger import service, withdrawals
from walletguard.ledger.limits import LimitedOperation, check_limits
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    Platform,
    Topup,
    TopupStatus,
    TransferRequest,
    event_transaction_id,
    hold_id_for,
    wallet_account,
)
from walletguard.ledger.settings import LedgerSettings, load_ledger_settings

FAKE_TOPUP = "suspected_fake_topup"


def destination(event: WalletEvent) -> str:
    """Where the money of an outgoing event goes in the ledger."""
    if event.type is EventType.TRANSFER:
        assert event.counterparty is not None
        return wallet_account(event.counterparty.id)
    if event.type is EventType.PAYMENT:
        return Platform.MERCHANT_SETTLEMENT
    return Platform.PAYOUT_CLEARING


def counterparty_of(event: WalletEvent) -> str | None:
    """Who receives an outgoing event's money, as limits count it."""
    if event.type is EventType.WITHDRAWAL and event.binding is not None:
        return "binding:" + event.binding.token
    return event.counterparty_key


def is_bound_destination(ctx: DecisionContext, token: str) -> bool:
    """Whether `token` is an account bound to the wallet right now (the bindings record,
    kept by account security: bound, not since unbound)."""
    return ctx.uow.accounts.bindings.is_bound(ctx.event.account_id, token)


def still_allowed(
    ctx: DecisionContext, out: Outcome, guarded: WalletEvent
) -> tuple[str, str] | None:
    """Whether the operation `guarded` (held behind a step-up) may still go on now, when
    its challenge is passed: the account's state, lock-out and cool-off as they are now, a
    withdrawal's destination still bound and not marked suspicious since, a transfer's
    receiver still able to take money. A reason code and message if not."""
    refused = refusal(guarded.type, out.account, ctx.event.occurred_at)
    if refused is not None:
        return refused.code, f"the {guarded.type.value} cannot go on now: {refused.message}"
    binding = guarded.binding
    if guarded.type is EventType.WITHDRAWAL and binding is not None:
        bound = ctx.uow.accounts.bindings.current(guarded.account_id, Target.ACCOUNT, binding.token)
        if bound is None or not bound.active:
            return "WITHDRAWAL_NOT_BOUND", f"{binding.token} is no longer bound to the wallet"
        unsafe = destination_refusal(bound)  # marked suspicious since the challenge
        if unsafe is not None:
            return unsafe.code, f"the withdrawal cannot go on now: {unsafe.message}"
    if guarded.type is EventType.TRANSFER:
        return receiver_refusal(ctx, guarded)
    return None


def _tier(out: Outcome) -> str:
    return out.account.tier


class LedgerEffects:
    def __init__(self, settings: LedgerSettings | None = None) -> None:
        self.settings = settings or load_ledger_settings()

    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        kind = event.type
        if kind in MONEY_OUT:
            self._guard_money_out(ctx, out)
        elif kind is EventType.TOPUP or kind is EventType.TOPUP_CONFIRMATION:
            if event.amount is None:
                out.refuse("AMOUNT_MISSING", f"a {kind.value} needs an amount")
            elif event.topup is None:
                out.refuse(
                    "TOPUP_DETAILS_MISSING", f"a {kind.value} needs its channel and reference"
                )
            elif kind is EventType.TOPUP and ctx.topup is not None:
                out.refuse(
                    "TOPUP_REFERENCE_REUSED",
                    f"channel reference {event.topup.channel_ref} was already used by event "
                    f"{ctx.topup.request_event_id}",
                )
            elif not _fits(event):
                out.refuse("AMOUNT_TOO_LARGE", "the amount is larger than the ledger can hold")

    def _guard_money_out(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        kind = event.type
        cp = event.counterparty
        if event.amount is None:
            out.refuse("AMOUNT_MISSING", f"a {kind.value} needs an amount")
        elif not _fits(event) or event.amount <= 0:
            out.refuse(
                "AMOUNT_INVALID", "the amount must be positive and within the ledger's range"
            )
        elif kind is EventType.TRANSFER and (cp is None or cp.type != "account"):
            out.refuse("COUNTERPARTY_NOT_WALLET", "a transfer goes to another wallet account")
        elif kind is EventType.TRANSFER and cp is not None and cp.id == event.account_id:
            out.refuse("TRANSFER_TO_SELF", "a wallet cannot transfer to itself")
        elif kind is EventType.TRANSFER and (refused := receiver_refusal(ctx, event)) is not None:
            out.refuse(*refused)
        elif kind is EventType.PAYMENT and cp is None:
            out.refuse("COUNTERPARTY_MISSING", "a payment names the merchant it pays")
        elif kind is EventType.WITHDRAWAL and event.binding is None:
            out.refuse(
                "WITHDRAWAL_DESTINATION_MISSING", "a withdrawal names the bound account it goes to"
            )
        elif (
            kind is EventType.WITHDRAWAL
            and event.binding is not None
            and not is_bound_destination(ctx, event.binding.token)
        ):
            out.refuse(
                "WITHDRAWAL_NOT_BOUND", "withdrawals only go to an account bound to the wallet"
            )
        elif out.verdict is not Verdict.BLOCK:
            units = to_units(event.amount)
            try:
                check_limits(ctx.uow.ledger, self.settings, self._operation(ctx, out, units))
            except Refused as exc:
                out.refuse(exc.reason_code, exc.message)
                return
            if units > ctx.balance.available:
                out.refuse(
                    "INSUFFICIENT_FUNDS",
                    f"{format_amount(event.amount)} is more than the available "
                    f"{format_amount(from_units(ctx.balance.available))}",
                )

    @staticmethod
    def _operation(ctx: DecisionContext, out: Outcome, units: int) -> LimitedOperation:
        event = ctx.event
        return LimitedOperation(
            account=wallet_account(event.account_id),
            operation=event.type.value,
            counterparty=counterparty_of(event),
            tier=_tier(out),
            currency=ctx.currency,
            amount=units,
            at=event.occurred_at,
        )

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        kind = event.type
        if kind in MONEY_OUT:
            self._apply_money_out(ctx, out)
        elif kind is EventType.TOPUP and out.verdict is not Verdict.BLOCK:
            self._request_topup(ctx, out)
        elif (
            kind is EventType.TOPUP_CONFIRMATION
            and event.topup is not None
            and event.amount is not None
        ):
            self._confirmation(ctx, out)

    def _apply_money_out(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        if out.verdict is Verdict.BLOCK:
            return
        assert event.amount is not None
        units = to_units(event.amount)
        approvers = (
            self.settings.approvers_needed(units) if event.type is EventType.WITHDRAWAL else 0
        )
        if approvers:
            self._needs_approval(out, units, approvers)
        if out.verdict is Verdict.ALLOW:
            # The guard checked limits and funds in this unit of work; the decision is the
            # once-only record of this movement, so no transfer record is kept beside it.
            try:
                service.move_funds(
                    ctx.uow.ledger,
                    TransferRequest(
                        id=event_transaction_id(event.event_id),
                        kind=event.type.value,
                        source=wallet_account(event.account_id),
                        destination=destination(event),
                        currency=ctx.currency,
                        amount=units,
                        counterparty=counterparty_of(event),
                        tier=_tier(out),
                        event_id=event.event_id,
                    ),
                    at=event.occurred_at,
                    limits=self.settings,
                    limits_checked=True,
                )
            except Refused as exc:
                out.refuse(exc.reason_code, exc.message)
                return
            _audit(
                ctx,
                "ledger.posted",
                {"kind": event.type.value, "amount": units, "currency": ctx.currency},
            )
            return
        if Action.HOLD_FUNDS.value not in out.actions:
            return
        hours = ctx.settings.hold_expiry_hours
        expires = event.occurred_at + (
            self.settings.approval_hold_expiry if approvers else timedelta(hours=hours)
        )
        hold = Hold(
            id=hold_id_for(event.event_id),
            account=wallet_account(event.account_id),
            currency=ctx.currency,
            amount=units,
            purpose=event.type.value,
            destination=destination(event),
            created_at=event.occurred_at,
            expires_at=expires,
            on_expiry=ExpiryAction.VOID
            if out.verdict is Verdict.CHALLENGE
            else ExpiryAction.ESCALATE,
            decision_event_id=event.event_id,
            counterparty=counterparty_of(event),
        )
        if approvers:
            request = withdrawals.open_release_request(
                ctx.uow.approvals,
                hold,
                required=approvers,
                requested_by=f"account:{event.account_id}",
                at=event.occurred_at,
            )
            hold = replace(hold, approval_id=request.id)
        service.place_hold(ctx.uow.ledger, hold, limits=self.settings, tier=_tier(out))
        out.hold_id = hold.id
        _audit(
            ctx,
            "ledger.hold_placed",
            {
                "hold_id": hold.id,
                "amount": units,
                "currency": ctx.currency,
                "approval_id": hold.approval_id,
            },
        )

    def _needs_approval(self, out: Outcome, units: int, approvers: int) -> None:
        """A withdrawal this large waits for people, whatever the risk: hold it for review."""
        s = self.settings
        above = s.two_approvers_above if approvers == 2 else s.one_approver_above
        assert above is not None
        out.verdict = Verdict.REVIEW
        out.step_up = None
        out.actions = [a for a in out.actions if not a.startswith("step_up:")]
        out.add_action(Action.HOLD_FUNDS.value)
        who = "two different people" if approvers == 2 else "a person"
        out.reasons.append(
            Reason(
                "APPROVAL_REQUIRED",
                f"withdrawals above {format_amount(from_units(above))} are released only "
                f"once {who} other than the requester approve",
                0,
            )
        )

    def _request_topup(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        assert event.topup is not None
        assert event.amount is not None
        topup = Topup(
            channel=event.topup.channel,
            channel_ref=event.topup.channel_ref,
            account_id=event.account_id,
            currency=ctx.currency,
            amount=to_units(event.amount),
            merchant_no=event.topup.merchant_no,
            requested_at=event.occurred_at,
            request_event_id=event.event_id,
        )
        try:
            service.request_topup(ctx.uow.ledger, topup)
        except (Conflict, Refused) as exc:
            out.refuse("TOPUP_REFUSED", exc.message)
            return
        _audit(
            ctx,
            "ledger.topup_pending",
            {"channel": topup.channel, "ref": topup.channel_ref, "amount": topup.amount},
        )

    def _confirmation(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        topup = ctx.topup
        problem = ctx.topup_problem or self._late(ctx, topup)
        if not problem and topup is not None:
            service.confirm_topup(
                ctx.uow.ledger, topup, at=event.occurred_at, event_id=event.event_id
            )
            _audit(
                ctx,
                "ledger.topup_confirmed",
                {"channel": topup.channel, "ref": topup.channel_ref, "amount": topup.amount},
            )
            if out.verdict is Verdict.BLOCK:
                _hold_blocked_credit(ctx, out, topup)
            return
        out.flags.add(FAKE_TOPUP)
        out.add_action(Action.OPEN_CASE.value)
        if not ctx.topup_problem:
            out.refuse("TOPUP_CONFIRMED_LATE", problem)
        if topup is not None and topup.status.value == "pending":
            service.suspect_topup(
                ctx.uow.ledger,
                topup,
                at=event.occurred_at,
                event_id=event.event_id,
                problem=problem,
            )
            _audit(
                ctx,
                "ledger.topup_suspected",
                {"channel": topup.channel, "ref": topup.channel_ref, "problem": problem},
            )

    def _late(self, ctx: DecisionContext, topup: Topup | None) -> str:
        """A confirmation arriving after the deadline proves nothing: the top-up is flagged."""
        if topup is None or topup.status is not TopupStatus.PENDING:
            return ""
        within = self.settings.topup_confirm_within
        if ctx.event.occurred_at - topup.requested_at <= within:
            return ""
        return f"the confirmation came after the {within.total_seconds() / 3600:g} h deadline"


def _hold_blocked_credit(ctx: DecisionContext, out: Outcome, topup: Topup) -> None:
    """The channel has the money, so the wallet is credited; but a blocked confirmation (a
    listed account, a frozen one) makes none of it spendable: it is held until a person
    decides — voided to give it to the wallet, or posted to suspense to refund it — with a
    case."""
    event = ctx.event
    account = wallet_account(topup.account_id)
    available = ctx.uow.ledger.balance(account, topup.currency).available
    amount = min(topup.amount, max(0, available))
    if amount > 0:
        hold = Hold(
            id=hold_id_for(event.event_id),
            account=account,
            currency=topup.currency,
            amount=amount,
            purpose=event.type.value,
            destination=Platform.SUSPENSE,
            created_at=event.occurred_at,
            expires_at=None,
            on_expiry=ExpiryAction.KEEP,
            decision_event_id=event.event_id,
        )
        service.place_hold(ctx.uow.ledger, hold)
        out.hold_id = hold.id
        _audit(
            ctx,
            "ledger.hold_placed",
            {"hold_id": hold.id, "amount": amount, "currency": topup.currency},
        )
    out.add_action(Action.OPEN_CASE.value)


def receiver_refusal(ctx: DecisionContext, transfer: WalletEvent) -> tuple[str, str] | None:
    """Why the wallet `transfer` pays may not take money now (frozen, closed), as a reason
    code and message, or None."""
    cp = transfer.counterparty
    receiver = ctx.uow.accounts.get(cp.id) if cp is not None else None
    if receiver is None or receiver.can_receive_money:
        return None
    state = receiver.state.value
    return f"RECEIVER_{state.upper()}", f"the receiving wallet {receiver.account_id} is {state}"


def _fits(event: WalletEvent) -> bool:
    try:
        to_units(event.amount) if event.amount is not None else None
    except AmountError:
        return False
    return True


def _audit(ctx: DecisionContext, action: str, payload: dict[str, object]) -> None:
    event = ctx.event
    ctx.uow.audit.append(
        at=event.occurred_at,
        actor="engine",
        action=action,
        subject=f"account:{event.account_id}",
        payload={**payload, "event_id": event.event_id},
    )
