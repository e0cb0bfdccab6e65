"""One conversation turn over the orchestrator's HTTP API: a customer's message in, a reply out.

The bridge (Chatwoot), the local chat page and `levhaolam chat` all speak this; the orchestrator persists it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.categories import Category
from schemas.domain import Channel
from schemas.inputs import NoControlCharacters

ConversationRef = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$",
                                       description="The caller's id of the conversation, e.g. 'cw-4242'")]
MessageRef = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$",
                                  description="The caller's id of this message; a retry with the same id replays")]

MAX_TEXT = 4000  # longer messages are refused: a customer message is not a document


class Decision(StrEnum):
    """What the eval gate decided for a reply (mirrored by a CHECK constraint on turns.decision)."""

    AUTO_SEND = "auto_send"  # send to the customer as is
    DRAFT = "draft"  # a human reviews it before it is sent
    ESCALATE = "escalate"  # a human takes the conversation over


class Contact(BaseModel):
    """Who the channel says is writing. The e-mail identifies the customer and is said back to them, so it must be
    an address; a caller holding a malformed one (a CRM's junk field) leaves it out rather than send it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(max_length=200), NoControlCharacters] = None
    email: EmailStr | None = Field(default=None, max_length=320)
    phone: Annotated[str | None, Field(max_length=40), NoControlCharacters] = None


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    content_type: str = Field(min_length=3, max_length=100, pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$")


class TurnRequest(BaseModel):
    """A customer's message (text, a button they pressed, attachments) in one conversation."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: ConversationRef
    message_id: MessageRef
    channel: Channel = Channel.API
    contact: Contact = Field(default_factory=Contact)
    text: Annotated[str | None, Field(max_length=MAX_TEXT), NoControlCharacters] = None
    button_value: Annotated[str | None, Field(max_length=200, description="The value of a button pressed"),
                            NoControlCharacters] = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _says_something(self) -> TurnRequest:
        if not (self.text and self.text.strip()) and not self.button_value and not self.attachments:
            # Raised as a validation error of `text`, so that the caller's error names a field.
            raise ValidationError.from_exception_data(type(self).__name__, [InitErrorDetails(
                type=PydanticCustomError("no_content", "a turn needs text, a button_value or attachments"),
                loc=("text",), input=self.text)])
        return self


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=80)
    value: str = Field(min_length=1, max_length=200)


class ActionTaken(BaseModel):
    """An action the platform performed in this turn, after the customer confirmed it."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    summary: str
    audit_id: int | None = None


class TurnResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: str
    buttons: list[Button] = Field(default_factory=list)
    actions_taken: list[ActionTaken] = Field(default_factory=list)
    decision: Decision
    reasons: list[str] = Field(default_factory=list, description="Why the gate decided so, machine-readable")
    category: Category
    secondary: Category | None = None
    trace_id: str
    cost: float = Field(default=0.0, ge=0, description="Model cost of this turn in USD")
    replayed: bool = Field(default=False, description="True when this is the stored answer to a retried message")
