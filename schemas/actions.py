"""Types of the two-phase action protocol: ask for confirmation, then execute exactly once.

A state-changing tool called without `confirmation_token` changes nothing and returns
`ConfirmationRequired`; the token is single-use and bound to (customer, tool, arguments).
Called again with the token (and the same arguments) it executes and returns `ActionExecuted`.
An `idempotency_key` makes a retry of the executing call return the first result.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IdempotencyKey = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Client-chosen key; a retry with the same key and arguments returns the first result",
    ),
]
ConfirmationToken = Annotated[
    str,
    Field(
        min_length=16,
        max_length=256,
        description="The token from a confirmation_required result, after the customer said yes",
    ),
]


class ConfirmationRequired(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmation_required"] = "confirmation_required"
    tool: str
    summary: str = Field(description="Exactly what will happen, to be shown to the customer word for word")
    confirmation_token: str
    expires_at: datetime
    arguments: dict[str, Any] = Field(description="The arguments the token is bound to")


class ActionExecuted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["executed"] = "executed"
    tool: str
    summary: str = Field(description="What was done, in plain language")
    audit_id: int
    replayed: bool = Field(default=False, description="True when this is the stored result of an earlier call")
    result: dict[str, Any] = Field(default_factory=dict)


class AuditOutcome(StrEnum):
    """Values of action_audit.outcome (mirrored by a CHECK constraint)."""

    EXECUTED = "executed"
    REFUSED = "refused"
    CONFIRMATION_REQUESTED = "confirmation_requested"
    REPLAYED = "replayed"
