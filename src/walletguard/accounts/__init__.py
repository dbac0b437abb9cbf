"""Account security: states and their transitions."""
