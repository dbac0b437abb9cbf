"""Evidence packages: exported from a real database, verified offline, and no edit to any
file of the zip goes unnoticed."""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.casework import NOW, case_harness, held_withdrawal, work
from tests.support import EventFactory
from walletguard.audit.checkpoint import TrustedKeys
from walletguard.cases import actions
from walletguard.composition import export_evidence, key_store, trusted_audit_keys
from walletguard.evidence.package import MANIFEST, SIGNATURE, verify_package
from walletguard.kernel.errors import NotFound

AT = datetime(2026, 3, 20, tzinfo=UTC)


@pytest.fixture
def exported(db_url: str, tmp_path: Path, events: EventFactory) -> bytes:
    h = case_harness(db_url, tmp_path)
    try:
        case_id = held_withdrawal(h, events, "alice", "20000.00")
        held_withdrawal(h, events, "bob", "15000.00")
        with work(h) as uow:
            actions.void_hold(uow, case_id, "hold-ev-5", reason="fraud", actor="ann", at=NOW)
    finally:
        h.close()
    return export_evidence(db_url, account_id="alice", case_id=None, actor="ann", at=AT).data


@pytest.fixture
def events() -> EventFactory:
    """Plain event ids (ev-1, ev-2, ...): these stories refer to holds by their event's id."""
    return EventFactory()


def files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def trusted() -> TrustedKeys:
    return trusted_audit_keys()


def test_a_package_holds_the_timeline_and_verifies(exported: bytes) -> None:
    report = verify_package(exported, trusted())
    assert report.ok, report.problems
    contents = files(exported)
    events = contents["events.jsonl"].decode()
    assert '"event_id":"ev-5"' in events
    assert '"BIG_MONEY_OUT"' in events
    assert '"rule":"big_money_out"' in events
    assert "bob" not in contents["holds.jsonl"].decode()
    for name in (
        "account_state_changes.jsonl",
        "postings.jsonl",
        "holds.jsonl",
        "notifications.jsonl",
        "cases.jsonl",
        "case_notes.jsonl",
        "timeline.jsonl",
    ):
        assert contents[name], name
    audit = contents["audit_records.jsonl"].decode()
    assert "ledger.hold_voided" in audit
    assert "evidence.exported" in audit
    assert report.audit_records == len(audit.splitlines())


def test_editing_any_file_is_reported(exported: bytes) -> None:
    original = files(exported)
    for name in original:
        changed = dict(original)
        data = changed[name]
        changed[name] = data.replace(b"alice", b"alicf", 1) if b"alice" in data else data + b" "
        report = verify_package(rezip(changed), trusted())
        assert not report.ok, f"an edit to {name} went unnoticed"


def test_adding_or_removing_a_file_is_reported(exported: bytes) -> None:
    original = files(exported)
    added = verify_package(rezip({**original, "extra.txt": b"hello"}), trusted())
    assert any("extra.txt" in p for p in added.problems)
    for name in original:
        if name in (MANIFEST, SIGNATURE):
            continue
        fewer = {k: v for k, v in original.items() if k != name}
        report = verify_package(rezip(fewer), trusted())
        assert any(name in p and "missing" in p for p in report.problems)


def test_a_second_copy_of_a_file_under_the_same_name_is_reported(exported: bytes) -> None:
    """unzip and others extract one copy or the other: a forged first copy must not hide
    behind the genuine one that was checked."""
    original = files(exported)
    forged = original["case_notes.jsonl"].replace(b"alice", b"alicf", 1) + b" "
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive.writestr("case_notes.jsonl", forged)
        for name, data in original.items():
            archive.writestr(name, data)
    report = verify_package(buffer.getvalue(), trusted())
    assert report.problems == ["the zip holds more than one file named case_notes.jsonl"]


def test_a_re_signed_package_is_not_trusted(exported: bytes) -> None:
    """Someone who edits a file, rewrites the manifest and signs it with their own key
    (even shipping that key in the zip) is caught: trust never comes from the package."""
    import base64

    import msgspec

    from walletguard.audit.checkpoint import key_id, public_pem
    from walletguard.kernel.canonical import sha256_hex

    contents = files(exported)
    contents["holds.jsonl"] = b""
    forger = Ed25519PrivateKey.generate()
    manifest = msgspec.json.decode(contents[MANIFEST])
    manifest["files"]["holds.jsonl"] = {"sha256": sha256_hex(b""), "bytes": 0}
    manifest["key_id"] = key_id(forger.public_key())
    contents["public_key.pem"] = public_pem(forger.public_key()).encode()
    manifest["files"]["public_key.pem"]["sha256"] = sha256_hex(contents["public_key.pem"])
    raw = msgspec.json.encode(manifest)
    contents[MANIFEST] = raw
    contents[SIGNATURE] = base64.b64encode(forger.sign(raw))
    report = verify_package(rezip(contents), trusted())
    assert any("not a trusted key" in p for p in report.problems)
    assert not verify_package(exported, TrustedKeys()).ok  # no trusted key: no verdict


def test_a_case_package_and_an_unknown_scope(
    db_url: str, tmp_path: Path, events: EventFactory
) -> None:
    h = case_harness(db_url, tmp_path)
    try:
        case_id = held_withdrawal(h, events, "alice", "20000.00")
    finally:
        h.close()
    export = export_evidence(db_url, account_id=None, case_id=case_id, actor="ann", at=AT)
    assert export.scope.account_id == "alice"
    assert verify_package(export.data, trusted()).ok
    assert key_store(create=False).signing_key("audit")  # created on first export
    with pytest.raises(NotFound):
        export_evidence(db_url, account_id=None, case_id="case-nope", actor="ann", at=AT)
    with pytest.raises(NotFound):
        export_evidence(db_url, account_id="nobody", case_id=None, actor="ann", at=AT)
