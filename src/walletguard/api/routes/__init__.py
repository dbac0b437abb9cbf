"""One router per area; each endpoint names the permission it needs."""
