"""The fund-flow and shared-attribute graphs: live features for the engine and batch
detection of mule rings."""
