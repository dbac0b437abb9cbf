"""Codes walletguard checks itself: derived one-time codes, sealed TOTP secrets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from walletguard.accounts.challenges import Challenge
from walletguard.accounts.codes import (
    SecretSealer,
    TotpEnrolment,
    check_one_time_code,
    check_totp,
    enrol_totp,
    one_time_code,
)
from walletguard.accounts.stepup import answer_with_code
from walletguard.kernel.errors import ConfigurationError, Refused

KEY = b"o" * 32
SEALER = SecretSealer(b"t" * 32)
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_one_time_codes_are_per_challenge_and_per_installation() -> None:
    code = one_time_code(KEY, "ch-1")
    assert len(code) == 6
    assert code.isdigit()
    assert check_one_time_code(KEY, "ch-1", code)
    assert check_one_time_code(KEY, "ch-1", f" {code}\n")
    assert not check_one_time_code(KEY, "ch-2", code) or one_time_code(KEY, "ch-2") == code
    assert (
        not check_one_time_code(b"x" * 32, "ch-1", code) or one_time_code(b"x" * 32, "ch-1") == code
    )
    wrong = "000000" if code != "000000" else "111111"
    assert not check_one_time_code(KEY, "ch-1", wrong)


def secret_of(enrolment: TotpEnrolment) -> str:
    return SEALER.open(enrolment.account_id, enrolment.sealed_secret)


def test_a_totp_secret_is_sealed_and_bound_to_its_account() -> None:
    enrolment, uri = enrol_totp(SEALER, "alice", at=T0)
    secret = secret_of(enrolment)
    assert secret.encode() not in enrolment.sealed_secret
    assert uri.startswith("otpauth://totp/")
    assert secret in uri
    with pytest.raises(ConfigurationError):
        SEALER.open("mallory", enrolment.sealed_secret)
    with pytest.raises(ConfigurationError):
        SecretSealer(b"u" * 32).open("alice", enrolment.sealed_secret)


def test_totp_codes_verify_within_one_step_and_only_once() -> None:
    enrolment, _ = enrol_totp(SEALER, "alice", at=T0)
    totp = pyotp.TOTP(secret_of(enrolment))
    code = totp.at(T0)
    step = check_totp(SEALER, enrolment, code, at=T0 + timedelta(seconds=20))
    assert step == totp.timecode(T0)
    used = replace(enrolment, last_step=step)
    assert check_totp(SEALER, used, code, at=T0) is None
    assert check_totp(SEALER, enrolment, code, at=T0 + timedelta(minutes=5)) is None


class _Totps:
    def __init__(self, enrolment: TotpEnrolment | None) -> None:
        self.enrolment = enrolment

    def get(self, account_id: str) -> TotpEnrolment | None:
        return self.enrolment

    def save(self, enrolment: TotpEnrolment) -> None:
        self.enrolment = enrolment


class _Accounts:
    def __init__(self, totp: _Totps) -> None:
        self.totp = totp


def challenge(method: str) -> Challenge:
    return Challenge("ch-9", "alice", "ev-1", method, T0, T0 + timedelta(minutes=10))


def test_answering_a_challenge_makes_its_step_up_result() -> None:
    accounts = _Accounts(_Totps(None))
    code = one_time_code(KEY, "ch-9")
    doc = answer_with_code(
        challenge("sms_otp"),
        code,
        at=T0,
        accounts=accounts,
        otp_key=KEY,
        sealer=SEALER,
    )
    assert doc["type"] == "step_up_result"
    assert doc["step_up"] == {"challenge_id": "ch-9", "method": "sms_otp", "success": True}
    bad = answer_with_code(
        challenge("sms_otp"),
        "nope",
        at=T0,
        accounts=accounts,
        otp_key=KEY,
        sealer=SEALER,
    )
    assert bad["step_up"]["success"] is False


def test_a_totp_answer_is_remembered_so_it_cannot_be_replayed() -> None:
    enrolment, _ = enrol_totp(SEALER, "alice", at=T0)
    accounts = _Accounts(_Totps(enrolment))
    code = pyotp.TOTP(secret_of(enrolment)).at(T0)
    first = answer_with_code(
        challenge("totp"),
        code,
        at=T0,
        accounts=accounts,
        otp_key=KEY,
        sealer=SEALER,
    )
    again = answer_with_code(
        challenge("totp"),
        code,
        at=T0,
        accounts=accounts,
        otp_key=KEY,
        sealer=SEALER,
    )
    assert first["step_up"]["success"] is True
    assert again["step_up"]["success"] is False


def test_codes_are_not_how_a_face_check_is_answered() -> None:
    accounts = _Accounts(_Totps(None))
    with pytest.raises(Refused) as face:
        answer_with_code(
            challenge("face"),
            "1",
            at=T0,
            accounts=accounts,
            otp_key=KEY,
            sealer=SEALER,
        )
    assert face.value.reason_code == "CHALLENGE_NOT_A_CODE"
    with pytest.raises(Refused) as none:
        answer_with_code(
            challenge("totp"),
            "1",
            at=T0,
            accounts=accounts,
            otp_key=KEY,
            sealer=SEALER,
        )
    assert none.value.reason_code == "TOTP_NOT_ENROLLED"
