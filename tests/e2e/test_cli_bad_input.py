"""Bad input to the commands is one clear line and a non-zero exit, never a traceback, and
nothing is half done: a file a command will write is checked before any work (nothing is
recorded as written), a database that cannot be used or is not named is said so, an
empty actor or an unknown event type is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import EventFactory, write_jsonl
from walletguard.cli.main import app
from walletguard.storage.database import open_database

COMMANDS = {
    "statement": ["ledger", "statement", "alice", "--csv", "{out}", "--db", "{db}"],
    "evidence": ["evidence", "export", "--account", "alice", "-o", "{out}", "--db", "{db}"],
    "replay": ["replay", "{events}", "-o", "{out}", "--db", "{db}"],
    "public key": ["audit", "public-key", "-o", "{out}"],
    "labels": ["cases", "labels", "-o", "{out}", "--db", "{db}"],
}


@pytest.mark.parametrize("where", ["missing directory", "a directory"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, command: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wg.db"
    events = write_jsonl(tmp_path / "e.jsonl", [EventFactory().register("alice")])
    monkeypatch.setenv("WALLETGUARD_HOME", str(tmp_path / "home"))
    setup = CliRunner().invoke(app, ["replay", str(events), "-o", "-", "--db", f"sqlite:///{db}"])
    assert setup.exit_code == 0, setup.output
    audited = _audit_records(db)
    out = tmp_path / "nowhere" / "file" if where == "missing directory" else tmp_path
    args = [a.format(out=out, events=events, db=f"sqlite:///{db}") for a in COMMANDS[command]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.replace("│", " ").split())  # rich boxes and wraps it
    assert (
        "is not an existing directory" if where == "missing directory" else "is a directory"
    ) in said
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _audit_records(db) == audited


def _audit_records(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from audit_log").fetchone()[0])


def refusal(*args: str, home: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"WALLETGUARD_HOME": str(home)})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


def test_a_file_that_is_not_a_database_is_said_so(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    code, said = refusal("ledger", "balance", "alice", "--db", f"sqlite:///{text}", home=tmp_path)
    assert (code, said) == (1, "error: the database could not be used: file is not a database")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://", "names no database"),  # libpq would pick a server and database itself
        ("sqlite://", "is in memory"),  # gone when the command ends
        ("", "is not a database URL"),  # not the default database
    ],
)
def test_a_database_url_must_name_a_lasting_database(tmp_path: Path, url: str, said: str) -> None:
    code, output = refusal("ledger", "balance", "alice", "--db", url, home=tmp_path)
    assert code == 1
    assert said in output


def test_an_empty_actor_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    code, said = refusal(
        "keys", "create", "--role", "admin", "--as", " ", "--db", db, home=tmp_path
    )
    assert code == 2
    assert "must not be empty" in said


def test_training_on_an_unknown_event_type_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    code, said = refusal("train", "--types", "payment,bogus", "--db", db, home=tmp_path)
    assert code == 1
    assert "--types: bogus: event types are" in said


def test_revoking_a_key_twice_says_so_and_audits_once(tmp_path: Path) -> None:
    db = tmp_path / "wg.db"
    created = CliRunner().invoke(
        app, ["keys", "create", "--role", "analyst", "--as", "ops:lee", "--db", f"sqlite:///{db}"]
    )
    assert created.exit_code == 0, created.output
    key_id = created.stdout.strip().split("_")[1]
    said = [
        refusal("keys", "revoke", key_id, "--db", f"sqlite:///{db}", home=tmp_path) for _ in "12"
    ]
    assert said[0] == (0, f"key {key_id} revoked")
    assert said[1][0] == 0
    assert f"key {key_id} was already revoked at" in said[1][1]
    with sqlite3.connect(db) as conn:
        revoked = conn.execute("select count(*) from audit_log where action = 'key.revoked'")
        assert revoked.fetchone()[0] == 1


def test_an_account_never_seen_is_not_treated_as_an_empty_one(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    open_database(db).dispose()
    for command in (["account", "enrol-totp", "ghost"], ["ledger", "balance", "ghost"]):
        code, said = refusal(*command, "--db", db, home=tmp_path)
        assert code == 1, said
        assert said.startswith("error: no ")
        assert "ghost" in said
    shown = CliRunner().invoke(app, ["account", "show", "ghost", "--db", db])
    assert shown.exit_code == 1  # enrolling did not create it


def test_options_naming_a_missing_file_or_an_unknown_state_are_refused_up_front(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    events = write_jsonl(tmp_path / "e.jsonl", [EventFactory().register("alice")])
    labels = write_jsonl(tmp_path / "labels.jsonl", [])
    missing = str(tmp_path / "candidate.yaml")
    code, said = refusal(
        "backtest", str(events), str(labels), "--candidate", missing, home=tmp_path
    )
    assert code == 2  # before replaying anything
    assert "does not exist" in said
    code, said = refusal("notify", "list", "--status", "bogus", "--db", db, home=tmp_path)
    assert code == 2
    assert "'bogus' is not one of" in said


def test_a_mistyped_database_path_is_refused_not_created(tmp_path: Path) -> None:
    """Commands that work on stored state refuse a SQLite file that is not there — it would
    have become a new, empty database answering "nothing found" — and leave no file."""
    typo = tmp_path / "walletgaurd.db"
    for command in (
        ["cases", "list"],
        ["ledger", "balance", "alice"],
        ["account", "freeze", "alice", "--reason", "r", "--as", "analyst:kim"],
        ["audit", "verify"],
    ):
        code, said = refusal(*command, "--db", f"sqlite:///{typo}", home=tmp_path)
        assert code == 2, command
        assert f"nodatabaseat{typo}" in "".join(said.split())  # the box may wrap the path
    assert not typo.exists()
    code, said = refusal("cases", "list", home=tmp_path)  # the embedded default, never made
    assert code == 2
    assert "no database at" in said
    assert not (tmp_path / "walletguard.db").exists()


def test_a_sweep_as_of_the_year_1_is_refused_not_a_crash(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    open_database(db).dispose()
    code, said = refusal(
        "ledger", "sweep", "--now", "0001-01-01T00:00:00Z", "--db", db, home=tmp_path
    )
    assert (code, said) == (
        1,
        "error: --now: '0001-01-01T00:00:00Z' is too near the year 1 or 9999",
    )


def test_training_options_that_would_see_the_future_are_refused_up_front(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    for option in ("--labels-delay-days", "--maturity-days"):
        code, said = refusal("train", option, "-1", "--db", db, home=tmp_path)
        assert code == 2, option
        assert option in said
    code, said = refusal(
        "train", "--from", "2025-01-10", "--to", "2025-01-05", "--db", db, home=tmp_path
    )
    assert (code, said) == (1, "error: --from: 2025-01-10 is not before --to")


def test_numbers_that_are_not_finite_or_are_absurd_are_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    open_database(db).dispose()
    for command in (
        ["graph", "scan", "--days", "1e9", "--db", db, "--as", "ann"],
        ["graph", "scan", "--days", "nan", "--db", db, "--as", "ann"],
        ["simulate", "-o", str(tmp_path / "sim"), "--attack-rate", "inf"],
        ["account", "freeze-link", "alice", "--ttl-hours", "nan", "--db", db, "--as", "ann"],
    ):
        code, said = refusal(*command, home=tmp_path)
        assert code == 2, command
        assert "Invalid value" in said
    assert not (tmp_path / "sim").exists()
