"""Rendering notifications in the account's language (Chinese or English).

Every message says what happened, when, from which device and where, what walletguard
did about it, and carries the one-step "not me? freeze now" link.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml

from walletguard.notify.model import Message

LANGUAGES = ("en", "zh")


@cache
def _texts() -> dict[str, dict[str, Any]]:
    text = resources.files("walletguard.notify").joinpath("messages.yaml").read_text("utf-8")
    loaded: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return loaded


def language_of(code: str | None) -> str:
    """The template language for an account language code (`zh-CN`, `zh_Hans` → `zh`);
    English for anything else."""
    base = (code or "en").replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def _when(text: str | None, fmt: str, unknown: str) -> str:
    if not text:
        return unknown
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    offset = moment.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{moment.strftime(fmt)} ({zone})"


def render(template: str, params: dict[str, Any], *, language: str, freeze_url: str) -> Message:
    """The message for an outbox entry's template and parameters."""
    lang = language_of(language)
    texts = _texts()[lang]
    unknown = texts["unknown"]
    amount = params.get("amount")
    amount_text = f"{amount} {params.get('currency') or ''}".strip() if amount else ""
    event_type = str(params.get("event_type") or "other")
    events: dict[str, str] = texts["events"]
    what = events.get(event_type, events["other"]).format(amount=amount_text or unknown)
    outcome = texts["decisions"].get(str(params.get("decision")), "")
    kind, _, detail = template.partition(".")
    if kind == "account" and detail in texts["states"]:
        outcome = (
            f"{outcome} {texts['states'][detail]}".strip() if outcome else texts["states"][detail]
        )
    fields = {
        "what": what,
        "when": _when(params.get("occurred_at"), texts["date_format"], unknown),
        "device": params.get("device") or unknown,
        "where": params.get("country") or unknown,
        "outcome": outcome,
        "freeze_url": freeze_url,
    }
    return Message(
        subject=texts["subject"].format(**fields),
        body=texts["body"].format(**fields),
        short=texts["short"].format(**fields),
        freeze_url=freeze_url,
        language=lang,
    )
