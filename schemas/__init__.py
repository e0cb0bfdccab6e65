"""Shared pydantic models: the vocabulary every server, the orchestrator and the bridge agree on."""

from schemas.categories import Category, Urgency, parse_category
from schemas.routing import RouterOutput

__all__ = ["Category", "Urgency", "RouterOutput", "parse_category"]
