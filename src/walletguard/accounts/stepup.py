"""Answering a challenge with a code walletguard checks itself.

The result goes through the engine like any other step-up: `answer_with_code` checks
the code and returns the `step_up_result` event to decide, so a passed code releases
the held money exactly as a wallet-reported success would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from walletguard.accounts.challenges import Challenge, ChallengeStatus
from walletguard.accounts.codes import SecretSealer, check_one_time_code, check_totp
from walletguard.accounts.ports import AccountRepository
from walletguard.kernel.errors import Refused

CODE_METHODS = ("sms_otp", "email_otp", "totp")


def answer_with_code(
    challenge: Challenge,
    code: str,
    *,
    at: datetime,
    accounts: AccountRepository,
    otp_key: bytes,
    sealer: SecretSealer,
) -> dict[str, Any]:
    """Check `code` against the challenge and return the `step_up_result` event document
    saying whether it passed. A TOTP code that passes is remembered as used."""
    if challenge.status is not ChallengeStatus.PENDING:
        raise Refused(
            f"challenge {challenge.id} is already {challenge.status.value}",
            reason_code="CHALLENGE_RESOLVED",
        )
    if challenge.method not in CODE_METHODS:
        raise Refused(
            f"challenge {challenge.id} asks for {challenge.method}, which the wallet checks "
            "and reports with a step_up_result event",
            reason_code="CHALLENGE_NOT_A_CODE",
        )
    if challenge.method == "totp":
        enrolment = accounts.totp.get(challenge.account_id)
        if enrolment is None:
            raise Refused(
                f"{challenge.account_id} has no authenticator app enrolled",
                reason_code="TOTP_NOT_ENROLLED",
            )
        step = check_totp(sealer, enrolment, code, at=at)
        passed = step is not None
        if step is not None:
            accounts.totp.save(replace(enrolment, last_step=step))
    else:
        passed = check_one_time_code(otp_key, challenge.id, code)
    return {
        "event_id": f"{challenge.id}-answer-{challenge.attempts_left}",
        "type": "step_up_result",
        "occurred_at": at.isoformat(),
        "account_id": challenge.account_id,
        "step_up": {"challenge_id": challenge.id, "method": challenge.method, "success": passed},
        "metadata": {"checked_by": "walletguard"},
    }
