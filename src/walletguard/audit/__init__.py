"""The tamper-evident audit log: hash-chained records of every state change."""
