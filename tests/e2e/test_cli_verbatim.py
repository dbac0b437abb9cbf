"""Stored and typed-in values come out of the command line as the text they are: rich markup
in an account id, a note or a listed value is neither obeyed (a hidden or restyled id an
analyst copies) nor a crash (an unbalanced closing tag), and the commands exit 0. Each
command is a real process."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tests.e2e.test_cli_account import run
from tests.integration.casework import ruleset_file
from tests.support import EventFactory, write_jsonl
from walletguard.cli.common import markup, plain

# shows as a plain "bob" when read as markup: the link and the white-on-white text hide it
EVIL = "[link=https://evil.example/][white on white]bob"
NOTE = "customer replied [/sms] see ticket"  # a closing tag with nothing open: MarkupError
ODD = "[bold]not bold[/bold] :warning: C:\\temp\\"  # markup, an emoji code, a last backslash
CASE = "case-ev-5"  # the large withdrawal's case (the fifth event)


def _story(tmp_path: Path) -> str:
    """An account named with markup, funded through a card named with markup, whose large
    withdrawal opens a case."""
    f = EventFactory()
    docs = f.funded(EVIL, "50000.00")
    f.advance(days=2)
    docs.append(f.withdraw(EVIL, "20000.00", token=f"card-{EVIL}"))
    events = write_jsonl(tmp_path / "events.jsonl", docs)
    db = f"sqlite:///{tmp_path / 'wg.db'}"
    rules = str(ruleset_file(tmp_path))
    replayed = run("replay", str(events), "-o", "out.jsonl", "--db", db, "--ruleset", rules,
                   cwd=tmp_path)  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    return db


def test_a_case_with_markup_in_its_account_and_notes_is_listed_and_shown_verbatim(
    tmp_path: Path,
) -> None:
    db = _story(tmp_path)

    queue = run("cases", "list", "--db", db, cwd=tmp_path)
    assert queue.returncode == 0, queue.stderr
    assert EVIL in queue.stdout
    assert CASE in queue.stdout

    for text in (NOTE, ODD):
        noted = run("cases", "note", CASE, text, "--as", "ann", "--db", db, cwd=tmp_path)
        assert noted.returncode == 0, noted.stderr
    listed = run(
        "cases", "list-add", CASE, "--entity", "token", "--value", f"card-{EVIL}",
        "--reason", NOTE, "--as", "ann", "--db", db, cwd=tmp_path,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert f"[green]done[/]: token card-{EVIL} is on the block list" not in listed.stdout
    assert f"done: token card-{EVIL} is on the block list" in listed.stdout

    shown = run("cases", "show", CASE, "--db", db, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr
    assert f"case {CASE}" in shown.stdout
    assert EVIL in shown.stdout
    assert NOTE in shown.stdout
    assert ODD in shown.stdout
    assert f"listed token card-{EVIL} (block): {NOTE}" in shown.stdout

    assigned = run("cases", "assign", CASE, EVIL, "--as", "ann", "--db", db, cwd=tmp_path)
    assert assigned.returncode == 0, assigned.stderr
    assert f"{CASE}: assigned to {EVIL} (investigating)" in assigned.stdout
    mine = run("cases", "list", "--assignee", EVIL, "--db", db, cwd=tmp_path)
    assert mine.stdout.count(EVIL) == 2  # the account and the assignee


def test_account_show_and_actions_print_ids_and_reasons_verbatim(tmp_path: Path) -> None:
    db = _story(tmp_path)
    frozen = run("account", "freeze", EVIL, "--reason", NOTE, "--as", EVIL, "--db", db,
                 cwd=tmp_path)  # fmt: skip
    assert frozen.returncode == 0, frozen.stderr
    assert f"{EVIL} is frozen" in frozen.stdout

    shown = run("account", "show", EVIL, "--db", db, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"account {EVIL}" in shown.stdout
    assert f"card-{EVIL}" in shown.stdout  # the binding's token
    assert NOTE in shown.stdout  # why it is frozen
    assert f"{EVIL} at " in shown.stdout  # who froze it


def test_an_error_quoting_what_was_typed_quotes_it_verbatim(tmp_path: Path) -> None:
    db = _story(tmp_path)
    for args in (("cases", "show", NOTE), ("account", "show", EVIL + "x")):
        missing = run(*args, "--db", db, cwd=tmp_path)
        assert missing.returncode == 1
        assert "Traceback" not in missing.stderr
        assert "error:" in missing.stderr
        assert args[-1] in " ".join(missing.stderr.split())  # an error line may wrap


def _rendered(text: object) -> str:
    console = Console(width=200, force_terminal=False, color_system=None)
    with console.capture() as captured:
        console.print(text)
    return captured.get()


def test_markup_styles_the_template_and_never_the_values() -> None:
    line = markup("[green]done[/]: [bold]{}[/] and {:,} {}", EVIL, 12345, ODD)
    assert line.plain == f"done: {EVIL} and 12,345 {ODD}"
    assert _rendered(line) == f"done: {EVIL} and 12,345 {ODD}\n"
    styled = {(line.plain[span.start : span.end], str(span.style)) for span in line.spans}
    assert ("done", "green") in styled
    assert (EVIL, "bold") in styled
    assert not any("white" in style for _, style in styled)
    assert _rendered(plain(NOTE)) == NOTE + "\n"
    assert markup("{{literal}} {}", "x").plain == "{literal} x"
