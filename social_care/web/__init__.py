"""The web inbox."""
