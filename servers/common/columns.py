"""Column lists derived from the shared models, so a SELECT and the model it fills cannot drift apart."""

from __future__ import annotations

from pydantic import BaseModel

from schemas.domain import Subscription


def columns_of(model: type[BaseModel], *, alias: str = "", exclude: frozenset[str] = frozenset()) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{name}" for name in model.model_fields if name not in exclude)


def subscription_columns(alias: str = "") -> str:
    """A subscription's own columns; `skipped_months` comes from subscription_skips."""
    return columns_of(Subscription, alias=alias, exclude=frozenset({"skipped_months"}))
