"""Writing and verifying evidence packages.

A package is a zip holding:
- one JSON-lines file per section (`events.jsonl`: events with their decisions, reasons
  and rule traces; `account_state_changes.jsonl`, `bindings.jsonl`, `postings.jsonl`,
  `holds.jsonl`, `topups.jsonl`, `notifications.jsonl`, `cases.jsonl`, `alerts.jsonl`,
  `case_notes.jsonl`, `case_labels.jsonl`, `appeals.jsonl`, `rings.jsonl`: a ring case's
  members, flows and SVG picture), `timeline.jsonl` (all of it in
  time order) and `audit_records.jsonl` (the audit records about the account, its cases,
  holds and events);
- `manifest.json`: SHA-256 and size of every file above, the scope, and a signed
  checkpoint of the audit chains' heads at export time;
- `manifest.sig`: an Ed25519 signature over the exact bytes of `manifest.json`.

Verifying needs nothing but the zip and a trusted public key (never one taken from the
zip): the signature proves the manifest, the manifest proves every file, and each audit
record's hashes are recomputed and linked to its neighbours and to the signed heads. So an
edit to any file, an added or a removed one, is reported.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from walletguard.audit.chain import AuditRecord, check_record
from walletguard.audit.checkpoint import (
    Checkpoint,
    TrustedKeys,
    heads_document,
    heads_from_document,
    key_id,
    public_pem,
)
from walletguard.evidence.timeline import build_timeline
from walletguard.kernel.canonical import canonical_json, sha256_hex

FORMAT = "walletguard.evidence.v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
AUDIT_FILE = "audit_records.jsonl"
README = "README.txt"
_UNSIGNED = {MANIFEST, SIGNATURE}

_README = """walletguard evidence package

Check it offline:  walletguard evidence verify THIS.zip --public-key AUDIT_PUBLIC_KEY.pem
The public key must come from the installation that exported the package
(`walletguard audit public-key`), never from the package itself. manifest.json lists the
SHA-256 of every other file and is signed (manifest.sig, Ed25519) by key {key_id}.
"""


@dataclass(frozen=True, slots=True)
class Scope:
    """What the package is about: an account, or one case (and its account)."""

    kind: str
    id: str
    account_id: str


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(row) + b"\n" for row in rows)


def audit_row(record: AuditRecord) -> dict[str, Any]:
    return {
        "chain": record.chain,
        "seq": record.seq,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "action": record.action,
        "subject": record.subject,
        "payload": record.payload,
        "payload_hash": record.payload_hash,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def build_package(
    scope: Scope,
    sections: Mapping[str, list[dict[str, Any]]],
    records: list[AuditRecord],
    checkpoint: Checkpoint,
    signing_key: Ed25519PrivateKey,
    *,
    at: datetime,
) -> bytes:
    """The zip's bytes. `checkpoint` must cover every record (taken after reading them)."""
    files: dict[str, bytes] = {f"{name}.jsonl": _jsonl(rows) for name, rows in sections.items()}
    files["timeline.jsonl"] = _jsonl(build_timeline(sections))
    files[AUDIT_FILE] = _jsonl([audit_row(r) for r in records])
    kid = key_id(signing_key.public_key())
    files[README] = _README.format(key_id=kid).encode()
    files["public_key.pem"] = public_pem(signing_key.public_key()).encode()
    manifest = canonical_json(
        {
            "format": FORMAT,
            "scope": {"kind": scope.kind, "id": scope.id, "account_id": scope.account_id},
            "created_at": at.isoformat(),
            "key_id": kid,
            "files": {
                name: {"sha256": sha256_hex(data), "bytes": len(data)}
                for name, data in sorted(files.items())
            },
            "checkpoint": {
                "id": checkpoint.id,
                "at": checkpoint.at.isoformat(),
                "heads": heads_document(checkpoint.heads),
                "key_id": checkpoint.key_id,
                "signature": checkpoint.signature,
            },
        }
    )
    signature = base64.b64encode(signing_key.sign(manifest))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, signature)
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class EvidenceReport:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    audit_records: int = 0
    scope: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(data: bytes, trusted: TrustedKeys) -> EvidenceReport:
    """Check a package offline against trusted public keys; lists everything that does not
    match (an empty list means the package is exactly what was exported)."""
    report = EvidenceReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        contents = {info.filename: archive.read(info) for info in entries}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.problems.append(f"not a readable zip: {exc}")
        return report
    if len(contents) != len(entries):
        # Tools differ on which copy of a name they extract: a reader could be shown the
        # copy that was not checked.
        names = [info.filename for info in entries]
        twice = sorted({n for n in names if names.count(n) > 1})
        report.problems.append(f"the zip holds more than one file named {', '.join(twice)}")
        return report
    manifest_bytes = contents.get(MANIFEST)
    signature = contents.get(SIGNATURE)
    if manifest_bytes is None or signature is None:
        report.problems.append(f"{MANIFEST} or {SIGNATURE} is missing")
        return report
    try:
        manifest = msgspec.json.decode(manifest_bytes)
        kid = str(manifest["key_id"])
        listed: dict[str, dict[str, Any]] = manifest["files"]
        report.scope = manifest.get("scope", {})
    except (msgspec.DecodeError, KeyError, TypeError):
        report.problems.append(f"{MANIFEST} is not a walletguard manifest")
        return report
    report.key_id = kid
    if not trusted:
        report.problems.append(
            "no trusted public key to check the signature with (pass --public-key)"
        )
    else:
        try:
            raw = base64.b64decode(signature, validate=True)
        except ValueError:
            raw = b""
        problem = trusted.verify(kid, raw, manifest_bytes)
        if problem is not None:
            report.problems.append(f"{MANIFEST}: {problem}")
    for name in sorted(set(contents) - _UNSIGNED - set(listed)):
        report.problems.append(f"{name}: not in the manifest (added)")
    for name, expected in sorted(listed.items()):
        found = contents.get(name)
        if found is None:
            report.problems.append(f"{name}: listed in the manifest but missing (removed)")
        elif sha256_hex(found) != expected.get("sha256"):
            report.problems.append(f"{name}: SHA-256 differs from the manifest (edited)")
        else:
            report.files += 1
    checkpoint = _checkpoint(manifest, report)
    if checkpoint is not None and trusted:
        problem = checkpoint.check(trusted)
        if problem is not None:
            report.problems.append(f"audit checkpoint: {problem}")
    _check_records(contents.get(AUDIT_FILE, b""), checkpoint, report)
    return report


