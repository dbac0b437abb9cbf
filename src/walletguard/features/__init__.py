"""Event-time features: windowed aggregates by entity and per-account behavioural profiles."""
