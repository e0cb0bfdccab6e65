"""The eval lab's records, validated where they cross a boundary (a dataset file, a config file, the database)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.categories import Category


class LabError(ValueError):
    """Something in the eval lab a person can fix (a config, a dataset, a version); the message says what."""


class Expected(BaseModel):
    """What a good first answer to the ticket does."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    actions: list[str] = Field(default_factory=list, description="Action tools it should propose (not execute)")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Arguments of that action the message states")
    language: str = Field(pattern=r"^[a-z]{2}$")


class DatasetItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    messages: list[str] = Field(min_length=1, description="The customer's message(s), in order")
    channel: str
    customer_email: str | None = Field(default=None, description="The contact's e-mail, as Chatwoot would pass it")
    customer_id: int | None = None
    expected: Expected
    reference: str | None = Field(default=None, description="The best human answer to the ticket")
    metadata: dict[str, Any] = Field(default_factory=dict)


class Proposed(BaseModel):
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Answer(BaseModel):
    """What the orchestrator did with one dataset item under one config."""

    category: Category | None = None
    decision: str | None = None
    reply: str = ""
    proposed: list[Proposed] = Field(default_factory=list)
    executed: list[str] = Field(default_factory=list, description="Actions taken without a yes (must stay empty)")
    awaiting: bool = False
    cost_usd: float = 0.0
    latency_ms: int = 0
    trace_id: str | None = None
    error: str | None = None


class ItemResult(BaseModel):
    config: str
    item_id: str
    expected_category: Category
    answer: Answer
    scores: dict[str, float | None] = Field(default_factory=dict)
    judge_notes: dict[str, str] = Field(default_factory=dict)
