"""The router: a small model with structured output when a key is set, the shipped classifier otherwise.

The model router falls back to the offline one when the model fails, so a provider outage never stops routing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from agents import Agent, Model, ModelSettings, RunConfig, Runner
from agents.exceptions import AgentsException
from openai import OpenAIError
from openai.types.shared import Reasoning

import telemetry
from orchestrator.categories import RouterConfig
from orchestrator.router_offline import load_offline_router
from schemas.routing import RouterOutput

log = logging.getLogger(__name__)

ROUTER_INSTRUCTIONS = """You classify one customer message of Lev Haolam, a monthly subscription box of Israeli
products shipped worldwide. Categories: general_question (products, box contents, kosher, allergens, gifts, how
things work), shipping_inquiry (where is my box, tracking, delivery times, customs, lost package), change_address,
change_frequency (how often boxes come), skip_month (skip one box), damaged_item (broken, leaking, spoiled or wrong
item), payment_issue (charges, refunds of charges, cards, invoices), pause_subscription (stop for some months),
cancel_subscription (stop for good), other (anything else, greetings only, spam, asking for a person).
primary: the main request; secondary: a second, different request in the same message, else null.
urgency: critical for threats of chargeback or legal action, fraud or a health problem; high when angry or
time-critical; low for casual questions; medium otherwise. email: the first e-mail address in the message, else
null. language: ISO 639-1 code of the message. confidence: your probability that primary is right."""


class Router(Protocol):
    async def route(self, text: str) -> RouterOutput: ...


class OfflineRouting:
    """The shipped classifier (trained at first use, then ~1 ms a message)."""

    async def route(self, text: str) -> RouterOutput:
        return load_offline_router().route(text)

    async def warm(self) -> None:
        await asyncio.to_thread(load_offline_router)


class ModelRouting:
    def __init__(self, model: Model, config: RouterConfig, fallback: OfflineRouting | None = None) -> None:
        settings = ModelSettings(reasoning=Reasoning(effort=config.reasoning_effort.value))
        self._agent = Agent(name="router", instructions=ROUTER_INSTRUCTIONS, model=model, model_settings=settings,
                            output_type=RouterOutput)
        self._fallback = fallback or OfflineRouting()

    async def route(self, text: str) -> RouterOutput:
        try:
            result = await Runner.run(self._agent, text, max_turns=1,
                                      run_config=RunConfig(tracing_disabled=not telemetry.exporting(),
                                                             workflow_name="router"))
            output: RouterOutput = result.final_output_as(RouterOutput, raise_if_incorrect_type=True)
            return output
        except (AgentsException, OpenAIError, TypeError, ValueError) as exc:
            log.warning("model router failed (%s); routing offline", type(exc).__name__)
            return await self._fallback.route(text)
