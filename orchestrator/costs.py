"""Token usage and what it costs: the reviewed price table (`prices.toml`), per-model usage of one turn, and a
`Model` wrapper that records every model call's usage into the turn being run.

Usage is recorded where it happens (router, brain, fallback, judge) into the current turn's record (a context
variable set by the pipeline around one turn), so no layer has to thread it back up by hand.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from agents import Model, ModelSettings, ModelTracing
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.retry import ModelRetryAdvice, ModelRetryAdviceRequest
from agents.tool import Tool
from agents.usage import Usage
from openai.types.responses.response_prompt_param import ResponsePromptParam
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

PRICES_PATH = Path(__file__).with_name("prices.toml")
PER_TOKENS = 1_000_000

Provider = Literal["openai", "anthropic"]


class ModelPrice(BaseModel):
    """USD per 1M tokens of each kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    input: float = Field(ge=0)
    cached_input: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    output: float = Field(ge=0)
    thinking: float = Field(ge=0)
    source: str = Field(min_length=8)


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewed_on: date
    reviewed_by: str = Field(min_length=1)
    currency: Literal["USD"]
    models: dict[str, ModelPrice]

    def price_of(self, model: str) -> ModelPrice | None:
        """The row for a model name, or for a dated snapshot of it ('claude-sonnet-4-5-20250929',
        'gpt-5.1-2025-11-13'); another model sharing a prefix ('gpt-5.1-mini') is not priced as this one."""
        if model in self.models:
            return self.models[model]
        snapshot = re.fullmatch(r"(.+)-(\d{8}|\d{4}-\d{2}-\d{2})", model)
        return self.models.get(snapshot.group(1)) if snapshot else None

    def missing(self, models: set[str]) -> list[str]:
        return sorted(name for name in models if self.price_of(name) is None)


@cache
def load_prices(path: Path = PRICES_PATH) -> PriceTable:
    return PriceTable.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


@dataclass
class ModelUsage:
    """One model's tokens in one turn. `input_tokens` includes cached and cache-write tokens; `output_tokens`
    includes thinking tokens (both providers count them so, once normalised by the adapters)."""

    model: str
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0

    def add(self, usage: Usage) -> None:
        self.requests += usage.requests
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        details = usage.input_tokens_details
        self.cached_input_tokens += getattr(details, "cached_tokens", 0) or 0
        self.cache_write_tokens += getattr(details, "cache_write_tokens", 0) or 0
        self.thinking_tokens += getattr(usage.output_tokens_details, "reasoning_tokens", 0) or 0

    def cost(self, prices: PriceTable) -> float:
        price = prices.price_of(self.model)
        if price is None:
            # Start-up refuses a configuration naming an unpriced model; a scripted test model lands here.
            return 0.0
        fresh_input = max(self.input_tokens - self.cached_input_tokens - self.cache_write_tokens, 0)
        visible_output = max(self.output_tokens - self.thinking_tokens, 0)
        total = (fresh_input * price.input + self.cached_input_tokens * price.cached_input
                 + self.cache_write_tokens * price.cache_write + visible_output * price.output
                 + self.thinking_tokens * price.thinking)
        return total / PER_TOKENS

    def as_json(self, prices: PriceTable) -> dict[str, Any]:
        price = prices.price_of(self.model)
        return {"model": self.model, "provider": price.provider if price else None, "requests": self.requests,
                "input_tokens": self.input_tokens, "cached_input_tokens": self.cached_input_tokens,
                "cache_write_tokens": self.cache_write_tokens, "output_tokens": self.output_tokens,
                "thinking_tokens": self.thinking_tokens, "cost_usd": round(self.cost(prices), 6)}


@dataclass
class TurnRecord:
    """What one turn used (tokens per model) and saw (tool outputs: the evidence its reply may rest on)."""

    usage: dict[str, ModelUsage] = field(default_factory=dict)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (tool, its output as text)

    def record(self, model: str, usage: Usage) -> None:
        self.usage.setdefault(model, ModelUsage(model)).add(usage)

    def cost(self, prices: PriceTable) -> float:
        return round(sum(entry.cost(prices) for entry in self.usage.values()), 6)

    def usage_json(self, prices: PriceTable) -> list[dict[str, Any]]:
        return [entry.as_json(prices) for entry in self.usage.values() if entry.requests]


_current: ContextVar[TurnRecord | None] = ContextVar("levhaolam_turn_record", default=None)


def current_turn() -> TurnRecord | None:
    return _current.get()


@contextlib.contextmanager
def recording() -> Iterator[TurnRecord]:
    """Everything called inside (in this task and the tasks it starts) records into the yielded record."""
    record = TurnRecord()
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)


def note_evidence(source: str, text: str) -> None:
    record = _current.get()
    if record is not None and text:
        record.evidence.append((source, text))


class MeteredModel(Model):
    """Any `Model`, whose every response's usage is recorded under `name` in the current turn."""

    def __init__(self, inner: Model, name: str) -> None:
        self.inner = inner
        self.name = name

    async def get_response(self, system_instructions: str | None, input: str | list[TResponseInputItem],
                           model_settings: ModelSettings, tools: list[Tool],
                           output_schema: AgentOutputSchemaBase | None, handoffs: list[Handoff],
                           tracing: ModelTracing, *, previous_response_id: str | None, conversation_id: str | None,
                           prompt: ResponsePromptParam | None) -> ModelResponse:
        response = await self.inner.get_response(
            system_instructions, input, model_settings, tools, output_schema, handoffs, tracing,
            previous_response_id=previous_response_id, conversation_id=conversation_id, prompt=prompt)
        record = _current.get()
        if record is not None:
            record.record(self.name, response.usage)
        return response

    async def stream_response(self, system_instructions: str | None, input: str | list[TResponseInputItem],
                              model_settings: ModelSettings, tools: list[Tool],
                              output_schema: AgentOutputSchemaBase | None, handoffs: list[Handoff],
                              tracing: ModelTracing, *, previous_response_id: str | None,
                              conversation_id: str | None, prompt: ResponsePromptParam | None
                              ) -> AsyncIterator[TResponseStreamEvent]:
        async for event in self.inner.stream_response(
                system_instructions, input, model_settings, tools, output_schema, handoffs, tracing,
                previous_response_id=previous_response_id, conversation_id=conversation_id, prompt=prompt):
            if event.type == "response.completed" and event.response.usage is not None:
                record = _current.get()
                if record is not None:
                    used = event.response.usage
                    record.record(self.name, Usage(
                        requests=1, input_tokens=used.input_tokens, output_tokens=used.output_tokens,
                        total_tokens=used.total_tokens, input_tokens_details=used.input_tokens_details,
                        output_tokens_details=used.output_tokens_details))
            yield event

    def get_retry_advice(self, request: ModelRetryAdviceRequest) -> ModelRetryAdvice | None:
        return self.inner.get_retry_advice(request)

    async def close(self) -> None:
        await self.inner.close()
