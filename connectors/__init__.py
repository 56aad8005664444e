"""Connectors: one module per platform, platform I/O only (see :mod:`connectors.base`)."""
