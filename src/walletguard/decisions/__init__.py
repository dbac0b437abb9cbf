"""The policy and the engine that runs the whole pipeline for one event."""
