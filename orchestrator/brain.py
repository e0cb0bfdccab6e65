"""What a brain (the offline playbooks or a model-driven agent) gets for one turn and what it returns.

A brain never executes an action: it proposes one (the server's `confirmation_required` answer) and the pipeline
asks the customer; only a later "yes" makes the pipeline call the tool again with the token.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from orchestrator.categories import CategoryConfig
from orchestrator.learning import Lesson
from orchestrator.memory import CustomerMemory
from orchestrator.tools import ToolOutcome, TurnTools
from schemas.categories import Category
from schemas.turns import ActionTaken, Attachment, Button


@dataclass(frozen=True)
class Proposal:
    """An action waiting for the customer's yes: exactly what the server bound its token to."""

    category: Category
    tool: str
    arguments: dict[str, Any]
    summary: str
    confirmation_token: str
    expires_at: datetime


def proposal_from(outcome: ToolOutcome, category: Category) -> Proposal:
    data = outcome.data
    arguments = {k: v for k, v in data["arguments"].items()}
    return Proposal(category=category, tool=outcome.tool, arguments=arguments, summary=data["summary"],
                    confirmation_token=data["confirmation_token"],
                    expires_at=datetime.fromisoformat(data["expires_at"]))


@dataclass
class BrainInput:
    category: Category
    config: CategoryConfig
    text: str
    language: str
    customer_id: int | None
    tools: TurnTools
    attachments: list[Attachment] = field(default_factory=list)
    button_value: str | None = None
    memory: dict[str, Any] = field(default_factory=dict)  # what earlier turns of this conversation noted
    # What earlier conversations left (the customer's memory) and what staff approved (the category's lessons),
    # read from PostgreSQL while the brain's first tool call is out; None when there is nothing to read.
    recollection: asyncio.Future[tuple[CustomerMemory, list[Lesson]]] | None = None

    async def customer_memory(self) -> CustomerMemory:
        return (await self.recollection)[0] if self.recollection is not None else CustomerMemory()

    async def lessons(self) -> list[Lesson]:
        return (await self.recollection)[1] if self.recollection is not None else []


@dataclass
class BrainReply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    proposal: Proposal | None = None
    gave_up: str | None = None  # set when a person should take over, with the reason
    awaiting: str | None = None  # the detail we asked the customer for (months, frequency, address, photos)
    remember: dict[str, Any] = field(default_factory=dict)  # notes for the next turns of this conversation
    actions_taken: list[ActionTaken] = field(default_factory=list)
    model: str | None = None
    free_text: bool = False  # written by a model or taken from a passage, not from the reviewed phrasebook
    offers_made: list[dict[str, Any]] = field(default_factory=list)  # retention offers this reply makes
    fallbacks: list[str] = field(default_factory=list)  # models that could not answer before this reply's brain
    cost_usd: float = 0.0  # what the model calls behind this reply cost (set by the pipeline from the turn record)


class Brain(Protocol):
    async def handle(self, turn: BrainInput) -> BrainReply: ...
