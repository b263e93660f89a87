"""Conformance runs: the mock tests the MIS (CONTRACT §10)."""
