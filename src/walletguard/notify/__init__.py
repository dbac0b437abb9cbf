"""Telling users what happened: the notification outbox."""
