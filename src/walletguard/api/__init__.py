"""The HTTP door: versioned JSON endpoints over the same services as the command line."""
