"""Per-customer memory across conversations: preferences (language, channel), past problems, actions taken, and
retention offers already made (a discount is offered once per customer, ever). Written after each turn of an
identified customer; read at the start of the next turn and given to the brain (the offline playbooks use the
offers; the model prompt gets all of it as a layer of context)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from schemas.categories import Category
from schemas.turns import ActionTaken
from store import customer_memory as store
from store.customer_memory import MemoryRow

LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "he": "Hebrew", "es": "Spanish", "de": "German", "fr": "French"}
# Offers a customer may get only once, ever: the policy's one-time discount.
ONCE_PER_CUSTOMER = {"discount"}
MIN_TEXT_FOR_LANGUAGE = 12  # shorter messages do not show a language reliably


@dataclass(frozen=True)
class CustomerMemory:
    rows: list[MemoryRow] = field(default_factory=list)

    @property
    def offers_made(self) -> set[str]:
        return {row.key.removeprefix("offer:") for row in self.rows if row.kind == "retention" and row.key}

    def offers_made_before(self, conversation_id: int) -> set[str]:
        """Offers made in earlier conversations (this conversation may talk about its own offer again)."""
        return {row.key.removeprefix("offer:") for row in self.rows
                if row.kind == "retention" and row.key and row.source_conversation_id != conversation_id}

    @property
    def language(self) -> str | None:
        for row in self.rows:
            if row.kind == "preference" and row.key == "language":
                value = row.data.get("language")
                return str(value) if value else None
        return None

    def may_offer(self, kind: str) -> bool:
        return kind not in ONCE_PER_CUSTOMER or kind not in self.offers_made

    def prompt_lines(self) -> list[str]:
        """What the model is told about this customer, newest first, one line each."""
        labels = {"preference": "Preference", "fact": "Done before", "complaint": "Past problem",
                  "retention": "Retention offer already made (never offer it again)"}
        return [f"{labels.get(row.kind, row.kind)}: {row.content}" for row in self.rows[:20]]


async def recall(conn: psycopg.AsyncConnection, customer_id: int) -> CustomerMemory:
    return CustomerMemory(await store.recall(conn, customer_id))


@dataclass(frozen=True)
class TurnFacts:
    customer_id: int
    conversation_id: int
    category: Category
    language: str
    channel: str
    text: str
    today: date
    actions: Sequence[ActionTaken] = ()
    offers: Sequence[dict[str, Any]] = ()  # retention offers shown in this turn
    problem_summary: str | None = None  # the problem this turn dealt with (a claim, a missing box, a charge)


async def remember_turn(conn: psycopg.AsyncConnection, facts: TurnFacts) -> None:
    day = facts.today.isoformat()
    if len(facts.text.strip()) >= MIN_TEXT_FOR_LANGUAGE and facts.language in LANGUAGE_NAMES:
        await store.remember(conn, customer_id=facts.customer_id, kind="preference", key="language",
                             content=f"writes in {LANGUAGE_NAMES[facts.language]}",
                             data={"language": facts.language}, conversation_id=facts.conversation_id)
    if facts.channel not in ("api",):
        await store.remember(conn, customer_id=facts.customer_id, kind="preference", key="channel",
                             content=f"contacts us on {facts.channel.replace('_', ' ')}",
                             data={"channel": facts.channel}, conversation_id=facts.conversation_id)
    for action in facts.actions:
        key = f"action:{action.audit_id}" if action.audit_id is not None else f"action:{action.tool}:{day}"
        await store.remember(conn, customer_id=facts.customer_id, kind="fact", key=key,
                             content=f"{day}: {action.summary}", category=facts.category.value,
                             data={"tool": action.tool, "audit_id": action.audit_id},
                             conversation_id=facts.conversation_id, replace=False)
    if facts.problem_summary:
        words = " ".join(facts.problem_summary.split())[:300]
        await store.remember(conn, customer_id=facts.customer_id, kind="complaint",
                             key=f"problem:{facts.conversation_id}:{facts.category.value}",
                             content=f"{day}, {facts.category.value.replace('_', ' ')}: {words}",
                             category=facts.category.value, conversation_id=facts.conversation_id, replace=False)
    for offer in facts.offers:
        kind = str(offer.get("kind") or "offer")
        await store.remember(conn, customer_id=facts.customer_id, kind="retention", key=f"offer:{kind}",
                             content=f"{day}: {offer.get('description', kind)}", category=facts.category.value,
                             data={"kind": kind, "description": offer.get("description")},
                             conversation_id=facts.conversation_id, replace=False)


_OFFER_MENTIONS: dict[str, tuple[str, ...]] = {
    "pause": ("pause", "приостанов", "paus", "השה", "הקפא"),
    "skip_next_box": ("skip", "пропуст", "omitir", "saltar", "überspring", "דילוג", "לדלג"),
    "lower_frequency": ("two months", "every other month", "раз в два", "cada dos meses", "alle zwei monate",
                        "כל חודשיים"),
    "cheaper_plan": ("classic", "классич", "clásic", "klassik", "קלאסי"),
}


def offers_mentioned(reply: str, offers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which of the offers `get_retention_offers` returned a model-written reply actually makes."""
    lowered = reply.lower()
    made = []
    for offer in offers:
        kind = str(offer.get("kind"))
        if kind == "discount":
            description = str(offer.get("description", ""))
            percent = description.split("%")[0].split()[-1] if "%" in description else ""
            if percent and (f"{percent}%" in lowered or f"{percent} %" in lowered):
                made.append(offer)
        elif any(word in lowered for word in _OFFER_MENTIONS.get(kind, ())):
            made.append(offer)
    return made
