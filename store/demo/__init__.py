"""Deterministic, realistic demo data for every table of the store."""
