"""Settings are checked; the command writes a run or says clearly what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from walletguard.cli.main import app
from walletguard.simulate import SimConfig, SimConfigError


@pytest.mark.parametrize(
    "settings",
    [
        {"users": 0},
        {"days": 0},
        {"seed": -1},
        {"attack_rate": -1.0},
        {"rates": {"phishing": 1.0}},
        {"start": "tomorrow"},
        {"start": "2025-01-06T00:00:00"},
        {"new_user_share": 2.0},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(SimConfigError):
        SimConfig.from_mapping(settings)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(SimConfigError, match="colour"):
        SimConfig.from_mapping({"colour": "blue"})


def test_rates_scale_with_population_and_attack_rate() -> None:
    base = SimConfig(users=10_000)
    assert SimConfig(users=20_000).rate("sim_swap") == pytest.approx(2 * base.rate("sim_swap"))
    assert SimConfig(users=10_000, attack_rate=0).rate("sim_swap") == 0


def test_cli_writes_a_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--users",
            "50",
            "--days",
            "1",
            "--seed",
            "5",
            "--rate",
            "account_takeover=200",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("events.jsonl", "labels.jsonl", "campaigns.jsonl", "population.json"):
        assert (out / name).exists()
    assert (
        (out / "statements" / "unionpay.csv")
        .read_text()
        .startswith("channel_ref,amount,currency,merchant_no,settled_at\n")
    )
    assert (out / "labels.jsonl").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "3"], "users must be"),
        (["--rate", "phishing=1"], "unknown typology"),
        (["--rate", "sim_swap"], "TYPOLOGY=N"),
        (["--start", "soon"], "RFC 3339"),
    ],
)
def test_cli_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code != 0
    assert message in result.output
