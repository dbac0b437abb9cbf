"""The rule language, rulesets and the default ruleset."""
