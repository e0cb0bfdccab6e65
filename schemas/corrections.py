"""A staff correction of an AI draft, as the Chatwoot bridge reports it to the orchestrator (POST /v1/corrections):
what the AI drafted, what the person actually sent. The difference becomes a lesson for the draft's category."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.categories import Category
from schemas.inputs import NoControlCharacters
from schemas.turns import ConversationRef

CORRECTIONS_PATH = "/v1/corrections"


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: ConversationRef
    draft: Annotated[str, Field(min_length=1, max_length=8000,
                                description="The AI's reply exactly as the orchestrator gave it"), NoControlCharacters]
    sent_text: Annotated[str, Field(min_length=1, max_length=8000, description="What the person sent to the customer"),
                         NoControlCharacters]
    staff: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S",
                                description="Who edited it (Chatwoot agent)"), NoControlCharacters]


class CorrectionResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["learned", "already_learned", "unchanged"]
    category: Category
    learning_id: int | None = None
    review: Literal["pending", "approved", "rejected"] | None = Field(
        default=None, description="pending: waits for `levhaolam learnings approve`; approved: used from now on")
    auto_accepted: bool = False
    change_ratio: float = Field(default=0.0, ge=0, le=1, description="How much of the draft changed (0 to 1)")
    lesson: str | None = None
