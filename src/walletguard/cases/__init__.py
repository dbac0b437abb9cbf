"""Alerts, cases and the review queue."""
