"""Rulesets: list, validate, upload in shadow mode, promote."""

from __future__ import annotations

from fastapi import APIRouter, Request

from walletguard.api.deps import now, unit_of_work
from walletguard.api.routes.events import _ERRORS
from walletguard.api.schemas import Problem, RulesetCheck, RulesetIn, RulesetOut
from walletguard.api.security import CanPromoteRules, CanReadRules, CanUploadRules
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.kernel.errors import ConfigurationError
from walletguard.rules import registry
from walletguard.rules.registry import StoredRuleset
from walletguard.rules.ruleset import parse_ruleset

router = APIRouter(prefix="/v1/rulesets", tags=["rules"])


def _out(stored: StoredRuleset, rules: int | None = None) -> RulesetOut:
    return RulesetOut(
        version=stored.version,
        name=stored.name,
        mode=stored.mode.value,
        created_at=stored.created_at,
        created_by=stored.created_by,
        promoted_at=stored.promoted_at,
        rules=rules,
    )


@router.get(
    "", response_model=list[RulesetOut], summary="Every stored ruleset version", responses=_ERRORS
)
def list_rulesets(request: Request, who: CanReadRules) -> list[RulesetOut]:
    with unit_of_work(request) as uow:
        return [_out(r) for r in uow.rulesets.all()]


@router.post(
    "/validate",
    response_model=RulesetCheck,
    summary="Check a ruleset without storing it",
    responses=_ERRORS,
)
def validate(body: RulesetIn, request: Request, who: CanReadRules) -> RulesetCheck:
    try:
        ruleset = parse_ruleset(body.content, RuleCatalogue(), source="ruleset")
    except ConfigurationError as exc:
        return RulesetCheck(valid=False, problem=exc.message)
    return RulesetCheck(valid=True, version=ruleset.version, rules=len(ruleset.rules))


@router.post(
    "",
    response_model=RulesetOut,
    status_code=201,
    summary="Upload a ruleset version; it runs in shadow mode beside the active one until promoted",
    responses={**_ERRORS, 422: {"model": Problem}},
)
def upload(body: RulesetIn, request: Request, who: CanUploadRules) -> RulesetOut:
    at = now()
    with unit_of_work(request) as uow:
        stored, ruleset = registry.upload(
            uow.rulesets, body.content, RuleCatalogue(), by=who.actor, at=at
        )
        uow.audit.append(
            at=at,
            actor=who.actor,
            action="ruleset.uploaded",
            subject=f"ruleset:{stored.version}",
            payload={"mode": stored.mode.value},
        )
    request.app.state.decider.refresh_soon()
    return _out(stored, len(ruleset.rules))


@router.post(
    "/{version}/promote",
    response_model=RulesetOut,
    summary="Make a version the active ruleset",
    responses={**_ERRORS, 404: {"model": Problem}, 409: {"model": Problem}},
)
def promote(version: str, request: Request, who: CanPromoteRules) -> RulesetOut:
    at = now()
    with unit_of_work(request) as uow:
        promoted = registry.promote(uow.rulesets, version, at=at)
        uow.audit.append(
            at=at,
            actor=who.actor,
            action="ruleset.promoted",
            subject=f"ruleset:{version}",
            payload={},
        )
    request.app.state.decider.refresh_soon()
    return _out(promoted)
