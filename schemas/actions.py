"""Types of the two-phase action protocol: ask for confirmation, then execute exactly once.

A state-changing tool called without `confirmation_token` changes nothing and answers
`status="confirmation_required"` with a summary to show the customer and a single-use token bound
to (customer, tool, arguments). Called again with that token and the same arguments, it executes and
answers `status="executed"`. An `idempotency_key` makes a retry of the executing call return the
first result instead of acting twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

IdempotencyKey = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Optional client-chosen key (8-128 of A-Z a-z 0-9 . _ : -); a retry with the same key and "
        "arguments returns the first result instead of acting twice",
    ),
]
ConfirmationToken = Annotated[
    str,
    Field(
        min_length=16,
        max_length=256,
        description="Leave empty on the first call. After the customer explicitly agreed to the summary, call "
        "again with the same arguments and the confirmation_token from the first answer",
    ),
]


class AuditOutcome(StrEnum):
    """Values of action_audit.outcome (mirrored by a CHECK constraint)."""

    EXECUTED = "executed"
    REFUSED = "refused"
    CONFIRMATION_REQUESTED = "confirmation_requested"
    REPLAYED = "replayed"


ResultT = TypeVar("ResultT", bound=BaseModel)


class ActionResponse(BaseModel, Generic[ResultT]):
    """The answer of every state-changing tool."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmation_required", "executed"]
    tool: str
    summary: str = Field(description="confirmation_required: exactly what will happen, to show the customer word "
                                     "for word; executed: what was done")
    confirmation_token: str | None = Field(default=None, description="Single-use; only with confirmation_required")
    expires_at: datetime | None = Field(default=None, description="When the confirmation token stops working")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The arguments the token is bound to")
    audit_id: int | None = Field(default=None, description="The audit log entry of the executed action")
    replayed: bool = Field(default=False, description="True when this is the stored result of an earlier call")
    result: ResultT | None = Field(default=None, description="The changed record, once executed")
