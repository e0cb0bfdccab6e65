"""The eval lab: datasets from past tickets, experiments comparing orchestrator configs, judges, reports."""
