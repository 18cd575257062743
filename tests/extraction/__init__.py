"""Extraction tests (issue 3)."""