def _checkpoint(manifest: dict[str, Any], report: EvidenceReport) -> Checkpoint | None:
    try:
        raw = manifest["checkpoint"]
        return Checkpoint(
            at=datetime.fromisoformat(raw["at"]),
            heads=tuple(heads_from_document(raw["heads"])),
            key_id=str(raw["key_id"]),
            signature=str(raw["signature"]),
            id=raw.get("id"),
        )
    except (KeyError, TypeError, ValueError):
        report.problems.append("the manifest's audit checkpoint is malformed")
        return None


def _check_records(data: bytes, checkpoint: Checkpoint | None, report: EvidenceReport) -> None:
    heads = {h.chain: h for h in checkpoint.heads} if checkpoint is not None else {}
    previous: dict[int, AuditRecord] = {}
    for number, line in enumerate(data.splitlines(), 1):
        try:
            row = msgspec.json.decode(line)
            record = AuditRecord(
                seq=int(row["seq"]),
                at=datetime.fromisoformat(row["at"]),
                actor=row["actor"],
                action=row["action"],
                subject=row["subject"],
                payload=row["payload"],
                payload_hash=row["payload_hash"],
                prev_hash=row["prev_hash"],
                hash=row["hash"],
                chain=int(row["chain"]),
            )
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            report.problems.append(f"{AUDIT_FILE} line {number}: not an audit record")
            continue
        report.audit_records += 1
        where = f"audit record chain {record.chain} seq {record.seq}"
        problem = check_record(record)
        if problem is not None:
            report.problems.append(f"{where}: {problem}")
        before = previous.get(record.chain)
        if before is not None and before.seq + 1 == record.seq and record.prev_hash != before.hash:
            report.problems.append(f"{where}: does not follow record {before.seq}")
        if before is not None and record.seq <= before.seq:
            report.problems.append(f"{where}: out of order")
        previous[record.chain] = record
        head = heads.get(record.chain)
        if head is not None:
            if record.seq > head.seq:
                report.problems.append(f"{where}: after the signed checkpoint's head")
            elif record.seq == head.seq and record.hash != head.hash:
                report.problems.append(f"{where}: differs from the signed checkpoint's head")
        elif checkpoint is not None:
            report.problems.append(f"{where}: its chain is not in the signed checkpoint")
