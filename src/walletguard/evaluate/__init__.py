"""Replaying events through the engine and measuring how it does."""
