"""Facts an event does not state itself: where, from what network, on which lists."""
