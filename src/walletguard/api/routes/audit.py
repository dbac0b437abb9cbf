"""The tamper-evident audit log (verify, sign checkpoints) and evidence packages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from walletguard.api.deps import database, now
from walletguard.api.routes.common import problems
from walletguard.api.schemas_audit import CheckpointOut, EvidenceIn, VerifyOut
from walletguard.api.security import CanCheckpointAudit, CanExportEvidence, CanReadAudit
from walletguard.audit.verify import verify_log
from walletguard.composition import export_evidence_from, sign_heads, trusted_audit_keys
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.storage.repositories.audit import SqlAuditReader

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    summary="Walk every chain and check every signed checkpoint; name each chain's first break",
    description="Reads the whole log (time grows with its size). Checkpoints are checked "
    "against the installation's audit key.",
    responses=problems(),
)
def verify(request: Request, who: CanReadAudit) -> VerifyOut:
    trusted = trusted_audit_keys(store=request.app.state.key_store)
    return VerifyOut.of(verify_log(SqlAuditReader(database(request)), trusted))


@router.post(
    "/audit/checkpoints",
    response_model=CheckpointOut,
    status_code=201,
    summary="Sign the current head of every chain now (with the installation's audit key)",
    description="The signing is itself audited (`audit.checkpoint_signed`, by the key's "
    "actor), in the same transaction as the checkpoint.",
    responses=problems(),
)
def checkpoint(request: Request, who: CanCheckpointAudit) -> CheckpointOut:
    signed = sign_heads(database(request), request.app.state.key_store, actor=who.actor, at=now())
    return CheckpointOut.of(signed)


@router.post(
    "/evidence",
    response_class=Response,
    summary="Export the signed evidence package of an account or a case (a zip)",
    description="The timeline, the audit records covering it and a manifest signed with the "
    "installation's audit key; check it offline with `walletguard evidence verify`. The "
    "export itself is audited.",
    responses={
        200: {
            "description": "The package",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problems(404, 422),
    },
)
def export(body: EvidenceIn, request: Request, who: CanExportEvidence) -> Response:
    if (body.account_id is None) == (body.case_id is None):
        raise InvalidInput([FieldProblem("$", "name exactly one of account_id and case_id")])
    result = export_evidence_from(
        database(request),
        request.app.state.key_store,
        account_id=body.account_id,
        case_id=body.case_id,
        actor=who.actor,
        at=now(),
    )
    name = f"evidence-{result.scope.kind}-{result.scope.id}.zip"
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name)
    return Response(
        result.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
