from types import SimpleNamespace

import pytest

from tests.support import EventFactory
from walletguard.composition import load_rules
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.decisions.model import Verdict
from walletguard.decisions.policy import default_policy_text, parse_policy
from walletguard.decisions.settings import EngineSettings
from walletguard.events.decode import decode_event
from walletguard.events.model import EventType
from walletguard.features.profile import AccountProfile
from walletguard.kernel.errors import ConfigurationError
from walletguard.kernel.risk import RiskLevel
from walletguard.rules.ruleset import parse_ruleset

RULES = """
rules:
  - {id: a, on: all, when: "true", score: 150}
  - {id: b, on: all, when: "true", score: 250}
  - {id: c, on: all, when: "true", score: 100, floor: critical}
  - {id: mule, on: all, when: "true", score: 350, step_up: false, tags: [mule]}
"""


def setup() -> tuple:  # type: ignore[type-arg]
    catalogue = RuleCatalogue()
    rules = {r.id: r for r in parse_ruleset(RULES, catalogue).rules}
    return parse_policy(default_policy_text(), catalogue), rules


def ctx(document: dict | None = None, **profile_facts: float) -> SimpleNamespace:
    """Enough of a decision context for the default policy's step-up conditions."""
    profile = AccountProfile()
    for name, value in profile_facts.items():
        setattr(profile, name, value)
    event = decode_event(document or EventFactory().login())
    return SimpleNamespace(profile=profile, event=event, settings=EngineSettings(), currency="CNY")


def test_score_sums_rules_and_maps_to_levels() -> None:
    policy, rules = setup()
    assert policy.level_for(0) is RiskLevel.NONE
    assert policy.level_for(299) is RiskLevel.LOW
    assert policy.level_for(300) is RiskLevel.MEDIUM
    assert policy.level_for(850) is RiskLevel.CRITICAL
    assessment = policy.assess(EventType.LOGIN, ctx(), [rules["a"], rules["b"]])
    assert (assessment.score, assessment.level) == (400, RiskLevel.MEDIUM)


def test_a_floor_raises_the_level_without_changing_the_score() -> None:
    policy, rules = setup()
    assessment = policy.assess(EventType.LOGIN, ctx(), [rules["c"]])
    assert assessment.score == 100
    assert assessment.level is RiskLevel.CRITICAL
    assert assessment.verdict is Verdict.BLOCK
    assert "freeze_account" in assessment.actions


def test_reasons_are_ordered_by_weight() -> None:
    policy, rules = setup()
    assessment = policy.assess(EventType.LOGIN, ctx(), [rules["a"], rules["b"]])
    assert [r.code for r in assessment.reasons] == ["B", "A"]


def test_medium_money_out_is_challenged_with_money_held() -> None:
    policy, rules = setup()
    withdrawal = ctx(EventFactory().withdraw(amount="100"))
    assessment = policy.assess(EventType.WITHDRAWAL, withdrawal, [rules["b"], rules["a"]])
    assert assessment.verdict is Verdict.CHALLENGE
    assert "hold_funds" in assessment.actions
    assert "step_up:sms_otp" in assessment.actions


def test_after_a_sim_change_the_step_up_is_the_face_not_an_sms() -> None:
    policy, rules = setup()
    factory = EventFactory()
    document = factory.withdraw(amount="100")
    changed = decode_event(document).ts - 3600
    assessment = policy.assess(
        EventType.WITHDRAWAL, ctx(document, last_sim_change_ts=changed), [rules["b"], rules["a"]]
    )
    assert assessment.step_up == "face"
    assert "step_up:face" in assessment.actions


def test_a_risk_step_up_cannot_fix_goes_to_review() -> None:
    policy, rules = setup()
    assessment = policy.assess(EventType.WITHDRAWAL, ctx(), [rules["mule"]])
    assert assessment.verdict is Verdict.REVIEW
    assert "open_case" in assessment.actions
    assert not any(a.startswith("step_up:") for a in assessment.actions)


def test_policy_errors_say_where() -> None:
    broken = default_policy_text().replace("medium: 300", "medium: 30000")
    with pytest.raises(ConfigurationError, match=r"thresholds\.medium"):
        parse_policy(broken, RuleCatalogue(), source="p.yaml")
    unordered = default_policy_text().replace("medium: 300", "medium: 50")
    with pytest.raises(ConfigurationError, match="increasing order"):
        parse_policy(unordered, RuleCatalogue())
    bad_action = default_policy_text().replace(
        "actions: [hold_funds]}", "actions: [hold_everything]}"
    )
    with pytest.raises(ConfigurationError, match=r"matrix\.money_out\.medium"):
        parse_policy(bad_action, RuleCatalogue())


def test_default_ruleset_and_policy_fit_together() -> None:
    policy, _ = setup()
    load_rules(None)
    assert policy.version
