"""`walletguard notify`: what a dispatch pass says, and which webhook key ids it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import EventFactory, Harness
from walletguard.cli.main import app


def run(*args: str, home: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"WALLETGUARD_HOME": str(home), "COLUMNS": "300", **env}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize("kid", ["x/../../../escaped", "a/b", "x y!", "", ".."])
def test_webhook_key_refuses_an_id_that_is_not_a_plain_name(tmp_path: Path, kid: str) -> None:
    home = tmp_path / "home"
    code, said = run("notify", "webhook-key", kid, home=home)
    assert code != 0
    assert "key id" in said
    assert list(tmp_path.rglob("*.key")) == []


def test_webhook_key_prints_a_new_key(tmp_path: Path) -> None:
    code, said = run("notify", "webhook-key", "k2", home=tmp_path / "home")
    assert code == 0, said
    assert len(said.split()[-1]) == 64


def test_webhook_key_refuses_an_empty_key_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "webhook-k1.key").write_text("")
    code, said = run("notify", "webhook-key", "k1", home=tmp_path, WALLETGUARD_KEYS_DIR=str(keys))
    assert code == 1
    assert "webhook-k1.keyholdsa0-bytesecret" in "".join(said.split())  # the path may wrap


def test_a_pass_without_channels_says_skipped_not_sent(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    events = EventFactory()
    harness = Harness(db)
    try:
        harness.decide_all(events.funded("alice") + events.funded("bob"))
    finally:
        harness.close()
    code, said = run("notify", "dispatch", "--once", "--db", db, home=tmp_path / "home")
    assert code == 0, said
    assert "claimed 2: sent 0, skipped 2, retrying 0, failed 0, lost claims 0" in said
