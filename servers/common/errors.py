"""Tool errors in one shape: `ToolErrorInfo` serialised as JSON in the MCP error text."""

from __future__ import annotations

import logging

from fastmcp.exceptions import ToolError
from pydantic import ValidationError as PydanticValidationError

from schemas.errors import ErrorCode, ToolErrorInfo

# A field path echoes what the caller wrote (an unknown argument's name), and so may a message ("unknown namespace
# '...'"): keep what goes back and into the audit log short, whatever was sent. A long message keeps its end, where
# it says what to do next.
MAX_FIELD_CHARS = 120
MAX_MESSAGE_CHARS = 1500


class ToolFailure(ToolError):
    """Raised by tools and the action engine; the client sees `info` as JSON, never a traceback."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None, *, always_audit: bool = False
                 ) -> None:
        if field is not None and len(field) > MAX_FIELD_CHARS:
            field = field[:MAX_FIELD_CHARS] + "…"
        if len(message) > MAX_MESSAGE_CHARS:
            message = f"{message[:MAX_MESSAGE_CHARS // 2]} … {message[-MAX_MESSAGE_CHARS // 2:]}"
        self.info = ToolErrorInfo(code=code, field=field, message=message)
        self.audited = False  # set once the refusal is in the audit log, so it is written once
        # Access refusals are audited for every tool; bad input only for tools that change state.
        self.always_audit = always_audit
        # A refusal or bad input is the tool's answer, not the server failing (and what matters is in the audit log):
        # FastMCP would otherwise log each one as an error, into `levhaolam chat`'s terminal among others.
        super().__init__(self.info.model_dump_json(exclude_none=True), log_level=logging.DEBUG)


def not_found(what: str, field: str) -> ToolFailure:
    # Another customer's record gets exactly this answer too: existence is not disclosed.
    return ToolFailure(ErrorCode.NOT_FOUND, f"{what} was not found for this customer; check the number with the "
                                            "customer or list their records first", field)


def invalid(field: str, message: str) -> ToolFailure:
    return ToolFailure(ErrorCode.INVALID_ARGUMENT, message, field)


def policy(message: str, field: str | None = None) -> ToolFailure:
    return ToolFailure(ErrorCode.POLICY_VIOLATION, message, field)


def from_validation_error(exc: PydanticValidationError) -> ToolFailure:
    """The first problem of a pydantic error, naming the field the way the caller wrote it."""
    first = exc.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"] if part not in ("call", "arguments")]
    # pydantic prefixes the function call name for validate_call-style errors: drop it.
    location = [part for part in location if not part.startswith("call[")]
    field = ".".join(location) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] in ("missing", "missing_argument"):
        message = "this field is required"
    elif first["type"] == "unexpected_keyword_argument":
        message = "this tool has no such argument"
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return invalid(field or "arguments", f"{message}{more}")
