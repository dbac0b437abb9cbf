"""Plain sentences for every missed target: what fell short, through which events, and —
for typologies — why the default rules miss it and what would catch it
(docs/evaluation.md keeps the same explanations)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from walletguard.evaluate.friction import refused_by_ledger
from walletguard.evaluate.observe import WENT_THROUGH
from walletguard.evaluate.service import Evaluation
from walletguard.evaluate.typologies import CASH_OUT_TYPES
from walletguard.kernel.money import format_amount, from_units

WHY_SHORT: dict[str, str] = {
    "mule_ring": (
        "A mule's first small cash-out, from a wallet days old on a phone not yet shared with "
        "many others, looks like a new customer's first withdrawal; the default ruleset holds "
        "a new account's cash-out of money other wallets sent it "
        "(new_account_cashes_out_transfers), but a ring of aged, bought accounts slips past "
        "that, and the ring signals (many senders, pass-through, shared device) only grow "
        "with every victim. What would catch the rest: the fund-flow graph (money from "
        "unrelated payers converging on wallets that share devices) and a learned model "
        "scoring the first cash-out of received money."
    ),
    "cs_scam": (
        "The victim acts on their own phone, at home, at a normal hour: only the payee "
        "(a new wallet) and the amount are unusual, and the victim passes any step-up. "
        "What would catch it: a cooling-off hold on large first payments to wallets "
        "opened days ago, warnings in the app, and payee reputation from fraud reports."
    ),
    "corporate_binding": (
        "An insider uses their own long-standing wallet and phone; the corporate binding "
        "is the one strong signal. What would catch the rest: refusing corporate accounts "
        "on personal wallets outright, or a hold on the first inflow from one."
    ),
    "account_takeover": (
        "A phished password used from the victim's own country on a real phone leaves few "
        "traces. What would catch it: device binding for withdrawals, step-up on the first "
        "withdrawal to a new card."
    ),
    "sim_swap": (
        "A SIM swap makes SMS codes worthless; the policy asks for a face check after a SIM "
        "change. What would catch the rest: carrier SIM-change feeds for every customer."
    ),
    "reset_abuse": (
        "Resets through weak checks (e-mail codes) hand the account over; the cool-off "
        "after a weak reset is what stops the money. What would catch the rest: stronger "
        "checks for resets from new devices."
    ),
    "fake_topup": (
        "Forged confirmations never prove a top-up. A miss here means a confirmation "
        "matched a real top-up: reconciliation against the channel statement catches it."
    ),
    "card_testing": (
        "Stolen cards that work pass as real money. What would catch the rest: velocity "
        "on cards across wallets and a hold on cash-out of card top-ups until chargebacks "
        "would have arrived."
    ),
}


def _money(units: int) -> str:
    return format_amount(from_units(units))


def target_notes(ev: Evaluation, doc: dict[str, Any]) -> list[str]:
    notes = []
    for typology in ev.typologies:
        share = typology.share_stopped
        if share is None or share >= 0.95:
            continue
        leaks = [
            o
            for o in ev.observations
            if o.label is not None
            and o.label.typology == typology.typology
            and o.type in CASH_OUT_TYPES
            and o.outcome in WENT_THROUGH
        ]
        codes = Counter(code for o in leaks for code in o.codes)
        levels = Counter(o.level for o in leaks)
        leaked = len({o.label.campaign_id for o in leaks if o.label is not None})
        seen = ", ".join(f"{c} ({n})" for c, n in codes.most_common(4)) or "no rule fired"
        scored = ", ".join(f"{k} ×{v}" for k, v in levels.most_common())
        notes.append(
            f"{typology.typology.replace('_', ' ')}: {share * 100:.1f} % of the money tried was "
            f"stopped (target 95 %). {_money(typology.left)} CNY left in {leaked} of "
            f"{typology.cash_out_attempted} campaigns through {len(leaks)} cash-out(s) that "
            f"scored {scored}; rules that fired on them: {seen}. "
            + WHY_SHORT.get(typology.typology, "")
        )
    f = doc["friction"]
    if f["share_challenged_or_held"] > 0.01:
        reasons = list(f["hold_reasons"]) + list(f["challenge_reasons"])
        notes.append(
            f"{f['users_challenged_or_held']:,} legitimate users "
            f"({f['share_challenged_or_held'] * 100:.2f} %) "
            f"were challenged or held (target 1 %); most often because of "
            f"{', '.join(reasons[:4]) or 'nothing recorded'}."
        )
    if f["share_money_movements_blocked_by_risk"] > 0.001:
        reasons = [c for c in f["block_reasons"] if not refused_by_ledger(c)]
        notes.append(
            f"{f['money_movements_blocked_by_risk']:,} legitimate money movements "
            f"({f['share_money_movements_blocked_by_risk'] * 100:.3f} %) were blocked by risk "
            f"control (target 0.1 %); the decisive reasons: {', '.join(reasons[:5])}."
        )
    return notes
