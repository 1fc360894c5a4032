"""Connectors: each source format into the canonical model (see docs/connectors.md)."""
