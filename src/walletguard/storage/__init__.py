"""Adapters to SQL (SQLite embedded, PostgreSQL in production) behind the domain ports."""
