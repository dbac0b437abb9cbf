"""Maker-checker approvals: a sensitive action waits until people other than the one who
asked for it have approved it."""
