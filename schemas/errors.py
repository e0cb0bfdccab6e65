"""The one error shape every tool and service returns: a machine-readable code, the field, a sentence."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ErrorCode(StrEnum):
    INVALID_ARGUMENT = "invalid_argument"  # the input is malformed; `field` says which
    NOT_FOUND = "not_found"  # no such thing for this customer (also used for other customers' things)
    POLICY_VIOLATION = "policy_violation"  # allowed in general, refused by docs/policy.md here
    CONFIRMATION_INVALID = "confirmation_invalid"  # forged, or bound to other customer/tool/arguments
    CONFIRMATION_EXPIRED = "confirmation_expired"
    CONFIRMATION_USED = "confirmation_used"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"  # same key, different arguments
    FORBIDDEN = "forbidden"  # outside the caller's scope
    CONFLICT = "conflict"  # the state changed under us; re-read and try again
    UNAVAILABLE = "unavailable"  # a dependency (database, model) is down; safe to retry later


class ToolErrorInfo(BaseModel):
    """Serialised into the text of an MCP tool error so that both models and programs can read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: ErrorCode
    field: str | None = Field(default=None, description="The input field at fault, dotted for nested fields")
    message: str = Field(min_length=1, description="What went wrong and what to do next, in one sentence")
