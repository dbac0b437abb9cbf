"""Shared building blocks with no I/O: money, time, errors, canonical encoding."""
